package tweettext

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
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

// asciiCopy agrees with a byte-by-byte scan at every start and length, and
// writes the run's units.
func TestASCIICopy(t *testing.T) {
	base := "Hello @you #tag \x00 end. plain text with no signs at all, longer than eight bytes" + "é" + "x@#.a.b" + "日" + "xxxxxxxxxxxx.yy" + "\xff" + strings.Repeat("z", 17) + "🙂"
	for i := 0; i < len(base); i++ {
		if base[i] >= utf8.RuneSelf {
			continue
		}
		for j := i + 1; j <= len(base); j++ {
			s := base[:j]
			out := make([]uint16, len(s)-i)
			end := asciiCopy(out, s, i)
			wantEnd := i
			for wantEnd < len(s) && s[wantEnd] < utf8.RuneSelf {
				wantEnd++
			}
			if end != wantEnd {
				t.Fatalf("asciiCopy(%q, %d) = %d, want %d", s, i, end, wantEnd)
			}
			for x := i; x < end; x++ {
				if out[x-i] != uint16(s[x]) {
					t.Fatalf("asciiCopy(%q, %d) wrote %v", s, i, out[:end-i])
				}
			}
		}
	}
}

// scanText's signs: hasAt, hasHash and the first invalid character (NUL
// or U+FFFE, U+FEFF, U+FFFF, whichever comes first), as a unit-by-unit
// walk finds them.
func TestScanSigns(t *testing.T) {
	texts := append(corpus.Generate(7, 3000, corpus.Realistic), corpus.Generate(8, 3000, corpus.Adversarial)...)
	texts = append(texts, "", "@", "＠", "#", "＃", "\x00", "a\ufeff\x00", "\x00\uffff", "é\x00", "\xff@", "日本#x", "＠a@b", "a@b＠", "＃#", "#＃", "🙂＠x #y")
	for _, s := range texts {
		_, _, sc := scanText(nil, nil, s)
		at := strings.ContainsAny(s, "@＠")
		hash := strings.ContainsAny(s, "#＃")
		bad, badRune := -1, rune(-1)
		for i, r := range s {
			if r == 0 || r == 0xFFFE || r == 0xFEFF || r == 0xFFFF {
				bad, badRune = i, r
				break
			}
		}
		if sc.hasAt != at || sc.hasHash != hash || sc.badChar != bad || bad >= 0 && sc.badRune != badRune {
			t.Fatalf("%+q: at %v hash %v bad %d %U; want %v %v %d %U", s, sc.hasAt, sc.hasHash, sc.badChar, sc.badRune, at, hash, bad, badRune)
		}
		units := appendUTF16(nil, s)
		firstAt, firstHash := indexUnit2(units, 0, '@', 0xFF20), indexUnit2(units, 0, '#', 0xFF03)
		if sc.firstAt != firstAt || sc.firstHash != firstHash {
			t.Fatalf("%+q: firstAt %d firstHash %d; want %d %d", s, sc.firstAt, sc.firstHash, firstAt, firstHash)
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

// scanText's firstDot is the UTF-16 index of the first '.', which
// extractURLsFrom starts from.
func TestScanFirstDot(t *testing.T) {
	texts := append(corpus.Generate(7, 3000, corpus.Realistic), corpus.Generate(8, 3000, corpus.Adversarial)...)
	texts = append(texts, "", ".", "é.", "日本.jp", "no dot", "\xff.", "😀😀😀😀😀😀😀😀.x")
	for _, s := range texts {
		units, _, sc := scanText(nil, nil, s)
		want := -1
		for i, u := range units {
			if u == '.' {
				want = i
				break
			}
		}
		if sc.firstDot != want {
			t.Fatalf("%+q: firstDot %d, want %d", s, sc.firstDot, want)
		}
	}
}

// countUnits lets ASCII runs through without asking the emoji scanner
// about all but their last unit: that holds only while no sequence's
// second code point starts with an ASCII unit.
func TestEmojiFollowNotASCII(t *testing.T) {
	for u := 0; u < 0x80; u++ {
		if emojis().follow[u>>6]&(1<<(u&63)) != 0 {
			t.Fatalf("an emoji sequence continues with %q", rune(u))
		}
	}
}

// The emoji scanner, which skips ASCII four units at a time, finds the
// matches a unit-by-unit search finds, in both modes.
func TestEmojiScannerMatchesNaive(t *testing.T) {
	var seqs []string
	for _, s := range emojiSequences {
		seqs = append(seqs, s.s)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"1", "#", "*", "a", "ab", "abc", "abcdefg", " ", "\u20e3", "\ufe0f", "\u200d", "🏻", "🇯", "🇵", "😀", "©", "日"}
	for range 20000 {
		var b strings.Builder
		for k := rng.IntN(16); k > 0; k-- {
			if rng.IntN(3) == 0 {
				b.WriteString(seqs[rng.IntN(len(seqs))])
			} else {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
		}
		u := appendUTF16(nil, b.String())
		for _, mode := range []emojiMode{emojiX, emojiTwitterText} {
			sc := newEmojiScanner(mode)
			var got, want [][2]int
			for sc.next(u); sc.start <= len(u); sc.next(u) {
				got = append(got, [2]int{sc.start, sc.end})
			}
			for j := 0; j < len(u); j++ {
				if e := sc.trie.match(u, j, sc.mask); e >= 0 {
					want = append(want, [2]int{j, e})
					j = e - 1
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%+q mode %d: scanner %v, naive %v", b.String(), mode, got, want)
			}
		}
	}
}
