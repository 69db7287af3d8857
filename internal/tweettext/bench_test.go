package tweettext

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
)

// Benchmarks over the deterministic realistic corpus (seed 1), the same
// that bench/twitter-text-js/bench.js times; see BENCHMARKS-text.md.
// Each reports ns/tweet.

const benchSeed, benchTweets = 1, 10000

func benchCorpus() []string { return corpus.Generate(benchSeed, benchTweets, corpus.Realistic) }

func BenchmarkCount(b *testing.B) {
	texts := benchCorpus()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, t := range texts {
			n += Parse(t).WeightedLength
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/tweet")
}

// BenchmarkCountReused is the counting loop of CheckBatch: one parser
// for all texts.
func BenchmarkCountReused(b *testing.B) {
	texts := benchCorpus()
	var p parser
	c := configV3()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, t := range texts {
			p.parse(t, c)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/tweet")
}

func BenchmarkCountASCII(b *testing.B) {
	text := "Just shipped the new release, with faster startup and fewer bugs. Thanks to everyone who tested it!"
	b.ReportAllocs()
	for b.Loop() {
		Parse(text)
	}
}

func BenchmarkCheck(b *testing.B) {
	texts := benchCorpus()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, t := range texts {
			Check(t, CheckOptions{})
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/tweet")
}

func BenchmarkCheckBatch(b *testing.B) {
	var in bytes.Buffer
	if err := corpus.WriteJSONL(&in, benchCorpus()); err != nil {
		b.Fatal(err)
	}
	data := in.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := CheckBatch(context.Background(), bytes.NewReader(data), io.Discard, CheckOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTweets), "ns/tweet")
}

func BenchmarkSplit(b *testing.B) {
	texts := benchCorpus()
	var buf bytes.Buffer
	for _, t := range texts[:2000] {
		buf.WriteString(t)
		buf.WriteString("\n\n")
	}
	text := buf.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Split(text, SplitOptions{Number: true}); err != nil {
			b.Fatal(err)
		}
	}
}
