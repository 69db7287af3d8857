package tweettext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// emojiTrie.match rejects a start whose next code point does not begin
// with a unit in follow: that holds only while every sequence has two code
// points or more.
func TestEmojiSequencesAreSequences(t *testing.T) {
	for _, s := range emojiSequences {
		if utf8.RuneCountInString(s.s) < 2 {
			t.Fatalf("%+q: a single code point in the sequence table", s.s)
		}
	}
}

// asciiRun agrees with a byte-by-byte scan at every start and length.
func TestASCIIRun(t *testing.T) {
	base := "Hello @you #tag \x00 end. plain text with no signs at all, longer than eight bytes" + "é" + "x@#"
	for i := 0; i < len(base); i++ {
		if base[i] >= utf8.RuneSelf {
			continue
		}
		for j := i + 1; j <= len(base); j++ {
			s := base[:j]
			end, cls := asciiRun(s, i)
			wantEnd, wantCls := i, uint8(0)
			for wantEnd < len(s) && s[wantEnd] < utf8.RuneSelf {
				wantCls |= asciiScanClass[s[wantEnd]]
				wantEnd++
			}
			if end != wantEnd || cls != wantCls {
				t.Fatalf("asciiRun(%q, %d) = %d, %b; want %d, %b", s, i, end, cls, wantEnd, wantCls)
			}
		}
	}
	for _, c := range []string{"@", "#", "\x00"} {
		for n := 0; n < 20; n++ {
			s := strings.Repeat("a", n) + c + strings.Repeat("b", 20-n)
			if _, cls := asciiRun(s, 0); cls == 0 {
				t.Fatalf("asciiRun(%q) missed %q", s, c)
			}
		}
	}
}

// upperCased must hold every BMP unit that unicode.ToUpper changes.
func TestUpperCasedComplete(t *testing.T) {
	cased := upperCased()
	for r := rune(0); r <= 0xFFFF; r++ {
		if unicode.ToUpper(r) != r && cased[r>>6]&(1<<(r&63)) == 0 {
			t.Fatalf("U+%04X has an upper-case mapping but no bit", r)
		}
	}
}
