package tweettext

import (
	"encoding/binary"
	"unsafe"
)

// emojiSeq is one generated multi-code-point emoji sequence.
type emojiSeq struct {
	s     string
	flags uint8
}

// Flags of emojiSeq (kept in step with internal/gen).
const (
	// seqTwemoji: twitter-text 3.1.0 (twemoji-parser 11) matches the
	// sequence as one emoji.
	seqTwemoji uint8 = 1
	// seqQualified: a fully-qualified sequence of the Unicode emoji data;
	// X counts it as one emoji.
	seqQualified uint8 = 2
)

// emojiTrie finds the longest emoji sequence starting at a position. Single
// code points are not in it: each emoji code point already weighs
// defaultWeight on its own (© and ® weigh 1 but count as emoji only with
// U+FE0F, which makes them sequences), so matching it would change nothing.
//
// The trie is static data (emojiTable in tries_gen.go, generated from
// emojiSequences by TestTriesGenerated): building it at first use cost a
// short-lived `psnd check` about 1.5 ms.
type emojiTrie struct {
	nodes []emojiNode
	edges []emojiEdge // each node's edges, sorted by rune, back to back
	// first has a bit for every UTF-16 unit that can start a sequence (the
	// high surrogate for supplementary code points): a cheap reject.
	first [1 << 16 / 64]uint64
	// smp maps the first code points U+1F000..U+1FAFF, where most sequences
	// start, straight to their nodes (0: none).
	smp [0x1FB00 - 0x1F000]int32
	// follow has a bit for every first unit of the second code point of a
	// sequence (U+FE0F, U+20E3, U+200D, the high surrogate of skin tones
	// and regional indicators, …): a start followed by anything else (an
	// emoji or a digit followed by a space or a letter) is rejected at once.
	follow [1 << 16 / 64]uint64
}

type emojiNode struct {
	lo, hi int32 // edges[lo:hi] are the node's
	flags  uint8 // non-zero if a sequence ends here
}

type emojiEdge struct {
	r    rune
	next int32
}

// emojis is the trie of emojiSequences.
func emojis() *emojiTrie { return &emojiTable }

func (t *emojiTrie) child(n int32, r rune) int32 {
	nd := t.nodes[n]
	edges := t.edges[nd.lo:nd.hi]
	lo, hi := 0, len(edges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if edges[m].r < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(edges) && edges[lo].r == r {
		return edges[lo].next
	}
	return -1
}

// firstRuneUnits is the number of units of the code point at s[i], as
// runeAt counts them.
func firstRuneUnits(s []uint16, i int) int {
	if isHighSurrogate(s[i]) && i+1 < len(s) && isLowSurrogate(s[i+1]) {
		return 2
	}
	return 1
}

// canStart is the cheap reject for match.
func (t *emojiTrie) canStart(u uint16) bool {
	return t.first[u>>6]&(1<<(u&63)) != 0
}

// match returns the end of the longest sequence at t[i] whose flags meet
// mask, or -1.
func (t *emojiTrie) match(s []uint16, i int, mask uint8) int {
	if !t.canStart(s[i]) {
		return -1
	}
	if k := i + firstRuneUnits(s, i); k >= len(s) || t.follow[s[k]>>6]&(1<<(s[k]&63)) == 0 {
		return -1 // sequences are two code points or more
	}
	best := -1
	n := int32(0)
	for i < len(s) {
		r, size := runeAt(s, i)
		if n == 0 && r >= 0x1F000 && r < 0x1FB00 {
			if n = t.smp[r-0x1F000]; n == 0 {
				n = -1
			}
		} else {
			n = t.child(n, r)
		}
		if n < 0 {
			break
		}
		i += size
		if t.nodes[n].flags&mask != 0 {
			best = i
		}
	}
	return best
}

// emojiScanner yields twemoji-parser's matches left to right, lazily. The
// library finds all matches with one global scan before counting, so a
// match is only ever looked for where the previous one ended; parseTweet
// then uses those that start where its walk stands.
type emojiScanner struct {
	trie       *emojiTrie
	mask       uint8
	start, end int // current match; start > len(text) when exhausted
	from       int // where the next search begins
}

func newEmojiScanner(mode emojiMode) emojiScanner {
	sc := emojiScanner{start: -1, end: -1}
	switch mode {
	case emojiTwitterText:
		sc.trie, sc.mask = emojis(), seqTwemoji
	case emojiX:
		sc.trie, sc.mask = emojis(), seqTwemoji|seqQualified
	}
	return sc
}

// at reports the end of the match starting at t[i], or -1. Calls must come
// with non-decreasing i.
func (sc *emojiScanner) at(s []uint16, i int) int {
	if sc.trie == nil {
		return -1
	}
	for sc.start < i {
		sc.next(s)
	}
	if sc.start == i {
		return sc.end
	}
	return -1
}

func (sc *emojiScanner) next(s []uint16) {
	var bs []byte // s's bytes, for reading four units at once
	if len(s) > 0 {
		bs = unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 2*len(s))
	}
	first := &sc.trie.first
	for j := sc.from; j < len(s); j++ {
		u := s[j]
		if u < 0x80 {
			// No sequence continues with an ASCII unit (see
			// TestEmojiFollowNotASCII): four ASCII units followed by a
			// fifth start none; skip them at once.
			for j+5 <= len(s) && binary.NativeEndian.Uint64(bs[2*j:2*j+8])&0xFF80FF80FF80FF80 == 0 && s[j+4] < 0x80 {
				j += 4
			}
			u = s[j]
		}
		if first[u>>6]&(1<<(u&63)) == 0 { // !canStart(u)
			continue
		}
		if e := sc.trie.match(s, j, sc.mask); e >= 0 {
			sc.start, sc.end, sc.from = j, e, e
			return
		}
	}
	sc.start, sc.end, sc.from = len(s)+1, -1, len(s)
}
