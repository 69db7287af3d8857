package tweettext

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/testutil"
	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
)

// Differential tests against the real twitter-text 3.1.0 (JavaScript),
// through bench/twitter-text-js/parse.js. They need node and an installed
// harness (`npm install` in bench/twitter-text-js) and skip otherwise, or
// fail under PSN_REQUIRE_JS=1. PSN_JS_DIFF_N scales the random corpora,
// PSN_JS_DIFF_SEED picks another seed, and PSN_JS_DIFF_LIST=1 prints every
// differing text's code points to stderr.

type jsResult struct {
	WeightedLength    int     `json:"weightedLength"`
	Valid             bool    `json:"valid"`
	Permillage        int     `json:"permillage"`
	DisplayRangeStart int     `json:"displayRangeStart"`
	DisplayRangeEnd   int     `json:"displayRangeEnd"`
	ValidRangeStart   int     `json:"validRangeStart"`
	ValidRangeEnd     int     `json:"validRangeEnd"`
	URLs              [][]any `json:"urls"`
	Mentions          [][]any `json:"mentions"`
	Hashtags          [][]any `json:"hashtags"`
}

func runJS(t *testing.T, texts []string) []jsResult {
	t.Helper()
	root, err := testutil.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "bench", "twitter-text-js")
	_, errMod := os.Stat(filepath.Join(dir, "node_modules", "twitter-text"))
	node, errNode := exec.LookPath("node")
	if errMod != nil || errNode != nil {
		if os.Getenv("PSN_REQUIRE_JS") == "1" {
			t.Fatalf("JS harness unavailable (node: %v, module: %v)", errNode, errMod)
		}
		t.Skip("JS harness not installed: cd bench/twitter-text-js && npm install")
	}
	var in bytes.Buffer
	if err := corpus.WriteJSONL(&in, texts); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "parse.js")
	cmd.Dir = dir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node parse.js: %v\n%s", err, stderr.String())
	}
	var res []jsResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var r jsResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("decode JS output: %v", err)
		}
		res = append(res, r)
	}
	if len(res) != len(texts) {
		t.Fatalf("JS returned %d results for %d texts", len(res), len(texts))
	}
	return res
}

func jsDiffN(def int) int {
	if v, err := strconv.Atoi(os.Getenv("PSN_JS_DIFF_N")); err == nil && v > 0 {
		return v
	}
	return def
}

// goView computes what the JS harness reports, in the same shapes.
func goView(text string) jsResult {
	c := configV3()
	c.emoji = emojiTwitterText
	n := parseWith(text, c)
	u := appendUTF16(nil, text)
	r := jsResult{
		WeightedLength: n.WeightedLength, Valid: n.Valid, Permillage: n.Permillage,
		DisplayRangeStart: n.DisplayRangeStart, DisplayRangeEnd: n.DisplayRangeEnd,
		ValidRangeStart: n.ValidRangeStart, ValidRangeEnd: n.ValidRangeEnd,
	}
	urls := extractURLs(u, nil)
	r.URLs = [][]any{}
	for _, s := range urls {
		r.URLs = append(r.URLs, []any{urlText(u, s), float64(s.start), float64(s.end)})
	}
	r.Mentions = [][]any{}
	for _, m := range extractMentionsOrLists(u, nil) {
		if m.end == m.nameEnd {
			r.Mentions = append(r.Mentions, []any{utf16Text(u, m.start+1, m.nameEnd), float64(m.start), float64(m.end)})
		}
	}
	r.Hashtags = [][]any{}
	for _, h := range extractHashtagSpans(u, urls, nil) {
		r.Hashtags = append(r.Hashtags, []any{utf16Text(u, h.start+1, h.end), float64(h.start), float64(h.end)})
	}
	return r
}

