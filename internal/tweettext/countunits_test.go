package tweettext

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
)

// countUnits runs the emoji matches itself (emojiFrom); countUnitsScanner,
// the loop as it was with the emoji scanner walking the whole text, is the
// reference. Texts put emoji, keycaps, ZWJ sequences and flags inside and
// right after URLs (IDN domains, paths), where a match found in a URL can
// cover units after it.
func TestCountUnitsEmojiMatchesScanner(t *testing.T) {
	var seqs []string
	for _, s := range emojiSequences {
		seqs = append(seqs, s.s)
	}
	rng := rand.New(rand.NewPCG(13, 14))
	pieces := []string{"1", "#", "*", "a", "ab", " ", ".", ".com", ".co.jp", "/", "/p?q=1", "http://", "https://", "t.co/", "www.",
		"x.", "\u20e3", "\ufe0f", "\u200d", "🏻", "🇯", "🇵", "😀", "©", "日", "é", "münchen", "👍.ws", "\ufeff", "\U0001F600"}
	texts := append(corpus.Generate(15, 4000, corpus.Realistic), corpus.Generate(16, 4000, corpus.Adversarial)...)
	for range 30000 {
		var b strings.Builder
		for k := rng.IntN(24); k > 0; k-- {
			if rng.IntN(3) == 0 {
				b.WriteString(seqs[rng.IntN(len(seqs))])
			} else {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
		}
		texts = append(texts, b.String())
	}
	for _, s := range texts {
		u := appendUTF16(nil, s)
		urls := extractURLs(u, nil)
		for _, c := range []config{configV3(), configV2(), configV1()} {
			for _, max := range []int{1, 100, 280} {
				c.maxWeightedLength = max
				if got, want := countUnits(u, urls, len(u), &c), countUnitsScanner(u, urls, len(u), &c); got != want {
					t.Fatalf("%+q (emoji mode %d, max %d): %+v, want %+v", s, c.emoji, max, got, want)
				}
			}
		}
	}
}

// countUnitsScanner is countUnits before it ran the emoji matches itself.
func countUnitsScanner(t []uint16, urls []urlSpan, origLen int, c *config) Count {
	emoji := newEmojiScanner(c.emoji)
	limit := c.maxWeightedLength * c.scale
	weighted, validDisplay := 0, 0
	valid := true
	nextURL, ui := len(t), 0 // start of the next URL
	if len(urls) > 0 {
		nextURL = urls[0].start
	}
	asciiWeight := c.weight('a') // every range config gives ASCII one weight
	for i := 0; i < len(t); i++ {
		u := t[i]
		if u < 0x80 && i != nextURL && asciiWeight > 0 && (emoji.trie == nil || !emoji.trie.canStart(u) || i+1 < len(t) && t[i+1] < 0x80) {
			// A run of plain ASCII before the next URL: what the general
			// step below does unit by unit, at once (none is invalid, and
			// the valid range ends where the weight passes the limit). An
			// emoji sequence's second code point is never ASCII (see
			// TestEmojiFollowNotASCII), so of an ASCII run only the last
			// unit can start one.
			j := asciiUnitsEnd(t, i+1, nextURL)
			if emoji.trie != nil && j < len(t) && t[j] >= 0x80 && emoji.trie.canStart(t[j-1]) {
				j-- // (j > i: t[i] is no start, or is followed by ASCII)
			}
			n := j - i
			if valid {
				if weighted+n*asciiWeight <= limit {
					validDisplay = j - 1
				} else if room := (limit - weighted) / asciiWeight; room >= 1 {
					validDisplay = i + room - 1
				}
			}
			weighted += n * asciiWeight
			i = j - 1 // still before nextURL
			continue
		}
		if u >= 0x80 && i != nextURL && plainNonASCII(u, emoji.trie) {
			// A run of other units that are no emoji start, surrogate or
			// invalid character: the general step below, without its
			// branches.
			j := i
			for j < nextURL {
				u := t[j]
				if u < 0x80 || !plainNonASCII(u, emoji.trie) {
					break
				}
				weighted += c.weight(u)
				if valid && weighted <= limit {
					validDisplay = j
				}
				j++
			}
			i = j - 1 // still before nextURL
			continue
		}
		switch {
		case i == nextURL:
			weighted += c.transformedURLLength * c.scale
			i += urls[ui].length - 1
		case emoji.trie != nil && emoji.trie.canStart(u) && emoji.at(t, i) >= 0:
			weighted += c.defaultWeight
			i = emoji.end - 1
		case u < 0x80:
			weighted += asciiWeight
		default:
			if isHighSurrogate(u) && i+1 < len(t) && isLowSurrogate(t[i+1]) {
				i++
			}
			weighted += c.weight(t[i])
		}
		if i >= nextURL {
			// Passed (or skipped into) URLs: find the next one that
			// starts after i; one starting inside a skipped span is never
			// seen, as in the library.
			for ui < len(urls) && urls[ui].start <= i {
				ui++
			}
			nextURL = len(t)
			if ui < len(urls) {
				nextURL = urls[ui].start
			}
		}
		// Like the library, only the last unit of a URL, emoji or pair is
		// tested (none of those can hold an invalid character anyway).
		if valid && i < len(t) {
			valid = !isInvalidChar(t[i])
		}
		if valid && weighted <= limit {
			validDisplay = i
		}
	}
	wl := weighted / c.scale
	valid = valid && wl > 0 && wl <= c.maxWeightedLength
	displayEnd := 0
	if origLen > 0 {
		displayEnd = origLen - 1
	}
	return Count{
		WeightedLength:    wl,
		Valid:             valid,
		Permillage:        int(math.Floor(float64(wl) / float64(c.maxWeightedLength) * 1000)),
		DisplayRangeStart: 0,
		DisplayRangeEnd:   displayEnd,
		ValidRangeStart:   0,
		ValidRangeEnd:     validDisplay + origLen - len(t),
	}
}

// asciiUnitsEnd finds what a unit-by-unit walk finds, for every start and
// limit.
func TestASCIIUnitsEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for range 3000 {
		u := make([]uint16, rng.IntN(40))
		for i := range u {
			u[i] = 'a'
			if rng.IntN(12) == 0 {
				u[i] = []uint16{0x80, 0xFF, 0x100, 0x7F80, 0xD83D}[rng.IntN(5)]
			}
		}
		for limit := 0; limit <= len(u); limit++ {
			for i := 0; i <= limit; i++ {
				want := i
				for want < limit && u[want] < 0x80 {
					want++
				}
				if got := asciiUnitsEnd(u, i, limit); got != want {
					t.Fatalf("asciiUnitsEnd(%04x, %d, %d) = %d, want %d", u, i, limit, got, want)
				}
			}
		}
	}
}
