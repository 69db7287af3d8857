#!/usr/bin/env node
// Reference oracle for internal/tweettext: reads JSON Lines from stdin (each
// line a JSON string) and writes one JSON object per line with twitter-text
// 3.1.0's parseTweet result for that text, plus the URLs, mentions and
// hashtags it extracts (indices are UTF-16 offsets, as in the library).
//
//   node parse.js [--v2] < in.jsonl > out.jsonl
//
// --v2 uses config v2 (emoji parsing off), matching validate.yml's
// WeightedTweetsCounterTest group.
'use strict';
const readline = require('readline');
const twttr = require('twitter-text');

const v2 = process.argv.includes('--v2');
const config = v2 ? twttr.configs.version2 : twttr.configs.defaults;

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
rl.on('line', (line) => {
  if (line === '') return;
  const text = JSON.parse(line);
  const r = twttr.parseTweet(text, config);
  r.urls = twttr.extractUrlsWithIndices(text).map((u) => [u.url, u.indices[0], u.indices[1]]);
  r.mentions = twttr.extractMentionsWithIndices(text).map((m) => [m.screenName, m.indices[0], m.indices[1]]);
  r.hashtags = twttr.extractHashtagsWithIndices(text).map((h) => [h.hashtag, h.indices[0], h.indices[1]]);
  out.push(JSON.stringify(r));
  if (out.length >= 1024) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
});
rl.on('close', () => {
  if (out.length) process.stdout.write(out.join('\n') + '\n');
});
