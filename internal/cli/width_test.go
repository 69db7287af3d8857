package cli

import (
	"strings"
	"testing"
)

func TestDisplayWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"alice", 5},
		{"東京", 4},
		{"한국어", 6},
		{"👩‍💻", 2},     // a ZWJ sequence of three runes
		{"🇯🇵", 2},      // a flag: two regional indicators
		{"e\u0301", 1}, // a combining accent takes no column
		{"İȺ", 2},
	} {
		if got := displayWidth(c.s); got != c.want {
			t.Errorf("displayWidth(%q) = %d, want %d", c.s, got, c.want)
		}
		if got := displayWidth(padRight(c.s, 8)); got != max(8, c.want) {
			t.Errorf("padRight(%q, 8) is %d columns wide", c.s, got)
		}
	}
}

// TestTruncateByColumns: the TEXT column is cut by what a terminal shows,
// between grapheme clusters: a CJK text takes no more room than a Latin
// one, and an emoji sequence or an accented letter is never split.
func TestTruncateByColumns(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"line one\n\nline  two", 40, "line one line two"},
		{"abcdefghij", 5, "abcd…"},
		{"東京の桜は美しい", 7, "東京の…"},                              // 2 columns each: 3 fit before "…"
		{"ab👨‍👩‍👧‍👦cd", 4, "ab…"},                            // the family (2 columns) would need 5
		{"ab👨‍👩‍👧‍👦cd", 5, "ab👨‍👩‍👧‍👦…"},                     // kept whole, never split at a ZWJ
		{strings.Repeat("e\u0307", 5), 3, "e\u0307e\u0307…"}, // e + combining dot: one column, one cluster
	} {
		got := truncate(c.in, c.n)
		if got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
		if w := displayWidth(got); w > c.n {
			t.Errorf("truncate(%q, %d) is %d columns wide", c.in, c.n, w)
		}
	}
}
