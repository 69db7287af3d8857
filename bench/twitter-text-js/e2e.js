#!/usr/bin/env node
// The JavaScript side of the end-to-end text comparison (e2e.sh): times
// twitter-text 3.1.0's parseTweet in process over a JSON Lines corpus
// (one JSON string per line), one thread, once per text per pass.
//
//   node bench/twitter-text-js/e2e.js corpus.jsonl [passes]
//
// Prints, in Go benchmark format, the time of one pass over all the texts:
//   BenchmarkJSParseTweetCold: the first pass (cold JIT), and
//   BenchmarkJSParseTweetWarm: each later pass (warm JIT),
// as wall time (ns/op) and as the CPU time node used meanwhile (cpu-ns/op:
// user + system of the whole process, so it includes the JIT compiler's
// and garbage collector's helper threads).
// Reading and JSON-decoding the file, and node's start, are not counted:
// this is the most favourable measure of twitter-text.
'use strict';
const fs = require('fs');
const twttr = require('twitter-text');

const file = process.argv[2];
const passes = Number(process.argv[3] || 5);
const texts = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

let sink = 0;
function pass() {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const t of texts) {
    sink += twttr.parseTweet(t).weightedLength;
  }
  const wall = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpu0);
  return `${wall} ns/op ${(cpu.user + cpu.system) * 1000} cpu-ns/op`;
}
console.log(`BenchmarkJSParseTweetCold 1 ${pass()} ${texts.length} texts`);
for (let i = 0; i < passes; i++) {
  console.log(`BenchmarkJSParseTweetWarm 1 ${pass()} ${texts.length} texts`);
}
if (sink === -1) console.log(sink);
