package tweettext

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

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
	var regions [8]nfcRegion
	c := configV3()
	b := parseBufs{units: units[:0], urls: urls[:0], regions: regions[:0]}
	var sc scratch
	n, _, _, _ := parseText(text, &c, b, &sc, false)
	return n
}

// WeightedLength is Parse(text).WeightedLength.
func WeightedLength(text string) int {
	return Parse(text).WeightedLength
}

// parser holds buffers reused across calls (CheckBatch keeps one per
// stream), so that counting allocates nothing in the common case.
type parser struct {
	bufs     parseBufs
	scratch  scratch
	units    []uint16  // the text in UTF-16 (bufs.units)
	urls     []urlSpan // URLs of the counted form (bufs.urls)
	ourls    []urlSpan // URLs of units, when that is not the counted form
	tags     []span
	mentions []mentionSpan
	json     []byte // CheckBatch: the line's text, when it held escapes
	scan     textScan
	// normalized: the last parse counted nunits, an NFC form that differs
	// from the text, so urls are not positions in units.
	normalized bool
}

// parse counts text, keeping the buffers for the next call.
func (p *parser) parse(text string, c config) Count {
	return p.parseText(text, c, false)
}

// weigh is parse for check, which needs only the Count's WeightedLength
// and Permillage: the others are left zero.
func (p *parser) weigh(text string, c config) Count {
	return p.parseText(text, c, true)
}

func (p *parser) parseText(text string, c config, weightOnly bool) Count {
	n, bufs, scan, normalized := parseText(text, &c, p.bufs, &p.scratch, weightOnly)
	p.bufs = bufs
	p.units, p.urls = p.bufs.units, p.bufs.urls
	p.scan, p.normalized = scan, normalized
	return n
}

// parseBufs are the buffers of one parse: the text in UTF-16, its NFC form
// (when that differs), the URLs of the counted form and the stretches of
// the text that may not be in NFC.
//
// The scratch buffers that escape (the NFC bytes, the URL chain) travel
// outside this struct, so that Parse's stack buffers can stay on the stack.
type parseBufs struct {
	units, nunits []uint16
	urls          []urlSpan
	regions       []nfcRegion
}

// scratch are parse buffers that escape to the heap anyway.
type scratch struct {
	nfc   []byte       // the NFC form of a region (or, for invalid UTF-8, of the text) in UTF-8
	chain []chainLabel // the URL scanner's chain cache
	// iter normalises regions; made on first use (norm's Append makes a
	// buffer of its size at each call).
	iter *norm.Iter
}

// parseText counts text, in b (returned) and sc, and returns the count,
// what the scan saw and whether nunits (not units) was counted: one pass
// (scanText) converts it to UTF-16 and notes what later steps may skip;
// NFC is applied only to the stretches where that pass found code points
// it cannot vouch for. (A plain function, not a method, so that Parse's
// stack buffers stay on the stack.) With weightOnly, the Count has only
// WeightedLength and Permillage (weighUnits).
func parseText(text string, c *config, b parseBufs, sc *scratch, weightOnly bool) (n Count, _ parseBufs, scan textScan, normalized bool) {
	b.units, b.nunits, b.urls, b.regions = b.units[:0], b.nunits[:0], b.urls[:0], b.regions[:0]
	b.units, b.regions, scan = scanText(b.units, b.regions, text)
	t := b.units
	if scan.maybeDenormal {
		b.nunits, normalized = normalizeRegions(b.nunits, sc, text, b.units, b.regions, scan)
		if normalized {
			t = b.nunits
		}
	}
	from := scan.firstDot // every URL holds a '.'
	if normalized {
		from = 0 // (the units moved)
	}
	b.urls, sc.chain = extractURLsFrom(t, from, b.urls, sc.chain)
	if weightOnly {
		wl := weighUnits(t, b.urls, c) / c.scale
		return Count{WeightedLength: wl, Permillage: permillage(wl, c)}, b, scan, normalized
	}
	return countUnits(t, b.urls, len(b.units), c), b, scan, normalized
}

