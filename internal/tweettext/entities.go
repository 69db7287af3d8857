package tweettext

import "unicode"

// Mentions, hashtags and cashtags follow twitter-text's extractors
// (extractMentionsOrListsWithIndices, extractHashtagsWithIndices,
// extractCashtagsWithIndices), scanning UTF-16 units like the URL
// extractor. The one approximation: "letter", "mark" and "numeral" in
// hashtags use Go's Unicode tables (L, M, Nd), where the library carries
// its own copies of older ones; they differ only on characters assigned
// since.

// span is a half-open range of UTF-16 indices.
type span struct{ start, end int }

// mentionSpan is a mention or list: at-sign start, end of the screen name,
// and end of the optional "/list" part (== nameEnd without one).
type mentionSpan struct{ start, nameEnd, end int }

func isAtSign(u uint16) bool   { return u == '@' || u == 0xFF20 }
func isHashSign(u uint16) bool { return u == '#' || u == 0xFF03 }

func isScreenNameChar(u uint16) bool { return isASCIIAlnum(u) || u == '_' }

// extractMentionsOrLists is extractMentionsOrListsWithIndices. The pattern
//
//	(^|[^a-zA-Z0-9_!#$%&*@＠]|(^|[^a-zA-Z0-9_+~.-])(rt|RT|rT|Rt):?)[@＠]([a-zA-Z0-9_]{1,20})(/[a-zA-Z][a-zA-Z0-9_-]{0,24})?
//
// runs globally; a match followed by an at-sign, a Latin accented letter or
// "://" is dropped, and the scan goes on after it.
func extractMentionsOrLists(t []uint16, dst []mentionSpan) []mentionSpan {
	return extractMentionsOrListsFrom(t, 0, true, dst)
}

// extractMentionsOrListsFrom is extractMentionsOrLists for a t with no
// at-sign before index from (the first one, found by scanText): attempts
// before from-4 cannot reach one, so the search starts there. Without
// wide, t holds no '＠' (scanText says so), and the search for at-signs
// looks for '@' only.
func extractMentionsOrListsFrom(t []uint16, from int, wide bool, dst []mentionSpan) []mentionSpan {
	sign2 := uint16(0xFF20)
	if !wide {
		sign2 = '@'
	}
	next := -1 // the first at-sign at or after a, once a passes it
	for a := max(0, from-4); a < len(t); {
		// An attempt at a can only reach an at-sign within a+4 ("xRT:@").
		if next < a {
			if next = indexUnit2(t, a, '@', sign2); next < 0 {
				break
			}
		}
		a = max(a, next-4)
		// Before next-1 only "rt" after a can lead to the at-sign (or
		// "rt" at ^): skip attempts without it.
		for a < next-1 && t[a+1]|0x20 != 'r' && (a != 0 || t[0]|0x20 != 'r') {
			a++
		}
		at := mentionAt(t, a)
		if at < 0 {
			a++
			continue
		}
		nameEnd, e := mentionEnd(t, at)
		if !endsMention(t, e) {
			dst = append(dst, mentionSpan{at, nameEnd, e})
		}
		a = e
	}
	return dst
}

// mentionEnd matches, after the sign at t[at], the screen name
// ([a-zA-Z0-9_]{1,20}, greedy) and an optional list slug
// ((/[a-zA-Z][a-zA-Z0-9_-]{0,24})?): where the name ends, and where the
// whole match does.
func mentionEnd(t []uint16, at int) (nameEnd, end int) {
	e := at + 1
	for e < len(t) && e-(at+1) < 20 && isScreenNameChar(t[e]) {
		e++
	}
	nameEnd = e
	if e+1 < len(t) && t[e] == '/' && (t[e+1]|0x20)-'a' < 26 {
		l := e + 2
		for l < len(t) && l-(e+2) < 24 && (isScreenNameChar(t[l]) || t[l] == '-') {
			l++
		}
		e = l
	}
	return nameEnd, e
}

