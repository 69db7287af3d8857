#!/usr/bin/env bash
# Reproducible Go vs twitter-text (JavaScript) comparison on one corpus.
#
#   bash bench/twitter-text-js/compare.sh [rounds]   # from the repository root
#
# Needs node with `npm install` done in bench/twitter-text-js. Writes
# /tmp/psnd-bench/{corpus.jsonl,go.txt,js.txt} and prints benchstat tables
# (benchstat via `go run golang.org/x/perf/cmd/benchstat@latest`).
# Go and JS rounds alternate so that load on the machine hits both alike.
set -euo pipefail
rounds=${1:-6}
out=/tmp/psnd-bench
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
go run ./internal/tweettext/internal/corpus/gencorpus -seed 1 -n 10000 > "$out/corpus.jsonl"
go test -c -o "$out/tweettext.test" ./internal/tweettext
: > "$out/go.txt"; : > "$out/go1.txt"; : > "$out/js.txt"
for ((i = 0; i < rounds; i++)); do
  "$out/tweettext.test" -test.run '^$' -test.bench 'Count$|CountReused|CheckBatch' -test.benchmem -test.cpu 1 >> "$out/go1.txt"
  "$out/tweettext.test" -test.run '^$' -test.bench 'CheckBatch' -test.benchmem >> "$out/go.txt"
  node "$here/bench.js" "$out/corpus.jsonl" 1 >> "$out/js.txt"
done
bs() { go run golang.org/x/perf/cmd/benchstat@latest "$@"; }
echo "== Go, one CPU (GOMAXPROCS=1)"; bs "$out/go1.txt"
echo "== Go CheckBatch, all CPUs"; bs "$out/go.txt"
echo "== JavaScript twitter-text 3.1.0"; bs "$out/js.txt"
