#!/usr/bin/env bash
# End-to-end text comparison for issue 12: the `psnd check --batch`
# process (start, read 20,000 JSON Lines texts, count and check them, write
# one JSON result a line) against twitter-text 3.1.0's parseTweet in
# process on the identical texts; one thread each (GOMAXPROCS=1 for psnd,
# node runs JavaScript on one thread).
#
#   bash bench/twitter-text-js/e2e.sh [rounds]   # from the repository root
#
# Needs node with `npm install` done in bench/twitter-text-js. Rounds
# alternate psnd and node so that load on the machine hits both alike.
# Prints one line per measurement in Go benchmark format; raw outputs in
# /tmp/psnd-bench/text-e2e.txt.
set -euo pipefail
rounds=${1:-6}
out=/tmp/psnd-bench
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
go run ./internal/tweettext/internal/corpus/gencorpus -seed 1 -n 20000 > "$out/corpus20k.jsonl"
go build -o "$out/psnd" ./cmd/psnd
home=$(mktemp -d /tmp/psnd-text-e2e-XXXXXX)
trap 'rm -rf "$home"' EXIT
: > "$out/text-e2e.txt"
for ((i = 0; i < rounds; i++)); do
  t0=$(date +%s%N)
  PSN_HOME="$home" GOMAXPROCS=1 "$out/psnd" check --batch < "$out/corpus20k.jsonl" > "$out/results.jsonl"
  t1=$(date +%s%N)
  echo "BenchmarkPsndCheckBatchProcess 1 $((t1 - t0)) ns/op" | tee -a "$out/text-e2e.txt"
  t0=$(date +%s%N)
  PSN_HOME="$home" "$out/psnd" check --batch < "$out/corpus20k.jsonl" > "$out/results.jsonl"
  t1=$(date +%s%N)
  echo "BenchmarkPsndCheckBatchProcessAllCPUs 1 $((t1 - t0)) ns/op" | tee -a "$out/text-e2e.txt"
  node "$here/e2e.js" "$out/corpus20k.jsonl" 3 | tee -a "$out/text-e2e.txt"
done
test "$(wc -l < "$out/results.jsonl")" -eq 20000
