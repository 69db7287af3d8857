package tweettext

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// TestUTF16ByteOffsets: both units of a surrogate pair map to the start of
// their character, invalid bytes are one unit each, the end maps to len.
func TestUTF16ByteOffsets(t *testing.T) {
	s := "a🙂日\xffİ"
	u := appendUTF16(nil, s)
	got := utf16ByteOffsets(s, len(u))
	want := []int{0, 1, 1, 5, 8, 9, 11}
	if len(u) != 6 || !slices.Equal(got, want) {
		t.Fatalf("units %d, offsets %v, want 6 and %v", len(u), got, want)
	}
}

// indexUnit2 finds what a unit-by-unit search finds, from every start, with
// the units sought at every offset of a word and next to look-alikes.
func TestIndexUnit2(t *testing.T) {
	alphabet := []uint16{'a', '.', '#', '@', 0xFF03, 0xFF20, 0x2300, 0x0123, 0x8023, 0, 0xFFFF, 0xD83D}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		u := make([]uint16, rng.IntN(40))
		for i := range u {
			u[i] = alphabet[rng.IntN(len(alphabet))]
		}
		for _, ab := range [][2]uint16{{'.', '.'}, {'#', 0xFF03}, {'@', 0xFF20}, {0, 0xFFFF}} {
			for from := 0; from <= len(u); from++ {
				want := -1
				for i := from; i < len(u); i++ {
					if u[i] == ab[0] || u[i] == ab[1] {
						want = i
						break
					}
				}
				if got := indexUnit2(u, from, ab[0], ab[1]); got != want {
					t.Fatalf("indexUnit2(%04x, %d, %#x, %#x) = %d, want %d", u, from, ab[0], ab[1], got, want)
				}
			}
		}
	}
}

// scanText decodes two- and three-byte sequences itself: it must agree with
// appendUTF16 (Go's decoder) and find the same first invalid byte for every
// BMP code point and every two- and three-byte prefix, valid or not, at the
// end of the text and before more text.
func TestScanTextDecodesLikeUTF8(t *testing.T) {
	check := func(s string) {
		t.Helper()
		units, _, sc := scanText(nil, nil, s)
		if want := appendUTF16(nil, s); !slices.Equal(units, want) {
			t.Fatalf("%+q: units %x, want %x", s, units, want)
		}
		if want := firstInvalidUTF8(s); sc.badUTF8 != want {
			t.Fatalf("%+q: badUTF8 %d, want %d", s, sc.badUTF8, want)
		}
	}
	for r := rune(0x10000); r <= utf8.MaxRune; r += 0x3F {
		check(string(r) + "x" + string(r+1))
	}
	for _, b4 := range [][]byte{{0xF0, 0x8F, 0xBF, 0xBF}, {0xF0, 0x90, 0x80, 0x80}, {0xF4, 0x8F, 0xBF, 0xBF}, {0xF4, 0x90, 0x80, 0x80},
		{0xF5, 0x80, 0x80, 0x80}, {0xF0, 0x9F, 0x98}, {0xF0, 0x9F, 0x98, 0x41}, {0xF0, 0x9F, 0xC0, 0x80}, {0xF0, 0x41, 0x80, 0x80}, {0xF7, 0xBF, 0xBF, 0xBF}} {
		check(string(b4))
		check("é" + string(b4) + "z")
	}
	for r := rune(0x80); r <= 0xFFFF; r++ {
		check(string(r))
		check("a" + string(r) + "b")
		check("é" + string(r) + string(r) + "日" + string(r)) // (after a non-ASCII code point)
	}
	var b [3]byte
	for c := 0x80; c <= 0xFF; c++ {
		for x := 0; x <= 0xFF; x++ {
			b[0], b[1] = byte(c), byte(x)
			check(string(b[:1]))
			check(string(b[:2]))
			check(string(b[:2]) + "z")
			check("xé" + string(b[:2]) + "z")
			check("x日" + string(b[:2]))
			if c >= 0xE0 && c <= 0xEF {
				for _, y := range []byte{0x00, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF} {
					b[2] = y
					check(string(b[:3]))
					check(string(b[:3]) + "z")
					check("xé" + string(b[:3]) + "z")
					check("x日" + string(b[:3]))
				}
			}
		}
	}
}

// runeAt decodes every surrogate pair as utf16.DecodeRune does.
func TestRuneAtPairs(t *testing.T) {
	for hi := uint16(0xD800); hi <= 0xDBFF; hi++ {
		for lo := uint16(0xDC00); lo <= 0xDFFF; lo++ {
			if r, n := runeAt([]uint16{hi, lo}, 0); n != 2 || r != utf16.DecodeRune(rune(hi), rune(lo)) {
				t.Fatalf("runeAt(%04X %04X) = %U, %d", hi, lo, r, n)
			}
		}
	}
}