// normalizeRegions appends to dst the NFC form of text in UTF-16 (units)
// and reports whether it differs from units; when it does not, dst is
// left empty. Only the regions (see nfcRegion) are checked and, when the
// quick check fails, normalised; text in between is NFC and copied as
// units.
//
// Cutting there changes nothing: a region starts at a code point nfcStable
// vouches for (or at the text's start) and ends before one; such a code
// point is a starter that never combines with what precedes it, so no
// composition, reordering or stream-safe run of non-starters crosses the
// cut, and the NFC form of the text is that of its pieces, back to back.
// Text with invalid UTF-8 goes to the normaliser whole, as it always did:
// around invalid bytes its runs differ.
func normalizeRegions(dst []uint16, sc *scratch, text string, units []uint16, regions []nfcRegion, scan textScan) ([]uint16, bool) {
	if scan.badUTF8 >= 0 {
		from := scan.stableUpTo
		q := from + norm.NFC.QuickSpanString(text[from:])
		if q == len(text) {
			return dst, false
		}
		sc.nfc = norm.NFC.AppendString(append(sc.nfc[:0], text[:q]...), text[q:])
		if string(sc.nfc) == text {
			return dst, false
		}
		return appendUTF16Bytes(dst, sc.nfc), true
	}
	changed := false
	copied := 0 // units[:copied] are in dst
	for k := range regions {
		g := &regions[k]
		seg := text[g.from:g.to]
		if norm.NFC.QuickSpanString(seg) == len(seg) {
			continue
		}
		if sc.iter == nil {
			sc.iter = new(norm.Iter)
		}
		sc.nfc = sc.nfc[:0]
		for sc.iter.InitString(norm.NFC, seg); !sc.iter.Done(); {
			sc.nfc = append(sc.nfc, sc.iter.Next()...)
		}
		if string(sc.nfc) == seg {
			continue
		}
		changed = true
		dst = append(dst, units[copied:g.ufrom]...)
		n := len(dst)
		dst = appendUTF16Bytes(dst, sc.nfc)
		g.nlen = len(dst) - n
		copied = g.uto
	}
	if !changed {
		return dst[:0], false
	}
	return append(dst, units[copied:]...), true
}

// An nfcRegion is a stretch of a text that nfcStable cannot vouch for:
// from the last code point it vouches for before a run of others (or from
// the start of the text) to the next code point it vouches for (or the end
// of the text); bytes from:to of the text, units ufrom:uto of its UTF-16.
// normalizeRegions sets nlen, the length of its NFC form in units, when
// that differs from the region (0: unchanged, as a region is never
// empty).
type nfcRegion struct{ from, to, ufrom, uto, nlen int }

// textScan is what one pass over a text learned about it.
type textScan struct {
	badUTF8       int  // byte offset of the first invalid UTF-8 byte, or -1
	badChar       int  // byte offset of the first NUL, U+FFFE, U+FEFF or U+FFFF, or -1
	badRune       rune // that character
	blank         bool // nothing but white space and zero-width characters
	maybeDenormal bool // holds code points nfcStable cannot vouch for
	stableUpTo    int  // byte offset before which the text is NFC and ends on a boundary
	hasAt         bool // '@' or '＠': mentions possible
	hasHash       bool // '#' or '＃': hashtags possible
	firstAt       int  // UTF-16 index of the first '@' or '＠', or -1
	firstHash     int  // UTF-16 index of the first '#' or '＃', or -1
	firstDot      int  // UTF-16 index of the first '.', or -1: no URL before it
	wideAt        bool // holds '＠'
	wideHash      bool // holds '＃'
}

