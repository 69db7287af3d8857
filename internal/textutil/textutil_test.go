package textutil

import (
	"testing"
	"unicode/utf8"
)

func TestFirstLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"  one line  ":                    "one line",
		"first \nsecond\nthird":           "first",
		"\n\n  İstanbul: refused\r\nmore": "İstanbul: refused",
	} {
		if got := FirstLine(in); got != want {
			t.Errorf("FirstLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSquash(t *testing.T) {
	if got := Squash(" a\n\tb  日本\u00a0語 \n"); got != "a b 日本 語" {
		t.Errorf("Squash = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdefgh", 5, "abcd…"},
		{"İİİİİİ", 4, "İİİ…"},
		{"日本語のテキスト", 3, "日本…"},
		{"👍🏽👍🏽👍🏽", 3, "👍🏽…"}, // runes, not grapheme clusters: the skin tone is kept here
		{"שלום עולם", 5, "שלום…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	} {
		got := Truncate(c.in, c.n)
		if got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > max(c.n, 0) {
			t.Errorf("Truncate(%q, %d) = %q: invalid or too long", c.in, c.n, got)
		}
	}
}

func TestHex4(t *testing.T) {
	b := []byte(`\u00e9\uD83D\uzzzz\u12`)
	for _, c := range []struct {
		i    int
		want rune
		ok   bool
	}{{2, 0xe9, true}, {8, 0xd83d, true}, {14, 0, false}, {20, 0, false}, {-1, 0, false}} {
		r, ok := Hex4(b, c.i)
		if r != c.want || ok != c.ok {
			t.Errorf("Hex4(%d) = %x, %v; want %x, %v", c.i, r, ok, c.want, c.ok)
		}
	}
}
