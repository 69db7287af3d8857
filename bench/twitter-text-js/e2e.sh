#!/usr/bin/env bash
# End-to-end text comparison for issue 12: the `psnd check --batch`
# process (start, read 20,000 JSON Lines texts, count and check them, write
# one JSON result a line) against twitter-text 3.1.0's parseTweet in
# process on the identical texts; one thread each (GOMAXPROCS=1 for psnd,
# node runs JavaScript on one thread).
#
#   bash bench/twitter-text-js/e2e.sh [rounds] [psnd binary]   # from the repository root
#
# Needs node with `npm install` done in bench/twitter-text-js. Without a
# binary it builds ./cmd/psnd. Rounds alternate psnd and node so that load
# on the machine hits both alike. Prints one line per measurement in Go
# benchmark format (wall ns/op, and cpu-ns/op: user + system CPU time of
# the psnd process, or of node during the pass), then the per-round ratios:
# psnd's whole process against node's fastest pass of that round (its
# first pass is cold, the others warm). Raw outputs in
# /tmp/psnd-bench/text-e2e.txt.
set -euo pipefail
rounds=${1:-6}
out=/tmp/psnd-bench
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
go run ./internal/tweettext/internal/corpus/gencorpus -seed 1 -n 20000 > "$out/corpus20k.jsonl"
psnd=${2:-}
if [ -z "$psnd" ]; then
  CGO_ENABLED=0 go build -o "$out/psnd" ./cmd/psnd   # as `make build` does
  psnd=$out/psnd
fi
home=$(mktemp -d /tmp/psnd-text-e2e-XXXXXX)
trap 'rm -rf "$home"' EXIT
: > "$out/text-e2e.txt"

# run NAME CMD...: times one psnd process with bash's time (getrusage).
run() {
  local name=$1 t
  shift
  TIMEFORMAT='%3R %3U %3S'
  t=$({ time "$@" < "$out/corpus20k.jsonl" > "$out/results.jsonl" 2> "$out/stderr.txt"; } 2>&1)
  echo "$t" | awk -v n="$name" '{ printf "%s 1 %.0f ns/op %.0f cpu-ns/op\n", n, $1 * 1e9, ($2 + $3) * 1e9 }' | tee -a "$out/text-e2e.txt"
}

for ((i = 0; i < rounds; i++)); do
  run BenchmarkPsndCheckBatchProcess env PSN_HOME="$home" GOMAXPROCS=1 "$psnd" check --batch
  run BenchmarkPsndCheckBatchProcessAllCPUs env PSN_HOME="$home" "$psnd" check --batch
  node "$here/e2e.js" "$out/corpus20k.jsonl" 3 | tee -a "$out/text-e2e.txt"
done
test "$(wc -l < "$out/results.jsonl")" -eq 20000

# Per round: node's fastest pass (wall; CPU of that pass) over psnd's
# single-threaded process (wall; CPU).
awk '
  /^BenchmarkPsndCheckBatchProcess / { r++; pw[r] = $3; pc[r] = $5 }
  /^BenchmarkPsndCheckBatchProcessAllCPUs / { aw[r] = $3 }
  /^BenchmarkJSParseTweet/ { if (!(r in jw) || $3 < jw[r]) { jw[r] = $3; jc[r] = $5 } }
  END {
    for (i = 1; i <= r; i++) {
      printf "round %d: psnd %.0f ms (CPU %.0f ms), all CPUs %.0f ms; node fastest pass %.0f ms (CPU %.0f ms): %.1fx wall, %.1fx CPU, all CPUs %.1fx\n",
        i, pw[i] / 1e6, pc[i] / 1e6, aw[i] / 1e6, jw[i] / 1e6, jc[i] / 1e6, jw[i] / pw[i], jc[i] / pc[i], jw[i] / aw[i]
    }
  }' "$out/text-e2e.txt"