// scanText appends s to dst as UTF-16 (invalid bytes as U+FFFD), appends
// to regions the stretches of s that may not be in NFC, and reports what
// it saw, in one pass.
func scanText(dst []uint16, regions []nfcRegion, s string) ([]uint16, []nfcRegion, textScan) {
	sc := textScan{badUTF8: -1, badChar: -1, blank: true, firstDot: -1, firstAt: -1, firstHash: -1}
	// A byte never becomes more than one unit (a 4-byte sequence becomes
	// two), so the output fits in len(s) units: write by index.
	n := len(dst)
	if cap(dst)-n < len(s) {
		dst = append(make([]uint16, 0, n+len(s)), dst...)
	}
	out := dst[n : n+len(s)]
	j := 0
	stab := nfcStableBMP()
	stable, ustable := 0, 0 // start of the last code point nfcStable vouched for (bytes, units)
	open := false           // in a region, which started at stable
	// The ASCII signs, found by vectorised searches: only an ASCII byte
	// becomes an ASCII unit ('@', '#', '.', NUL), and it stays one unit.
	atByte := strings.IndexByte(s, '@')
	hashByte := strings.IndexByte(s, '#')
	dotByte := strings.IndexByte(s, '.')
	nul := strings.IndexByte(s, 0)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			// A run of ASCII, in tight loops: ASCII is NFC-stable.
			if open {
				regions = append(regions, nfcRegion{from: stable, to: i, ufrom: ustable, uto: j})
				open = false
			}
			k := asciiCopy(out[j:], s, i)
			if dotByte >= i && dotByte < k {
				sc.firstDot = j + dotByte - i // units of ASCII are its bytes
			}
			if atByte >= i && atByte < k && sc.firstAt < 0 {
				sc.firstAt = j + atByte - i
			}
			if hashByte >= i && hashByte < k && sc.firstHash < 0 {
				sc.firstHash = j + hashByte - i
			}
			run := s[i:k]
			if sc.blank {
				for x := 0; x < len(run); x++ {
					if c := run[x]; !(c == ' ' || (c >= '\t' && c <= '\r')) {
						sc.blank = false
						break
					}
				}
			}
			stable, ustable = k-1, j+len(run)-1
			i, j = k, j+len(run)
			continue
		}
		// Valid sequences decoded here; anything invalid by
		// utf8.DecodeRuneInString.
		var r rune
		var size int
		if c < 0xE0 {
			if c >= 0xC2 && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
				r, size = rune(c&0x1F)<<6|rune(s[i+1]&0x3F), 2
			} else {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
		} else if c < 0xF0 && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			// Overlong forms (below U+0800) and surrogates are invalid.
			if r = rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F); r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
				size = 3
			} else {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
		} else if c >= 0xF0 && c < 0xF5 && i+3 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 && s[i+3]&0xC0 == 0x80 {
			// Four bytes (emoji): overlong forms and code points past
			// U+10FFFF are invalid.
			if r = rune(c&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F); r >= 0x10000 && r <= utf8.MaxRune {
				size = 4
			} else {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
		} else {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r < 0xFEFF:
			// None of the units below: most non-ASCII code points.
		case r == utf8.RuneError && size == 1:
			if sc.badUTF8 < 0 {
				sc.badUTF8 = i
			}
		case r == 0xFFFE || r == 0xFEFF || r == 0xFFFF:
			if sc.badChar < 0 {
				sc.badChar, sc.badRune = i, r
			}
		case r == 0xFF20:
			sc.wideAt = true
			if sc.firstAt < 0 {
				sc.firstAt = j
			}
		case r == 0xFF03:
			sc.wideHash = true
			if sc.firstHash < 0 {
				sc.firstHash = j
			}
		}
		if r <= 0xFFFF && stab[r>>6]&(1<<(r&63)) != 0 || r >= 0x1F000 && r <= 0x1FAFF || r >= 0xE0020 && r <= 0xE007F {
			if open {
				regions = append(regions, nfcRegion{from: stable, to: i, ufrom: ustable, uto: j})
				open = false
			}
			stable, ustable = i, j
		} else if !open {
			open = true
			if !sc.maybeDenormal {
				sc.maybeDenormal = true
				sc.stableUpTo = stable
			}
		}
		if sc.blank && !isBlankRune(r) {
			sc.blank = false
		}
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			out[j], out[j+1] = uint16(r1), uint16(r2)
			j += 2
		} else {
			out[j] = uint16(r)
			j++
		}
		i += size
		if open || sc.blank {
			continue
		}
		// What follows, while it is two- and three-byte code points below
		// U+FEFF that nfcStable vouches for, needs nothing noted but the
		// last stable start: a tight loop (CJK, Arabic, Cyrillic text).
		for i+1 < len(s) {
			c := s[i]
			if c >= 0xC2 && c < 0xE0 && s[i+1]&0xC0 == 0x80 {
				r, size = rune(c&0x1F)<<6|rune(s[i+1]&0x3F), 2
			} else if c >= 0xE0 && c < 0xF0 && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
				// (An overlong form is invalid; surrogates are not stable.)
				if r, size = rune(c&0x0F)<<12|rune(s[i+1]&0x3F)<<6|rune(s[i+2]&0x3F), 3; r < 0x800 {
					break
				}
			} else {
				break
			}
			if r >= 0xFEFF || stab[r>>6]&(1<<(r&63)) == 0 {
				break
			}
			out[j] = uint16(r)
			stable, ustable = i, j
			i += size
			j++
		}
	}
	if open {
		regions = append(regions, nfcRegion{from: stable, to: len(s), ufrom: ustable, uto: j})
	}
	sc.hasAt, sc.hasHash = sc.firstAt >= 0, sc.firstHash >= 0
	if nul >= 0 && (sc.badChar < 0 || nul < sc.badChar) {
		sc.badChar, sc.badRune = nul, 0
	}
	return dst[:n+j], regions, sc
}

