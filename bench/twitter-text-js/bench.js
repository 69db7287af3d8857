#!/usr/bin/env node
// Times twitter-text 3.1.0's parseTweet over a JSON Lines corpus (one JSON
// string per line), the same corpus internal/tweettext's Go benchmarks use:
//
//   go run ./internal/tweettext/internal/corpus/gencorpus -seed 1 -n 10000 > /tmp/corpus.jsonl
//   node bench/twitter-text-js/bench.js /tmp/corpus.jsonl [rounds]
//
// Prints one line per round: ns per tweet. The first round (JIT warm-up) is
// reported but should be discarded.
'use strict';
const fs = require('fs');
const twttr = require('twitter-text');

const file = process.argv[2];
const rounds = Number(process.argv[3] || 10);
const texts = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

let sink = 0;
for (let r = 0; r < rounds; r++) {
  const start = process.hrtime.bigint();
  for (const t of texts) {
    sink += twttr.parseTweet(t).weightedLength;
  }
  const ns = Number(process.hrtime.bigint() - start);
  console.log(`round ${r} parseTweet ${(ns / texts.length).toFixed(0)} ns/tweet`);
}
if (sink === -1) console.log(sink);