// mentionAt tries the preceding-character alternatives at attempt position
// a, in the pattern's order, and returns the index of the at-sign of the
// first that leads to an at-sign followed by a screen-name character, or -1.
func mentionAt(t []uint16, a int) int {
	ok := func(at int) bool {
		return at+1 < len(t) && isAtSign(t[at]) && isScreenNameChar(t[at+1])
	}
	// ^
	if a == 0 && ok(0) {
		return 0
	}
	// [^a-zA-Z0-9_!#$%&*@＠]
	if u := t[a]; !(isScreenNameChar(u) || u == '!' || u == '#' || u == '$' || u == '%' || u == '&' || u == '*' || isAtSign(u)) && ok(a+1) {
		return a + 1
	}
	// (^|[^a-zA-Z0-9_+~.-])(rt|RT|rT|Rt):?
	rt := func(i int) int {
		if i+1 < len(t) && (t[i]|0x20) == 'r' && (t[i+1]|0x20) == 't' {
			j := i + 2
			if j < len(t) && t[j] == ':' && ok(j+1) {
				return j + 1
			}
			if ok(j) {
				return j
			}
		}
		return -1
	}
	if a == 0 {
		if at := rt(0); at >= 0 {
			return at
		}
	}
	if u := t[a]; !(isScreenNameChar(u) || u == '+' || u == '~' || u == '.' || u == '-') {
		if at := rt(a + 1); at >= 0 {
			return at
		}
	}
	return -1
}

// endsMention is endMentionMatch at t[i]: ^(?:[@＠]|[latinAccent]|://).
func endsMention(t []uint16, i int) bool {
	if i >= len(t) {
		return false
	}
	u := t[i]
	return isAtSign(u) || isLatinAccent(u) || (u == ':' && i+2 < len(t) && t[i+1] == '/' && t[i+2] == '/')
}

// replyTo is extractReplies: the screen name a text starting with
// (spaces)*@name replies to, or an empty span.
func replyTo(t []uint16) span {
	i := 0
	for i < len(t) && isSpace(t[i]) {
		i++
	}
	if i >= len(t) || !isAtSign(t[i]) {
		return span{}
	}
	e := i + 1
	for e < len(t) && e-(i+1) < 20 && isScreenNameChar(t[e]) {
		e++
	}
	if e == i+1 || endsMention(t, e) {
		return span{}
	}
	return span{i + 1, e}
}

// isSpace is twitter-text's spaces group.
func isSpace(u uint16) bool {
	return (u >= 0x09 && u <= 0x0D) || u == 0x20 || u == 0x85 || u == 0xA0 || u == 0x1680 || u == 0x180E ||
		(u >= 0x2000 && u <= 0x200A) || u == 0x2028 || u == 0x2029 || u == 0x202F || u == 0x205F || u == 0x3000
}

func isHashtagAlpha(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r)
}

func isHashtagAlnum(r rune) bool {
	if r < 0x80 {
		return isASCIIAlnum(uint16(r)) || r == '_'
	}
	switch r {
	case 0x200C, 0x200D, 0xA67E, 0x05BE, 0x05F3, 0x05F4, 0xFF5E, 0x301C, 0x309B, 0x309C, 0x30A0, 0x30FB, 0x3003, 0x0F0B, 0x0F0C, 0xB7:
		return true
	}
	return isHashtagAlpha(r) || unicode.Is(unicode.Nd, r)
}

// extractHashtagSpans is extractHashtagsWithIndices with its default
// checkUrlOverlap. Each span covers the hash sign and the tag. The pattern
//
//	(^|\uFE0E|\uFE0F|$|(?!alnum|&)codePoint)[#＃](?!\uFE0F|\u20E3)(alnum* alpha alnum*)
//
// takes, after the sign, the whole run of hashtag characters if it holds a
// letter (backtracking cannot help otherwise); a match followed by a hash
// sign or "://" is dropped; hashtags overlapping a URL are dropped.
func extractHashtagSpans(t []uint16, urls []urlSpan, dst []span) []span {
	n0 := len(dst)
	dst = hashtagCandidates(t, dst)
	return dst[:n0+len(dropURLOverlaps(dst[n0:], urls))]
}