// asciiCopy writes the run of ASCII bytes of s from i (s[i] is one) to out
// as UTF-16 and returns its end, eight bytes at a time: each word is
// written whole, as two words of four units, and a run that ends inside it
// ends at its first non-ASCII byte (the units written past the run are
// overwritten by the scan, which writes every unit in order, or lie past
// its end). out has room for the rest of s.
func asciiCopy(out []uint16, s string, i int) int {
	const highs = 0x8080808080808080
	k := i
	if len(s)-k >= 8 {
		// Windows cut as the copy goes: the loop needs no bounds checks.
		src := unsafe.Slice(unsafe.StringData(s), len(s))[k:]
		dst := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), 2*len(out))
		shift := unitShift
		for len(src) >= 8 && len(dst) >= 16 {
			w := binary.LittleEndian.Uint64(src)
			binary.LittleEndian.PutUint64(dst, spreadUnits(uint32(w))<<shift)
			binary.LittleEndian.PutUint64(dst[8:], spreadUnits(uint32(w>>32))<<shift)
			if h := w & highs; h != 0 {
				return k + bits.TrailingZeros64(h)/8
			}
			src, dst, k = src[8:], dst[16:], k+8
		}
	}
	for k < len(s) && s[k] < utf8.RuneSelf {
		out[k-i] = uint16(s[k])
		k++
	}
	return k
}

// spreadUnits widens the four bytes of v to four 16-bit lanes, the first
// byte in the lowest.
func spreadUnits(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	return (x | x<<8) & 0x00FF00FF00FF00FF
}

// unitShift places a byte in the low byte of its unit when a word of
// spreadUnits lanes is written little-endian: 0 on little-endian machines,
// 8 on big-endian ones (where a unit's first byte is its high one).
var unitShift = func() uint {
	if littleEndian {
		return 0
	}
	return 8
}()

// littleEndian: the machine stores a unit's low byte first (the first unit
// of a word read in native order is then its lowest lane).
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// nfcStableBMP is nfcStable for the BMP as a bitset (scanText asks it of
// every non-ASCII code point; the switch below tests up to twenty ranges).
// The bits are generated from nfcStableRanges (nfcStableBits, in
// tries_gen.go), so no table is built at start; TestNFCStableBMP checks
// them against nfcStable for every unit.
func nfcStableBMP() *[1 << 16 / 64]uint64 { return &nfcStableBits }

// nfcStableRangeBits is the bitset of nfcStableRanges (the generator's
// source for nfcStableBits).
func nfcStableRangeBits() *[1 << 16 / 64]uint64 {
	var b [1 << 16 / 64]uint64
	for _, rg := range nfcStableRanges {
		for r := rg[0]; r <= rg[1]; r++ {
			b[r>>6] |= 1 << (r & 63)
		}
	}
	return &b
}

