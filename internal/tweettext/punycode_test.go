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
