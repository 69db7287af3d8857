package tweettext

import (
	"math/rand/v2"
	"testing"
)

// punycodeBound is never below the exact length, and equal to it for ASCII
// parts; labels of every size around the 63 limit, code points from every
// plane, lone surrogates included.
func TestPunycodeBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func() rune {
		switch rng.IntN(6) {
		case 0:
			return rune('a' + rng.IntN(26))
		case 1:
			return rune(0x80 + rng.IntN(0x780))
		case 2:
			return rune(0x800 + rng.IntN(0xD800-0x800))
		case 3:
			return rune(0xD800 + rng.IntN(0x800)) // a lone surrogate unit
		case 4:
			return rune(0xE000 + rng.IntN(0x2000))
		}
		return rune(0x10000 + rng.IntN(0x100000))
	}
	for n := 0; n < 200000; n++ {
		var part []uint16
		ascii := rng.IntN(4) == 0
		for k := rng.IntN(80); k > 0; k-- {
			r := pick()
			if ascii {
				r = rune('a' + rng.IntN(26))
			}
			if r >= 0x10000 {
				part = appendUTF16(part, string(r))
			} else {
				part = append(part, uint16(r))
			}
		}
		exact, bound := punycodePartLength(part), punycodeBound(part)
		if bound < exact || ascii && bound != exact {
			t.Fatalf("punycodeBound(%U) = %d, exact %d", part, bound, exact)
		}
	}
}

// labelLengthBound is toASCIILength(label, false) label by label, on random
// domains of ASCII, IDNA dots, other BMP units, pairs and lone surrogates.
func TestLabelLengthBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []uint16{'a', 'b', '-', '.', '.', 0x3002, 0xFF0E, 0xFF61, 0xE9, 0x65E5, 0xD83D, 0xDE00, 0xDC00, 0xFFFF}
	for range 100000 {
		d := make([]uint16, rng.IntN(90))
		for i := range d {
			d[i] = alphabet[rng.IntN(len(alphabet))]
			if rng.IntN(3) > 0 {
				d[i] = 'a'
			}
		}
		start := 0
		for i := 0; i <= len(d); i++ {
			if i < len(d) && d[i] != '.' {
				continue
			}
			n, end := labelLengthBound(d, start)
			if want := toASCIILength(d[start:i], false); n != want || end != i {
				t.Fatalf("labelLengthBound(%U, %d) = %d, %d; want %d, %d", d, start, n, end, want, i)
			}
			start = i + 1
		}
	}
}

// appendASCIIDomains skips the starts inside a first label that failed;
// trying every start, as the library's global pattern does, finds the same
// domains. validIDNA's "xn--" test likewise.
func TestASCIIDomainsSkip(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	pieces := []string{"a", "bc", "-", ".", ".", "é", "日", "xn--", "com", "co", "jp", "uk", "p1ai", "рф", "münchen", "_", "1"}
	for range 50000 {
		var s string
		for k := rng.IntN(12); k > 0; k-- {
			s += pieces[rng.IntN(len(pieces))]
		}
		d := appendUTF16(nil, s)
		var want []urlSpan
		for p := 0; p < len(d); {
			e, _ := asciiDomainAt(d, p)
			if e < 0 {
				p++
				continue
			}
			want = append(want, urlSpan{start: 7 + p, end: 7 + e, length: e - p})
			p = e
		}
		got := appendASCIIDomains(d, 7, nil)
		if len(got) != len(want) || len(got) > 0 && !equalSpans(got, want) {
			t.Fatalf("%q: %v, want %v", s, got, want)
		}
		found := false
		for p := 0; p < len(d) && !found; p++ {
			e, _ := asciiDomainAt(d, p)
			found = e >= 0
		}
		if hasASCIIDomain(d) != found {
			t.Fatalf("%q: hasASCIIDomain %v, want %v", s, !found, found)
		}
	}
}

func equalSpans(a, b []urlSpan) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