// nfcStableRanges are nfcStable's BMP ranges (beyond it: U+1F000..U+1FAFF
// and the tags U+E0020..U+E007F).
var nfcStableRanges = [...][2]rune{
	{0, 0x2FF}, {0x391, 0x3A9}, {0x3B1, 0x3C9}, {0x400, 0x482}, {0x5D0, 0x5EA}, {0x620, 0x64A}, {0x671, 0x6D3},
	{0x2002, 0x200D}, {0x2010, 0x2027}, {0x2030, 0x205E}, {0x20E3, 0x20E3},
	{0x2100, 0x2125}, {0x2127, 0x2129}, {0x212C, 0x218F}, {0x2190, 0x2328}, {0x232B, 0x2ADB}, {0x2ADD, 0x2BFF},
	{0x3000, 0x3029}, {0x3030, 0x303F}, {0x3041, 0x3096}, {0x30A1, 0x30FA},
	{0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xFE00, 0xFE0F}, {0xFF01, 0xFFBE},
}

// nfcStable reports code points of common blocks that are NFC_QC=Yes with
// canonical combining class 0 and never combine with what precedes them:
// a text made only of them is in NFC. Anything else goes to the quick check.
func nfcStable(r rune) bool {
	switch {
	case r < 0x300: // ASCII, Latin-1, Latin Extended, IPA, spacing modifiers
		return true
	case r >= 0x391 && r <= 0x3A9, r >= 0x3B1 && r <= 0x3C9: // Greek letters (not the tonos ones nor the singletons about them)
		return true
	case r >= 0x400 && r <= 0x482: // Cyrillic letters
		return true
	case r >= 0x5D0 && r <= 0x5EA, r >= 0x620 && r <= 0x64A, r >= 0x671 && r <= 0x6D3: // Hebrew and Arabic letters (Persian and Urdu too)
		return true
	case r >= 0x2002 && r <= 0x200D, r >= 0x2010 && r <= 0x2027, r >= 0x2030 && r <= 0x205E: // spaces, zero-width characters, punctuation (not U+2000/2001: singletons)
		return true
	case r == 0x20E3, r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0020 && r <= 0xE007F: // keycap, variation selectors, tags (of emoji sequences)
		return true
	case r >= 0x2100 && r <= 0x2125, r >= 0x2127 && r <= 0x2129, r >= 0x212C && r <= 0x218F: // letterlike symbols, number forms (not the singletons Ω, K, Å)
		return true
	case r >= 0x2190 && r <= 0x2328, r >= 0x232B && r <= 0x2ADB, r >= 0x2ADD && r <= 0x2BFF: // arrows, symbols, dingbats (not the singletons U+2329, U+232A, U+2ADC)
		return true
	case r >= 0x3000 && r <= 0x3029, r >= 0x3030 && r <= 0x303F: // CJK space and punctuation (not the tone marks)
		return true
	case r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA: // kana
		return true
	case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs
		return true
	case r >= 0xAC00 && r <= 0xD7A3: // Hangul syllables (a following jamo is not stable)
		return true
	case r >= 0x1F000 && r <= 0x1FAFF: // emoji
		return true
	case r >= 0xFF01 && r <= 0xFFBE: // full-width forms
		return true
	}
	return false
}

// unitWalk is the walk countUnits and weighUnits share: the weight of a
// URL, an emoji sequence or one code point, and where the next URL starts.
type unitWalk struct {
	t           []uint16
	urls        []urlSpan
	c           *config
	emoji       emojiScanner
	emojiFrom   int // no emoji match starts before this
	nextURL, ui int // start of the next URL, and its index in urls
	asciiWeight int // every range config gives ASCII one weight
}

func newUnitWalk(t []uint16, urls []urlSpan, c *config) unitWalk {
	w := unitWalk{t: t, urls: urls, c: c, emoji: newEmojiScanner(c.emoji), nextURL: len(t), asciiWeight: c.weight('a')}
	if len(urls) > 0 {
		w.nextURL = urls[0].start
	}
	return w
}

