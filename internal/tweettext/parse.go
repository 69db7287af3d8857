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
	var p parser
	return p.parse(text, configV3())
}

// WeightedLength is Parse(text).WeightedLength.
func WeightedLength(text string) int {
	var p parser
	return p.parse(text, configV3()).WeightedLength
}

// parser holds buffers reused across calls (CheckBatch keeps one per
// stream), so that counting allocates nothing in the common case.
type parser struct {
	units []uint16
	urls  []urlSpan
	tags  []span
	small [512]uint16
}

// nfcQuick reports whether s is already in NFC, with an ASCII fast path
// (ASCII text always is).
func nfcQuick(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFC.IsNormalString(s)
		}
	}
	return true
}

func (p *parser) parse(text string, c config) Count {
	normalized := text
	if !nfcQuick(text) {
		normalized = norm.NFC.String(text)
	}
	if p.units == nil {
		p.units = p.small[:0]
	}
	t := appendUTF16(p.units[:0], normalized)
	p.units = t
	p.urls = extractURLs(t, p.urls[:0])
	origLen := len(t)
	if normalized != text {
		origLen = utf16Len(text)
	}
	return countUnits(t, p.urls, origLen, &c)
}

// countUnits is parseTweet's loop over the normalised text t (UTF-16) with
// the URLs of t; origLen is the UTF-16 length of the text before
// normalisation, which only shifts the ranges.
func countUnits(t []uint16, urls []urlSpan, origLen int, c *config) Count {
	emoji := newEmojiScanner(c.emoji)
	limit := c.maxWeightedLength * c.scale
	weighted, validDisplay := 0, 0
	valid := true
	ui := 0
	for i := 0; i < len(t); i++ {
		for ui < len(urls) && urls[ui].start < i {
			ui++
		}
		if ui < len(urls) && urls[ui].start == i {
			weighted += c.transformedURLLength * c.scale
			i += urls[ui].length - 1
		} else if e := emoji.at(t, i); e >= 0 {
			weighted += c.defaultWeight
			i = e - 1
		} else {
			if isHighSurrogate(t[i]) && i+1 < len(t) && isLowSurrogate(t[i+1]) {
				i++
			}
			weighted += c.weight(t[i])
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
