#!/usr/bin/env node
// Times twitter-text 3.1.0's parseTweet over a JSON Lines corpus (one JSON
// string per line), the same corpus internal/tweettext's Go benchmarks use:
//
//   go run ./internal/tweettext/internal/corpus/gencorpus -seed 1 -n 10000 > /tmp/corpus.jsonl
//   node bench/twitter-text-js/bench.js /tmp/corpus.jsonl [rounds]
//
// Prints, per round, ns per tweet for two workloads, in Go benchmark format
// so that benchstat can read them:
//   - parseTweet: the weighted length alone (Go: BenchmarkCount);
//   - check: what psnd's CheckBatch does per line — decode the JSON line,
//     parseTweet, extract mentions and hashtags, encode a JSON result
//     (Go: BenchmarkCheckBatch).
// The first round warms the JIT up and is not printed.
'use strict';
const fs = require('fs');
const twttr = require('twitter-text');

const file = process.argv[2];
const rounds = Number(process.argv[3] || 10);
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
const texts = lines.map((l) => JSON.parse(l));

let sink = 0;
function parseOnly() {
  for (const t of texts) {
    sink += twttr.parseTweet(t).weightedLength;
  }
}
function check() {
  let n = 0;
  for (const line of lines) {
    const text = JSON.parse(line);
    const r = twttr.parseTweet(text);
    const mentions = twttr.extractMentions(text).length;
    const hashtags = twttr.extractHashtags(text).length;
    n++;
    sink += JSON.stringify({
      line: n, weighted_length: r.weightedLength, max_length: 280, valid: r.valid,
      warnings: mentions > 10 || hashtags > 5 ? ['x'] : [], errors: [], permillage: r.permillage,
      mentions, hashtags,
    }).length;
  }
}
function time(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / texts.length;
}
time(parseOnly);
time(check);
for (let r = 0; r < rounds; r++) {
  console.log(`BenchmarkJSParseTweet 1 ${time(parseOnly).toFixed(0)} ns/tweet`);
  console.log(`BenchmarkJSCheck 1 ${time(check).toFixed(0)} ns/tweet`);
}
if (sink === -1) console.log(sink);
