package tweettext

import (
	"math"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Count is the result of parsing a tweet's text: twitter-text's parseTweet
// result, field for field.
type Count struct {
	// WeightedLength is the text's length as X counts it.
	WeightedLength int `json:"weighted_length"`
	// Valid: not empty, no invalid character, not over the limit.
	Valid bool `json:"valid"`
	// Permillage is WeightedLength per thousand of the limit, rounded down.
	Permillage int `json:"permillage"`
	// The ranges are inclusive UTF-16 indices into the original text, as
	// parseTweet reports them: all of it, and the part within the limit.
	DisplayRangeStart int `json:"display_range_start"`
	DisplayRangeEnd   int `json:"display_range_end"`
	ValidRangeStart   int `json:"valid_range_start"`
	ValidRangeEnd     int `json:"valid_range_end"`
}

// Parse computes the weighted length of text as X (twitter-text v3) counts
// it, with the 280-character limit of config v3 deciding Valid and the
// ranges. Invalid UTF-8 bytes count as U+FFFD.
func Parse(text string) Count {
	// Stack buffers: counting a tweet allocates nothing unless it is long
	// or not in NFC.
	var units [320]uint16
	var urls [8]urlSpan
	c := configV3()
	n, _, _, _ := parseBuffers(text, &c, units[:0], urls[:0])
	return n
}

// WeightedLength is Parse(text).WeightedLength.
func WeightedLength(text string) int {
	return Parse(text).WeightedLength
}

// parser holds buffers reused across calls (CheckBatch keeps one per
// stream), so that counting allocates nothing in the common case.
type parser struct {
	units []uint16
	urls  []urlSpan
	tags  []span
	// normalized: the last parse worked on an NFC form that differs from
	// the text, so units and urls are not positions in the text.
	normalized bool
}

// nfcQuick reports whether s is certainly in NFC already: ASCII always
// is, and otherwise the normalisation quick check must pass for the whole
// string (QuickSpan allocates nothing, unlike IsNormalString). A false
// answer only costs a normalisation that changes nothing.
func nfcQuick(s string) bool {
	prev := 0 // start of the previous code point, a starter
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			prev = i
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !nfcStable(r) {
			// Let the real quick check decide from the last starter.
			return norm.NFC.QuickSpanString(s[prev:]) == len(s)-prev
		}
		prev = i
		i += n
	}
	return true
}

// nfcStable reports code points of common blocks that are NFC_QC=Yes with
// canonical combining class 0 and never combine with what precedes them:
// a text made only of them is in NFC. Anything else goes to the quick check.
func nfcStable(r rune) bool {
	switch {
	case r < 0x300: // Latin-1, Latin Extended, IPA, spacing modifiers
		return true
	case r >= 0x400 && r <= 0x482: // Cyrillic letters
		return true
	case r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA: // kana
		return true
	case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs
		return true
	case r >= 0xAC00 && r <= 0xD7A3: // Hangul syllables (a following jamo is not stable)
		return true
	case r >= 0x1F300 && r <= 0x1FAFF, r == 0xFE0F, r == 0x200D: // emoji, VS16, ZWJ
		return true
	}
	return false
}

func (p *parser) parse(text string, c config) Count {
	n, units, urls, changed := parseBuffers(text, &c, p.units[:0], p.urls[:0])
	p.units, p.urls, p.normalized = units, urls, changed
	return n
}

// parseBuffers counts text using (and returning) the given buffers for
// its UTF-16 form and its URLs; changed says NFC changed the text.
func parseBuffers(text string, c *config, units []uint16, urls []urlSpan) (Count, []uint16, []urlSpan, bool) {
	normalized := text
	if !nfcQuick(text) {
		normalized = norm.NFC.String(text)
	}
	t := appendUTF16(units, normalized)
	urls = extractURLs(t, urls)
	origLen := len(t)
	if normalized != text {
		origLen = utf16Len(text)
	}
	return countUnits(t, urls, origLen, c), t, urls, normalized != text
}

// countUnits is parseTweet's loop over the normalised text t (UTF-16) with
// the URLs of t; origLen is the UTF-16 length of the text before
// normalisation, which only shifts the ranges.
func countUnits(t []uint16, urls []urlSpan, origLen int, c *config) Count {
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

// isInvalidChar is twitter-text's invalidChars: U+FFFE, U+FEFF, U+FFFF.
func isInvalidChar(u uint16) bool {
	return u == 0xFFFE || u == 0xFEFF || u == 0xFFFF
}