// hashtagCandidates appends the hashtags of t before the URL check.
func hashtagCandidates(t []uint16, dst []span) []span {
	return hashtagCandidatesFrom(t, 0, true, dst)
}

// hashtagCandidatesFrom is hashtagCandidates for a t with no hash sign
// before index from (the first one, found by scanText): attempts before
// from-2 cannot reach one. Without wide, t holds no '＃', and the search
// for hash signs looks for '#' only.
func hashtagCandidatesFrom(t []uint16, from int, wide bool, dst []span) []span {
	sign2 := uint16(0xFF03)
	if !wide {
		sign2 = '#'
	}
	next := -1 // the first hash sign at or after a, once a passes it
	for a := max(0, from-2); a < len(t); {
		// An attempt at a can only reach a hash sign within a+2 (after a
		// surrogate pair).
		if next < a {
			if next = indexUnit2(t, a, '#', sign2); next < 0 {
				break
			}
		}
		a = max(a, next-2)
		if a == next-2 && !(isHighSurrogate(t[a]) && isLowSurrogate(t[a+1])) {
			a++ // (from next-2 only a code point of two units reaches the sign)
		}
		sign, end := hashtagAt(t, a)
		if sign < 0 {
			a++
			continue
		}
		if !(end < len(t) && isHashSign(t[end])) && !(end+2 < len(t) && t[end] == ':' && t[end+1] == '/' && t[end+2] == '/') {
			dst = append(dst, span{sign, end})
		}
		a = end
	}
	return dst
}

// dropURLOverlaps is removeOverlappingEntities over hashtags and URLs
// sorted by start: an entity starting before the previous kept one ends is
// removed. It filters tags in place and returns the hashtags kept.
func dropURLOverlaps(tags []span, urls []urlSpan) []span {
	if len(urls) == 0 {
		return tags
	}
	kept := tags[:0]
	ui := 0
	prevEnd := -1
	for _, h := range tags {
		for ui < len(urls) && urls[ui].start < h.start {
			if urls[ui].start >= prevEnd {
				prevEnd = urls[ui].end
			}
			ui++
		}
		if h.start >= prevEnd {
			kept = append(kept, h)
			prevEnd = h.end
		}
	}
	return kept
}

// urlMayCoverTag reports whether a URL of t could cover the hash sign of
// one of tags (sorted), which only then needs the URLs of t. A URL that
// covers a '#' holds it in its path or query ('#' is no domain character),
// so its domain, with a '.' followed by a domain character, lies before
// the sign, with no white space in between (no part of a URL holds white
// space). Without such a dot in the run of non-space characters before
// each sign, dropURLOverlaps would drop nothing. The full-width '＃' is a
// domain character ("http://＃tag.com" is a URL): such a tag always may be
// covered.
func urlMayCoverTag(t []uint16, tags []span) bool {
	lo := 0 // t[:lo] was searched for an earlier tag, or is behind white space
	for _, h := range tags {
		if t[h.start] != '#' {
			return true
		}
		for i := h.start - 1; i >= lo && !isSpace(t[i]); i-- {
			if t[i] == '.' && isDomainChar(t[i+1]) {
				return true
			}
		}
		lo = h.start
	}
	return false
}

