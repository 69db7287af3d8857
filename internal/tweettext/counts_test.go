package tweettext

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

type countCase struct {
	line      int
	x, js     int
	text, why string
}

// loadCounts reads testdata/counts.txt (see its header).
func loadCounts(t *testing.T) []countCase {
	t.Helper()
	f, err := os.Open("testdata/counts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []countCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		xs, rest, _ := strings.Cut(line, " ")
		jss, rest, _ := strings.Cut(rest, " ")
		x, err1 := strconv.Atoi(xs)
		js, err2 := strconv.Atoi(jss)
		if err1 != nil || err2 != nil {
			t.Fatalf("counts.txt:%d: bad counts", n)
		}
		// The JSON string runs up to the last `" #`.
		i := strings.LastIndex(rest, `" #`)
		if i < 0 {
			t.Fatalf("counts.txt:%d: no comment", n)
		}
		var text string
		if err := json.Unmarshal([]byte(rest[:i+1]), &text); err != nil {
			t.Fatalf("counts.txt:%d: %v", n, err)
		}
		cases = append(cases, countCase{n, x, js, text, strings.TrimSpace(rest[i+3:])})
	}
	return cases
}

func TestOwnCounts(t *testing.T) {
	compat := configV3()
	compat.emoji = emojiTwitterText
	for _, c := range loadCounts(t) {
		if got := WeightedLength(c.text); got != c.x {
			t.Errorf("counts.txt:%d %q: Count %d, want %d (%s)", c.line, c.text, got, c.x, c.why)
		}
		if got := parseWith(c.text, compat).WeightedLength; got != c.js {
			t.Errorf("counts.txt:%d %q: twitter-text mode %d, want %d (%s)", c.line, c.text, got, c.js, c.why)
		}
	}
}

// TestOwnCountsAgainstJS checks the second column against the library.
func TestOwnCountsAgainstJS(t *testing.T) {
	cases := loadCounts(t)
	texts := make([]string, len(cases))
	for i, c := range cases {
		texts[i] = c.text
	}
	js := runJS(t, texts)
	for i, c := range cases {
		if js[i].WeightedLength != c.js {
			t.Errorf("counts.txt:%d %q: twitter-text says %d, file says %d", c.line, c.text, js[i].WeightedLength, c.js)
		}
	}
}

// weight's shortcut needs every config's ranges sorted and disjoint.
func TestConfigRangesSorted(t *testing.T) {
	for _, c := range []config{configV1(), configV2(), configV3()} {
		for i := 1; i < len(c.ranges); i++ {
			if c.ranges[i].start <= c.ranges[i-1].end {
				t.Fatalf("ranges %v and %v overlap or are out of order", c.ranges[i-1], c.ranges[i])
			}
		}
	}
}