// step weighs the URL, emoji sequence or code point that starts at t[i]
// (before scaling) and returns its weight and the index of its last unit.
func (w *unitWalk) step(i int) (weight, last int) {
	t, c, u := w.t, w.c, w.t[i]
	e := -1 // the emoji match at i
	if i != w.nextURL && w.emoji.trie != nil && i >= w.emojiFrom && w.emoji.trie.canStart(u) {
		e = w.emoji.trie.match(t, i, w.emoji.mask)
	}
	switch {
	case i == w.nextURL:
		weight = c.transformedURLLength * c.scale
		end := i + w.urls[w.ui].length
		if w.emoji.trie != nil {
			w.emojiFrom = emojiMatchesEnd(t, max(i, w.emojiFrom), min(end, len(t)), w.emojiFrom, w.emoji.trie, w.emoji.mask)
		}
		i = end - 1
	case e >= 0:
		weight = c.defaultWeight
		w.emojiFrom = e
		i = e - 1
	case u < 0x80:
		weight = w.asciiWeight
	default:
		if isHighSurrogate(u) && i+1 < len(t) && isLowSurrogate(t[i+1]) {
			i++
		}
		weight = c.weight(t[i])
	}
	if i >= w.nextURL {
		// Passed (or skipped into) URLs: find the next one that starts
		// after i; one starting inside a skipped span is never seen, as
		// in the library.
		for w.ui < len(w.urls) && w.urls[w.ui].start <= i {
			w.ui++
		}
		w.nextURL = len(t)
		if w.ui < len(w.urls) {
			w.nextURL = w.urls[w.ui].start
		}
	}
	return weight, i
}