// hashtagAt tries the boundary alternatives at attempt position a and
// returns the hash sign's index and the tag's end, or -1.
func hashtagAt(t []uint16, a int) (sign, end int) {
	try := func(h int) int {
		if h >= len(t) || !isHashSign(t[h]) || (h+1 < len(t) && (t[h+1] == 0xFE0F || t[h+1] == 0x20E3)) {
			return -1
		}
		e := h + 1
		alpha := false
		for e < len(t) {
			if u := t[e]; u < 0x80 {
				// (ASCII: alnum or '_'; the letters are alpha.)
				if !isScreenNameChar(u) {
					break
				}
				alpha = alpha || isASCIILetter(u)
				e++
				continue
			}
			r, size := runeAt(t, e)
			if size == 1 && isHighSurrogate(t[e]) || size == 1 && isLowSurrogate(t[e]) || !isHashtagAlnum(r) {
				break
			}
			alpha = alpha || isHashtagAlpha(r)
			e += size
		}
		if !alpha {
			return -1
		}
		return e
	}
	// ^ (zero width)
	if a == 0 {
		if e := try(0); e >= 0 {
			return 0, e
		}
	}
	u := t[a]
	// \uFE0E | \uFE0F
	if u == 0xFE0E || u == 0xFE0F {
		if e := try(a + 1); e >= 0 {
			return a + 1, e
		}
		// (the code-point alternative below would consume the same unit)
	}
	// (?!alnum|&)codePoint — a whole code point; a lone surrogate is none.
	r, size := runeAt(t, a)
	if (size == 2 || !(isHighSurrogate(u) || isLowSurrogate(u))) && r != '&' && !isHashtagAlnum(r) {
		if e := try(a + size); e >= 0 {
			return a + size, e
		}
	}
	return -1, -1
}

// extractCashtagSpans is extractCashtagsWithIndices:
//
//	(^|spaces)(\$)([a-z]{1,6}(?:[._][a-z]{1,2})?)(?=$|\s|[punct])
func extractCashtagSpans(t []uint16, dst []span) []span {
	for i, u := range t {
		if u != '$' || (i > 0 && !isSpace(t[i-1])) {
			continue
		}
		if e := cashtagEnd(t, i+1); e >= 0 {
			dst = append(dst, span{i, e})
		}
	}
	return dst
}

func isASCIILetter(u uint16) bool { return (u|0x20)-'a' < 26 }

// cashtagEnd matches the tag and its lookahead at i; backtracking may shorten
// the greedy parts until the lookahead holds.
func cashtagEnd(t []uint16, i int) int {
	j := i
	for j < len(t) && j-i < 6 && isASCIILetter(t[j]) {
		j++
	}
	for k := j; k > i; k-- {
		// (?:[._][a-z]{1,2})? tried first, longest first.
		if k < len(t) && (t[k] == '.' || t[k] == '_') {
			l := k + 1
			for l < len(t) && l-(k+1) < 2 && isASCIILetter(t[l]) {
				l++
			}
			for m := l; m > k+1; m-- {
				if cashtagFollows(t, m) {
					return m
				}
			}
		}
		if cashtagFollows(t, k) {
			return k
		}
	}
	return -1
}

// cashtagFollows is (?=$|\s|[punct]); \s is JavaScript's white space.
func cashtagFollows(t []uint16, i int) bool {
	if i >= len(t) {
		return true
	}
	u := t[i]
	if u < 0x80 {
		switch u {
		case '!', '\'', '#', '%', '&', '(', ')', '*', '+', ',', '\\', '-', '.', '/', ':', ';', '<', '=', '>', '?', '@', '[', ']', '^', '_', '{', '|', '}', '~', '$':
			return true
		}
	}
	return isJSWhite(u)
}

// isJSWhite is JavaScript's \s.
func isJSWhite(u uint16) bool {
	return (u >= 0x09 && u <= 0x0D) || u == 0x20 || u == 0xA0 || u == 0x1680 || (u >= 0x2000 && u <= 0x200A) ||
		u == 0x2028 || u == 0x2029 || u == 0x202F || u == 0x205F || u == 0x3000 || u == 0xFEFF
}
