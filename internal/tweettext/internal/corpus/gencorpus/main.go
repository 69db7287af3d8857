// Command gencorpus writes a deterministic tweet corpus as JSON Lines (one
// JSON string per line), for the benchmarks and the JavaScript harness:
//
//	go run ./internal/tweettext/internal/corpus/gencorpus -seed 1 -n 100000 > corpus.jsonl
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
)

func main() {
	seed := flag.Uint64("seed", 1, "random seed")
	n := flag.Int("n", 10000, "number of texts")
	adversarial := flag.Bool("adversarial", false, "edge-case mix instead of realistic tweets")
	flag.Parse()
	mix := corpus.Realistic
	if *adversarial {
		mix = corpus.Adversarial
	}
	if err := corpus.WriteJSONL(os.Stdout, corpus.Generate(*seed, *n, mix)); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}