// countUnits is parseTweet's loop over the normalised text t (UTF-16) with
// the URLs of t; origLen is the UTF-16 length of the text before
// normalisation, which only shifts the ranges.
//
// Emoji are the library's global, leftmost and non-overlapping matches. The
// loop tries a match at each unit it weighs that can start one, and skips
// what a match covers; units it does not weigh one by one are no emoji
// start (ASCII and plain runs, the second unit of a pair) or lie in a URL,
// where it runs the matches itself (emojiFrom: a match found there may
// cover units after the URL, where no match can then start).
func countUnits(t []uint16, urls []urlSpan, origLen int, c *config) Count {
	w := newUnitWalk(t, urls, c)
	emoji, asciiWeight := w.emoji, w.asciiWeight
	limit := c.maxWeightedLength * c.scale
	weighted, validDisplay := 0, 0
	valid := true
	for i := 0; i < len(t); i++ {
		u := t[i]
		if u < 0x80 && i != w.nextURL && asciiWeight > 0 && (emoji.trie == nil || !emoji.trie.canStart(u) || i+1 < len(t) && t[i+1] < 0x80) {
			// A run of plain ASCII before the next URL: what the general
			// step (unitWalk.step) does unit by unit, at once (none is invalid, and
			// the valid range ends where the weight passes the limit). An
			// emoji sequence's second code point is never ASCII (see
			// TestEmojiFollowNotASCII), so of an ASCII run only the last
			// unit can start one.
			j := asciiUnitsEnd(t, i+1, w.nextURL)
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
			i = j - 1 // still before the next URL
			continue
		}
		if u >= 0x80 && i != w.nextURL && plainNonASCII(u, emoji.trie) {
			// A run of other units that are no emoji start, surrogate or
			// invalid character: the general step, without its
			// branches.
			j := i
			for j < w.nextURL {
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
			i = j - 1 // still before the next URL
			continue
		}
		var wt int
		wt, i = w.step(i)
		weighted += wt
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
		Permillage:        permillage(wl, c),
		DisplayRangeStart: 0,
		DisplayRangeEnd:   displayEnd,
		ValidRangeStart:   0,
		ValidRangeEnd:     validDisplay + origLen - len(t),
	}
}

// permillage is Count.Permillage of a weighted length.
func permillage(wl int, c *config) int {
	return int(math.Floor(float64(wl) / float64(c.maxWeightedLength) * 1000))
}

// weighUnits is countUnits' weight of t (before scaling) alone, by the
// same walk without what the valid range and validity need: an invalid
// character weighs like any other unit, so it joins the plain runs.
func weighUnits(t []uint16, urls []urlSpan, c *config) int {
	w := newUnitWalk(t, urls, c)
	emoji, asciiWeight := w.emoji, w.asciiWeight
	weighted := 0
	for i := 0; i < len(t); i++ {
		u := t[i]
		if u < 0x80 && i != w.nextURL && (emoji.trie == nil || !emoji.trie.canStart(u) || i+1 < len(t) && t[i+1] < 0x80) {
			// A run of plain ASCII before the next URL (see countUnits).
			j := asciiUnitsEnd(t, i+1, w.nextURL)
			if emoji.trie != nil && j < len(t) && t[j] >= 0x80 && emoji.trie.canStart(t[j-1]) {
				j--
			}
			weighted += (j - i) * asciiWeight
			i = j - 1
			continue
		}
		if u >= 0x80 && i != w.nextURL && weighsAlone(u, emoji.trie) {
			j := i
			for j < w.nextURL {
				u := t[j]
				if u < 0x80 || !weighsAlone(u, emoji.trie) {
					break
				}
				weighted += c.weight(u)
				j++
			}
			i = j - 1
			continue
		}
		var wt int
		wt, i = w.step(i)
		weighted += wt
	}
	return weighted
}

// weighsAlone: a unit weighUnits weighs on its own (a non-ASCII one that
// is no surrogate and starts no emoji match).
func weighsAlone(u uint16, trie *emojiTrie) bool {
	return (u < 0xD800 || u > 0xDFFF) && (trie == nil || !trie.canStart(u))
}

// emojiMatchesEnd runs the emoji matches over t[from:to] (units countUnits
// skips as a URL) and returns where the last one found ends, or covered
// if none is found.
func emojiMatchesEnd(t []uint16, from, to, covered int, trie *emojiTrie, mask uint8) int {
	for p := from; p < to; p++ {
		if t[p] < 0x80 {
			// Only the last of a run of ASCII units can start a match
			// (TestEmojiFollowNotASCII): skip to it.
			p = asciiUnitsEnd(t, p+1, to) - 1
		}
		if trie.canStart(t[p]) {
			if e := trie.match(t, p, mask); e >= 0 {
				covered = e
				p = e - 1
			}
		}
	}
	return covered
}

// asciiUnitsEnd returns the first j in [i, limit) with t[j] >= 0x80, or
// limit (limit <= len(t)); four units at a time.
func asciiUnitsEnd(t []uint16, i, limit int) int {
	if i >= 0 && i+4 <= limit {
		const high = 0xFF80FF80FF80FF80
		w := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t))), 2*limit)[2*i:]
		for len(w) >= 16 { // (eight units a turn, then four)
			if mv, mx := binary.NativeEndian.Uint64(w)&high, binary.NativeEndian.Uint64(w[8:])&high; mv|mx != 0 {
				if littleEndian {
					return i + hitLane(mv, mx)
				}
				break
			}
			w, i = w[16:], i+8
		}
		for len(w) >= 8 {
			if m := binary.NativeEndian.Uint64(w) & high; m != 0 {
				// Each lane's bits are its own unit's: the lowest set
				// one is in the first non-ASCII unit (on little-endian
				// machines, the first unit is the lowest lane).
				if littleEndian {
					return i + bits.TrailingZeros64(m)/16
				}
				break
			}
			w, i = w[8:], i+4
		}
	}
	for i < limit && t[i] < 0x80 {
		i++
	}
	return i
}

// plainNonASCII: a unit countUnits weighs on its own, with no other rule
// to apply (trie is the emoji trie in use, or nil).
func plainNonASCII(u uint16, trie *emojiTrie) bool {
	return (u < 0xD800 || u > 0xDFFF) && !isInvalidChar(u) && (trie == nil || !trie.canStart(u))
}

// isInvalidChar is twitter-text's invalidChars: U+FFFE, U+FEFF, U+FFFF.
func isInvalidChar(u uint16) bool {
	return u == 0xFFFE || u == 0xFEFF || u == 0xFFFF
}
