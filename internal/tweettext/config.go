package tweettext

// config is twitter-text's weighting configuration (config/v3.json). Only v3
// is exported behaviour; v1 and v2 exist so the conformance suites that were
// written for them can run.
type config struct {
	maxWeightedLength    int
	scale                int
	defaultWeight        int
	transformedURLLength int
	ranges               []weightRange
	emoji                emojiMode
}

type weightRange struct {
	start, end rune
	weight     int
}

// emojiMode says which emoji sequences count as one emoji.
type emojiMode uint8

const (
	// emojiOff: no emoji parsing (config v1 and v2): every code point weighs
	// on its own.
	emojiOff emojiMode = iota
	// emojiTwitterText: exactly the sequences twitter-text 3.1.0 knows.
	// Used to diff against the JavaScript library.
	emojiTwitterText
	// emojiX: those plus every fully-qualified sequence of the pinned Emoji
	// release (emojiDataVersion), as X counts them. The default.
	emojiX
)

var v3Ranges = []weightRange{
	{0, 4351, 100},
	{8192, 8205, 100},
	{8208, 8223, 100},
	{8242, 8247, 100},
}

// configV3 is config/v3.json (the library default) with emoji up to date.
func configV3() config {
	return config{
		maxWeightedLength:    280,
		scale:                100,
		defaultWeight:        200,
		transformedURLLength: 23,
		ranges:               v3Ranges,
		emoji:                emojiX,
	}
}

// configV2 is config/v2.json: v3 without emoji parsing.
func configV2() config {
	c := configV3()
	c.emoji = emojiOff
	return c
}

// configV1 is config/v1.json: 140 characters, every code point weighs 1.
func configV1() config {
	return config{maxWeightedLength: 140, scale: 1, defaultWeight: 1, transformedURLLength: 23}
}

// weight is getCharacterWeight: the weight of one UTF-16 code unit (the
// library looks at charCodeAt, so the low surrogate of a pair decides,
// and it lies in no range).
func (c *config) weight(u uint16) int {
	// The ranges are sorted and disjoint (TestConfigRangesSorted): past
	// the last one (CJK, emoji, most scripts) none can hold u.
	if n := len(c.ranges); n == 0 || rune(u) > c.ranges[n-1].end {
		return c.defaultWeight
	}
	for _, r := range c.ranges {
		if rune(u) >= r.start && rune(u) <= r.end {
			return r.weight
		}
	}
	return c.defaultWeight
}