func diffAgainstJS(t *testing.T, name string, texts []string) {
	t.Helper()
	js := runJS(t, texts)
	bad := 0
	for i, text := range texts {
		g := goView(text)
		if msg := compareJS(g, js[i]); msg != "" {
			bad++
			if bad <= 15 {
				t.Errorf("%s #%d %q: %s", name, i, text, msg)
			}
			if os.Getenv("PSN_JS_DIFF_LIST") != "" {
				fmt.Fprintf(os.Stderr, "DIFF %U go=%d js=%d\n", []rune(text), g.WeightedLength, js[i].WeightedLength)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d texts differ from twitter-text", name, bad, len(texts))
	} else {
		t.Logf("%s: %d texts identical to twitter-text", name, len(texts))
	}
}

func compareJS(g, j jsResult) string {
	if g.WeightedLength != j.WeightedLength || g.Valid != j.Valid || g.Permillage != j.Permillage ||
		g.DisplayRangeStart != j.DisplayRangeStart || g.DisplayRangeEnd != j.DisplayRangeEnd ||
		g.ValidRangeStart != j.ValidRangeStart || g.ValidRangeEnd != j.ValidRangeEnd {
		gc, jc := g, j
		gc.URLs, jc.URLs, gc.Mentions, jc.Mentions, gc.Hashtags, jc.Hashtags = nil, nil, nil, nil, nil, nil
		return fmt.Sprintf("count\n go %+v\n js %+v\n go urls %v\n js urls %v", gc, jc, g.URLs, j.URLs)
	}
	eq := func(a, b [][]any) bool {
		return slices.EqualFunc(a, b, func(x, y []any) bool { return fmt.Sprint(x) == fmt.Sprint(y) })
	}
	if !eq(g.URLs, j.URLs) {
		return fmt.Sprintf("urls\n go %v\n js %v", g.URLs, j.URLs)
	}
	if !eq(g.Mentions, j.Mentions) {
		return fmt.Sprintf("mentions\n go %v\n js %v", g.Mentions, j.Mentions)
	}
	if !eq(g.Hashtags, j.Hashtags) {
		return fmt.Sprintf("hashtags\n go %v\n js %v", g.Hashtags, j.Hashtags)
	}
	return ""
}

func TestJSDiffRandomCorpora(t *testing.T) {
	n := jsDiffN(20000)
	seed := uint64(7)
	if v, err := strconv.ParseUint(os.Getenv("PSN_JS_DIFF_SEED"), 10, 64); err == nil {
		seed = v
	}
	diffAgainstJS(t, "adversarial", corpus.Generate(seed, n, corpus.Adversarial))
	diffAgainstJS(t, "realistic", corpus.Generate(seed+1, n/4, corpus.Realistic))
}

// TestJSDiffEmoji checks every generated sequence, in many contexts and
// variants, against twemoji-parser's matching (as weights).
func TestJSDiffEmoji(t *testing.T) {
	var texts []string
	tones := []string{"\U0001F3FB", "\U0001F3FF"}
	for _, e := range emojiSequences {
		s := e.s
		texts = append(texts, s, "a"+s+"b", s+"\ufe0f", s+"\ufe0e", s+tones[0], s+"\u200d"+s, s+s)
		// Drop or add variation selectors and joiners.
		rs := []rune(s)
		for i := range rs {
			texts = append(texts, string(slices.Delete(slices.Clone(rs), i, i+1)))
		}
		texts = append(texts, string(rs[:len(rs)-1])+"\ufe0e")
	}
	// Single emoji code points with variants (text-default ones matter).
	for r := rune(0xA9); r < 0x1FAFF; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		if r > 0x3300 && r < 0x1F000 {
			r = 0x1F000
		}
		s := string(r)
		texts = append(texts, s+"\ufe0f", s+"\ufe0f"+tones[1], s+tones[1], s+"\ufe0e"+tones[1], s+"\u200d\u2640\ufe0f", s+"\ufe0f\u200d\u2642\ufe0f", s+tones[0]+"\u200d\u2640\ufe0f")
	}
	// Random concatenations.
	r := rand.New(rand.NewPCG(1, 2))
	for range jsDiffN(20000) / 2 {
		var b []byte
		for k := 1 + r.IntN(5); k > 0; k-- {
			b = append(b, emojiSequences[r.IntN(len(emojiSequences))].s...)
			if r.IntN(3) == 0 {
				b = append(b, []string{"\ufe0f", "\ufe0e", "\u200d", "x", " ", "1", "#", "\u20e3", "\U0001F3FD"}[r.IntN(9)]...)
			}
		}
		texts = append(texts, string(b))
	}
	diffAgainstJS(t, "emoji", texts)
}

// deliberateDiffs are the named categories in which psnd's verdict on a text
// (Check: weighted length and validity, what a user sees) deliberately
// differs from twitter-text 3.1.0's parseTweet; doc.go explains each. Each
// predicts psnd's verdict from the library's, so a difference outside them,
// or one that does not come out exactly as its category says, fails.
var deliberateDiffs = []struct {
	name string
	// predict adjusts the library's verdict (length, valid) as the
	// category says, or reports that it does not apply.
	predict func(text string, js jsResult, length int, valid bool) (int, bool, bool)
}{
	{"newer-emoji", func(text string, js jsResult, length int, valid bool) (int, bool, bool) {
		// Applies only when psnd in twitter-text mode agrees with the
		// library exactly: then the emoji table is the only difference.
		if compareJS(goView(text), js) != "" {
			return length, valid, false
		}
		x := Parse(text)
		if x.WeightedLength == js.WeightedLength {
			return length, valid, false
		}
		if x.WeightedLength > js.WeightedLength {
			return length, valid, false // newer sequences only ever merge code points
		}
		return x.WeightedLength, x.Valid, true
	}},
	{"blank", func(text string, js jsResult, length int, valid bool) (int, bool, bool) {
		if text == "" || !isBlank(text) {
			return length, valid, false
		}
		return 0, false, true // "Tweet is empty": X refuses it
	}},
	{"nul", func(text string, js jsResult, length int, valid bool) (int, bool, bool) {
		if !strings.ContainsRune(text, 0) {
			return length, valid, false
		}
		return length, false, true // X does not store NUL
	}},
}

// TestJSDiffDeliberateDifferences diffs psnd's own verdict (Check with the
// default configuration) against the library: every difference must be
// one of deliberateDiffs, exactly, and every category must occur (so the
// list stays true).
func TestJSDiffDeliberateDifferences(t *testing.T) {
	n := jsDiffN(20000)
	texts := corpus.Generate(11, n/4, corpus.Realistic)
	texts = append(texts, corpus.Generate(12, n/4, corpus.Adversarial)...)
	// Every sequence X counts as one emoji but the library does not, alone
	// and in text.
	for _, e := range emojiSequences {
		if e.flags&seqTwemoji == 0 {
			texts = append(texts, e.s, "Hi "+e.s+" there", e.s+"\U0001F3FD", "\u00a0"+e.s)
		}
	}
	texts = append(texts, " ", "\n\t ", "\u200b", "\u3000\u200b\n", "a\x00b", "\x00", "🐦\u200d🔥\x00", "  \x00  ",
		"🏃🏽\u200d♀️🏾", "👍🏾🏾", "a🏾")
	js := runJS(t, texts)
	seen := map[string]int{}
	for i, text := range texts {
		r := Check(text, CheckOptions{})
		length, valid := js[i].WeightedLength, js[i].Valid
		var applied []string
		for _, d := range deliberateDiffs {
			var ok bool
			if length, valid, ok = d.predict(text, js[i], length, valid); ok {
				applied = append(applied, d.name)
			}
		}
		if r.WeightedLength != length || r.Valid != valid {
			t.Errorf("%q: psnd %d valid=%v, library %d valid=%v, deliberate differences %v predict %d valid=%v",
				text, r.WeightedLength, r.Valid, js[i].WeightedLength, js[i].Valid, applied, length, valid)
			continue
		}
		if r.WeightedLength != js[i].WeightedLength || r.Valid != js[i].Valid {
			for _, a := range applied {
				seen[a]++
			}
		}
	}
	for _, d := range deliberateDiffs {
		if seen[d.name] == 0 {
			t.Errorf("deliberate difference %q never occurred: drop it or test it", d.name)
		}
	}
	t.Logf("%d texts; deliberate differences: %v", len(texts), seen)
}
