package tweettext

import (
	"unicode"
)

// tldTrie recognises twitter-text's TLD alternatives:
//
//	(?:gTLD(?=[^0-9a-zA-Z@+-]|$)|ccTLD(?=[^0-9a-zA-Z@+-]|$)|xn--[\-0-9a-z]+)
//
// matched case-insensitively. Keys are canonicalised UTF-16 units; a
// terminal node carries the alternative's priority (its position in the
// pattern), because the regular expression takes the first alternative that
// matches, not the longest.
//
// The trie is static data (tldTable in tries_gen.go, generated from the
// lists by TestTriesGenerated): building it at first use cost a
// short-lived `psnd check` about 2 ms. Its edges are one open-addressing
// hash table: a lookup is one probe, mostly, where a binary search over a
// node's edges took several unpredictable branches.
type tldTrie struct {
	prio  []int32    // per node: the priority of the TLD ending there, or -1
	slots []tldSlot  // the edges by key, tldSlots long, linear probing
	ascii [128]int32 // root children for ASCII units, 0 = none
}

// tldSlot is an edge: key is the node << 16 | the unit (never 0: no TLD
// holds U+0000), next its child; key 0 is an empty slot.
type tldSlot struct {
	key  uint32
	next int32
}

const tldSlots = 1 << 14 // a power of two, over three times the edges

func tldSlotOf(key uint32) uint32 { return key * 0x9E3779B1 >> (32 - 14) }

// tlds is the trie of genericTLDs and countryTLDs.
func tlds() *tldTrie { return &tldTable }

func (t *tldTrie) child(n int32, u uint16) int32 {
	if n == 0 && u < 128 {
		if c := t.ascii[u]; c != 0 {
			return c
		}
		return -1
	}
	key := uint32(n)<<16 | uint32(u)
	for h := tldSlotOf(key); ; h = (h + 1) & (tldSlots - 1) {
		s := t.slots[h]
		if s.key == key {
			return s.next
		}
		if s.key == 0 {
			return -1
		}
	}
}

// match returns the end of the TLD that the pattern would match at t[q],
// or -1. The lookahead sees t up to limit (the end of the string the
// pattern runs on).
func (t *tldTrie) match(s []uint16, q int) int {
	best, bestPrio := -1, int32(-1)
	n := int32(0)
	for i := q; i < len(s); i++ {
		n = t.child(n, canon(s[i]))
		if n < 0 {
			break
		}
		if p := t.prio[n]; p >= 0 && (bestPrio < 0 || p < bestPrio) && tldFollows(s, i+1) {
			best, bestPrio = i+1, p
		}
	}
	if best >= 0 {
		return best
	}
	// Punycode TLD: xn--[\-0-9a-z]+ , greedy, and unlike the lists with no
	// lookahead ("xn--p1ai+" matches up to the '+').
	if q+4 < len(s) && canon(s[q]) == 'X' && canon(s[q+1]) == 'N' && s[q+2] == '-' && s[q+3] == '-' {
		i := q + 4
		for i < len(s) && (isASCIIAlnum(s[i]) || s[i] == '-') {
			i++
		}
		if i > q+4 {
			return i
		}
	}
	return -1
}

// tldFollows is the lookahead (?=[^0-9a-zA-Z@+-]|$) at s[i].
func tldFollows(s []uint16, i int) bool {
	if i >= len(s) {
		return true
	}
	u := s[i]
	return !(isASCIIAlnum(u) || u == '@' || u == '+' || u == '-')
}

func isASCIIAlnum(u uint16) bool {
	return u-'0' < 10 || (u|0x20)-'a' < 26
}

// canon is the case-insensitive canonicalisation of JavaScript regular
// expressions without the u flag (ECMA-262 Canonicalize): the upper case of
// a unit, unless that is several units or maps a non-ASCII unit into ASCII
// (so ſ does not match s, nor K match k).
func canon(u uint16) uint16 {
	if u < 0x80 {
		if u-'a' < 26 {
			return u - 0x20
		}
		return u
	}
	return canonSlow(u)
}

// canonSlow is canon for non-ASCII units (kept apart so that canon's ASCII
// case inlines into the TLD and protocol loops).
//
// (Not inlined: canon must stay small enough to be inlined itself.)
//
//go:noinline
func canonSlow(u uint16) uint16 {
	if u < uint16(len(canonLow)) {
		// Generated from canonRule (see TestTriesGenerated); 0: unchanged.
		if c := canonLow[u]; c != 0 {
			return c
		}
		return u
	}
	return canonRule(u)
}

// canonRule is canonSlow computed (canonLow holds its results below U+0600:
// Latin, Greek and Cyrillic, where most cased letters of domains are).
func canonRule(u uint16) uint16 {
	if u >= 0xD800 && u <= 0xDFFF {
		return u
	}
	// Greek letters with ypogegrammeni upper-case to two characters in
	// JavaScript (SpecialCasing), so they canonicalise to themselves, although
	// their simple upper-case mapping (which package unicode has) differs.
	if (u >= 0x1F80 && u <= 0x1FAF) || u == 0x1FB3 || u == 0x1FBC || u == 0x1FC3 || u == 0x1FCC || u == 0x1FF3 || u == 0x1FFC {
		return u
	}
	if cased := upperCased(); cased[u>>6]&(1<<(u&63)) == 0 {
		return u // no upper-case mapping: skip ToUpper's table search
	}
	r := unicode.ToUpper(rune(u))
	if r < 0x80 || r > 0xFFFF {
		return u
	}
	return uint16(r)
}

// upperCased has a bit for every BMP unit that unicode.ToUpper may change:
// those in a range of unicode.CaseRanges with an upper-case delta (all of
// an UpperLower range, which ToUpper then decides). Most non-ASCII text
// (CJK, Arabic, Indic scripts) has none, and canon is on the path of every
// TLD lookup. The bits are generated (upperCasedBits, in tries_gen.go);
// TestTriesGenerated checks them against upperCaseRangeBits.
func upperCased() *[1 << 16 / 64]uint64 { return &upperCasedBits }

// upperCaseRangeBits builds upperCased's bits from unicode.CaseRanges.
func upperCaseRangeBits() *[1 << 16 / 64]uint64 {
	var b [1 << 16 / 64]uint64
	for _, cr := range unicode.CaseRanges {
		if cr.Delta[unicode.UpperCase] == 0 {
			continue
		}
		for r := cr.Lo; r <= cr.Hi && r <= 0xFFFF; r++ {
			b[r>>6] |= 1 << (r & 63)
		}
	}
	return &b
}

// inClassFold reports whether u matches a character class under the i flag:
// some member of the class canonicalises to the same unit. in tests plain
// membership; the fold orbit supplies the other candidates (ι matches
// [\u0300-\u036F] because U+0345 upper-cases to Ι, as in V8).
func inClassFold(u uint16, in func(uint16) bool) bool {
	if in(u) {
		return true
	}
	if u < 0x80 || (u >= 0xD800 && u <= 0xDFFF) {
		return false
	}
	c := canon(u)
	for r := unicode.SimpleFold(rune(u)); r != rune(u); r = unicode.SimpleFold(r) {
		if r <= 0xFFFF && in(uint16(r)) && canon(uint16(r)) == c {
			return true
		}
	}
	return false
}
