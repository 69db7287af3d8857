package tweettext

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// appendUTF16 appends s as UTF-16 code units. twitter-text works on
// JavaScript strings, so every rule of this package is stated in UTF-16
// units: that keeps surrogate-pair corner cases of its regular expressions
// identical. Invalid UTF-8 bytes become U+FFFD, as Go's conversions do.
func appendUTF16(dst []uint16, s string) []uint16 {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, uint16(c))
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			dst = append(dst, uint16(r1), uint16(r2))
			continue
		}
		dst = append(dst, uint16(r))
	}
	return dst
}

// appendUTF16Bytes is appendUTF16 for a byte slice.
func appendUTF16Bytes(dst []uint16, s []byte) []uint16 {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, uint16(c))
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		i += n
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			dst = append(dst, uint16(r1), uint16(r2))
			continue
		}
		dst = append(dst, uint16(r))
	}
	return dst
}

// utf16Len is len(appendUTF16(nil, s)) without the slice.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// hitLane is the index of the first hit in two consecutive words of four
// lanes, given their masks (one bit per lane hit, exact for the lowest).
func hitLane(mv, mx uint64) int {
	if mv != 0 {
		return bits.TrailingZeros64(mv) / 16
	}
	return 4 + bits.TrailingZeros64(mx)/16
}

func isHighSurrogate(u uint16) bool { return u >= 0xD800 && u <= 0xDBFF }
func isLowSurrogate(u uint16) bool  { return u >= 0xDC00 && u <= 0xDFFF }

// runeAt decodes the code point at t[i] the way JavaScript's codePointAt
// does: a surrogate pair gives one code point of two units, anything else
// (including a lone surrogate) one unit.
func runeAt(t []uint16, i int) (rune, int) {
	u := t[i]
	if isHighSurrogate(u) && i+1 < len(t) && isLowSurrogate(t[i+1]) {
		// (utf16.DecodeRune, whose checks these are: small enough to
		// inline.)
		return (rune(u)-0xD800)<<10 | (rune(t[i+1]) - 0xDC00) + 0x10000, 2
	}
	return rune(u), 1
}

// utf16ByteOffsets maps the UTF-16 indices of s (units = len(appendUTF16(nil,
// s))) to byte offsets of s: off[i] is where the character holding unit i
// starts, both units of a surrogate pair mapping to the same byte, and
// off[units] is len(s). Invalid bytes are one unit each, as in appendUTF16.
// It turns twitter-text's UTF-16 spans into cuts of the Go string.
func utf16ByteOffsets(s string, units int) []int {
	off := make([]int, units+1)
	i := 0
	for b := 0; b < len(s); {
		r, size := utf8.DecodeRuneInString(s[b:])
		off[i] = b
		i++
		if r >= 0x10000 {
			off[i] = b
			i++
		}
		b += size
	}
	off[units] = len(s)
	return off
}

// indexUnit2 returns the first i >= from with t[i] == a or t[i] == b, or
// -1; eight units at a time (the searches for '.', '#' and '@' walk every
// unit of most texts).
func indexUnit2(t []uint16, from int, a, b uint16) int {
	const ones, highs = 0x0001000100010001, 0x8000800080008000
	// has is non-zero iff some 16-bit lane of v is zero.
	has := func(v uint64) uint64 { return (v - ones) &^ v }
	i := from
	if i >= 0 && i+8 <= len(t) {
		// The units' bytes, read in the machine's order: each 16-bit lane
		// of a word is one unit (which lane is which does not matter: a
		// hit is found again one unit at a time).
		w := unsafe.Slice((*byte)(unsafe.Pointer(&t[0])), 2*len(t))[2*i:]
		pa, pb := uint64(a)*ones, uint64(b)*ones
		// On a hit, the lowest set bit of a word's mask is in its first
		// lane that matches (a borrow only runs to higher lanes): on
		// little-endian machines that is the first unit found.
		if a == b {
			for len(w) >= 16 {
				v, x := binary.NativeEndian.Uint64(w)^pa, binary.NativeEndian.Uint64(w[8:])^pa
				if mv, mx := has(v)&highs, has(x)&highs; mv|mx != 0 {
					if littleEndian {
						return i + hitLane(mv, mx)
					}
					break
				}
				w, i = w[16:], i+8
			}
		} else {
			for len(w) >= 16 {
				v, x := binary.NativeEndian.Uint64(w), binary.NativeEndian.Uint64(w[8:])
				if mv, mx := (has(v^pa)|has(v^pb))&highs, (has(x^pa)|has(x^pb))&highs; mv|mx != 0 {
					if littleEndian {
						return i + hitLane(mv, mx)
					}
					break
				}
				w, i = w[16:], i+8
			}
		}
	}
	for ; i < len(t); i++ {
		if t[i] == a || t[i] == b {
			return i
		}
	}
	return -1
}
