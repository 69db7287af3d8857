package tweettext

// This file reproduces twitter-text's extractUrlsWithIndices (JavaScript,
// 3.1.0) without regular expressions. The library runs one big pattern,
//
//	(precedingChar|^)((https?://)?domain(:port)?(/path)?(\?query)?)
//
// case-insensitively over UTF-16 code units, then filters each match. Each
// piece below states the sub-pattern it replaces and why a direct scan
// gives the same match as the backtracking engine: everything after the
// domain is optional, so once a domain matches the whole match succeeds,
// and each optional part then takes what its greedy-with-backtracking
// pattern would.

// urlSpan is one extracted URL. start and end are its indices, as the
// library reports them; length is the length of its url string, which
// parseTweet skips — for a URL without protocol whose domain had to be
// trimmed to its ASCII part these differ, and parseTweet really does skip
// only length units.
type urlSpan struct {
	start, end, length int
	// gapFrom:gapTo is the part of the indices that is not in the url
	// string (the non-ASCII head of a domain dropped by the library), usually
	// empty.
	gapFrom, gapTo int
}

const (
	maxURLLength      = 4096
	maxTcoSlugLength  = 40
	maxDNSLabelLength = 63
)

// urlScanner holds the state of one extraction: caches that keep it linear
// on long inputs (the library is quadratic on some of them).
type urlScanner struct {
	// run cache: t[runFrom:runEnd] are all label characters (domain
	// characters, '-' or '_'); t[runEnd] is not. lastUnderscore is the
	// index of the last '_' in the run, or -1.
	runFrom, runEnd, lastUnderscore int
	// chain cache: result of domainFrom for label starts after a '.',
	// filled by one forward scan of a chain of labels.
	chain []chainLabel
	// dot is the last candidate dot found (-1: none left).
	dot int
	// tld cache: tlds().match(t, tldQ) is tldEnd. Attempts that start in
	// the same label ask for the TLD after it again and again.
	tldQ, tldEnd int
	// failed domains: domainFrom(s) is -1 for every s in (failFrom,
	// failTo), as it was at failFrom (see domainFrom).
	failFrom, failTo int
}

// nextDot is nextCandidateDot(t, from) for non-decreasing from: the last
// answer, the first candidate at or after an earlier from, is still the
// answer while it is not behind from (and -1 stays -1).
func (sc *urlScanner) nextDot(t []uint16, from int) int {
	if sc.dot < 0 || sc.dot >= from {
		return sc.dot
	}
	sc.dot = nextCandidateDot(t, from)
	return sc.dot
}

// chainLabel is one label of a cached chain: its start, its '.', whether
// it holds '_', and the domain end for a match whose labels start here.
type chainLabel struct {
	start, dot, end int
	underscore      bool
}

// extractURLs appends the URLs of t to dst, in order.
func extractURLs(t []uint16, dst []urlSpan) []urlSpan {
	dst, _ = extractURLsScratch(t, dst, nil)
	return dst
}

// extractURLsScratch is extractURLs with a reusable buffer for the label
// chain cache (returned for the next call).
func extractURLsScratch(t []uint16, dst []urlSpan, chain []chainLabel) ([]urlSpan, []chainLabel) {
	return extractURLsFrom(t, 0, dst, chain)
}

// extractURLsFrom is extractURLsScratch for a t without '.' before from
// (from < 0: without any '.').
func extractURLsFrom(t []uint16, from int, dst []urlSpan, chain []chainLabel) ([]urlSpan, []chainLabel) {
	if from < 0 {
		return dst, chain
	}
	// Every domain ends in '.' + TLD, and TLDs start with a domain
	// character; without such a dot there is no URL. (The library's own
	// shortcut is weaker: any '.'.) Most tweets stop here.
	d := nextCandidateDot(t, from)
	if d < 0 {
		return dst, chain
	}
	sc := urlScanner{runFrom: -1, runEnd: -1, chain: chain[:0], dot: d, tldQ: -1, failFrom: -1, failTo: -1}
	pos := 0 // the pattern's lastIndex
	for pos < len(t) {
		m, ok := sc.find(t, pos)
		if !ok {
			break
		}
		pos = m.end
		dst = sc.accept(t, m, dst)
	}
	return dst, sc.chain
}

// nextCandidateDot returns the first i >= from with t[i] == '.' followed by
// a domain character, or -1.
func nextCandidateDot(t []uint16, from int) int {
	for i := from; ; i++ {
		if i = indexUnit2(t, i, '.', '.'); i < 0 || i+1 >= len(t) {
			return -1
		}
		if isDomainChar(t[i+1]) {
			return i
		}
	}
}

// isRunChar: characters a domain is made of (labels and dots).
func isRunChar(u uint16) bool {
	if u < 128 {
		return asciiClass[u]&clsRun != 0
	}
	return notDomainCharBits[u>>6]&(1<<(u&63)) == 0
}

// urlStartSlack is how far before its domain a match can begin: the
// preceding character and "https://".
const urlStartSlack = 1 + len("https://")

// urlMatch is one match of the big pattern.
type urlMatch struct {
	before    int // index of the preceding character, or -1 at ^
	start     int // url start
	protoEnd  int // == start without protocol
	domainEnd int
	hasPath   bool
	end       int
}

// find is one exec of the pattern from lastIndex pos: the first attempt
// position a that yields a match. At a, the engine first consumes t[a] as
// the preceding character (if allowed) and looks for a URL at a+1; only at
// a == 0 does it then try ^ with the URL at 0.
//
// Attempts are only made where a match can begin: the domain of any match
// lies in a run of domain characters, '-', '_' and '.' that holds a
// candidate dot d at or after the domain's start, so the match begins in
// [runStart-urlStartSlack, d]. Skipping other positions keeps the order of
// the attempts, hence the result.
func (sc *urlScanner) find(t []uint16, pos int) (urlMatch, bool) {
	a := pos
	for {
		d := sc.nextDot(t, a)
		if d < 0 {
			return urlMatch{}, false
		}
		r0 := d
		for r0 > a && isRunChar(t[r0-1]) {
			r0--
		}
		if r0 > a && !(r0 >= 3 && t[r0-1] == '/' && t[r0-2] == '/' && t[r0-3] == ':') {
			// The run starts at r0 and no protocol can end there: a
			// match whose domain holds the run's dots starts at r0, and
			// one starting before r0-1 would hold a candidate dot
			// before d. Only t[r0-1] can precede.
			a = r0 - 1
		} else {
			a = max(a, r0-urlStartSlack)
		}
		for ; a <= d; a++ {
			// (A URL starts with a domain character, 'h' of a protocol
			// included: urlAt fails at once on anything else. Nor need
			// it try a domain domainFrom has seen fail.)
			if validPreceding(t[a]) && a+1 < len(t) && isDomainChar(t[a+1]) && !sc.failed(t, a+1) {
				if m, ok := sc.urlAt(t, a+1); ok {
					m.before = a
					return m, true
				}
			}
			if a == 0 {
				if m, ok := sc.urlAt(t, 0); ok {
					m.before = -1
					return m, true
				}
			}
		}
	}
}

// validPreceding is validUrlPrecedingChars:
// [^A-Za-z0-9@＠$#＃\uFFFE\uFEFF\uFFFF] | [directional marks]. (The directional
// marks are in the first class already.)
func validPrecedingSlow(u uint16) bool {
	switch {
	case isASCIIAlnum(u):
		return false
	case u == '@' || u == '$' || u == '#' || u == 0xFF20 || u == 0xFF03:
		return false
	case u == 0xFFFE || u == 0xFEFF || u == 0xFFFF:
		return false
	}
	return true
}

// urlAt matches (https?://)?domain(:port)?(/path)?(\?query)? at s.
func (sc *urlScanner) urlAt(t []uint16, s int) (urlMatch, bool) {
	if s >= len(t) {
		return urlMatch{}, false
	}
	m := urlMatch{start: s, protoEnd: s}
	// (https?://)? is greedy: with the protocol first, then without. Without
	// it the domain would start with "http", whose label ends at ':' and so
	// cannot match: no need to try.
	if p := protocolEnd(t, s); p > s {
		m.protoEnd = p
	}
	d := sc.domainFrom(t, m.protoEnd)
	if d < 0 {
		return urlMatch{}, false
	}
	m.domainEnd = d
	i := d
	// (?::([0-9]+))?
	if i+1 < len(t) && t[i] == ':' && isDigit(t[i+1]) {
		i += 2
		for i < len(t) && isDigit(t[i]) {
			i++
		}
	}
	// (\/validUrlPath*)?
	if i < len(t) && t[i] == '/' {
		m.hasPath = true
		i++
		for {
			e, group := pathIteration(t, i)
			if e < 0 {
				break
			}
			i = e
			if group {
				// The region had no ending character, nor has any suffix
				// of it: only directly adjacent groups can follow. (Looping
				// through pathIteration would rescan the region each time.)
				for b := balancedParens(t, i); b >= 0; b = balancedParens(t, i) {
					i = b
				}
				break
			}
		}
	}
	// (\?validUrlQueryChars*validUrlQueryEndingChars)?
	if i < len(t) && t[i] == '?' {
		if e := queryEnd(t, i+1, len(t)); e >= 0 {
			i = e
		}
	}
	m.end = i
	return m, true
}

func isDigit(u uint16) bool { return u-'0' < 10 }

// protocolEnd matches https?:// case-insensitively at s; it returns s if
// there is none.
//
// (u|0x20 == 'h' holds just for 'h' and 'H': no other unit canonicalises
// to an ASCII letter, so this is canon(u) == 'H'.)
func protocolEnd(t []uint16, s int) int {
	if len(t)-s < 7 || t[s]|0x20 != 'h' || t[s+1]|0x20 != 't' || t[s+2]|0x20 != 't' || t[s+3]|0x20 != 'p' {
		return s
	}
	i := s + 4
	if t[i]|0x20 == 's' {
		i++
	}
	if i+3 <= len(t) && t[i] == ':' && t[i+1] == '/' && t[i+2] == '/' {
		return i + 3
	}
	return s
}

// isDomainChar is validDomainChars: anything but ASCII punctuation
// (!'#%&()*+,\-./:;<=>?@[]^_{|}~$ — note: not '"' nor '`'), spaces, the
// invalid characters and the directional marks. Lone surrogates are domain
// characters: the pattern sees UTF-16 units.
func isDomainCharSlow(u uint16) bool {
	if u < 0x80 {
		switch u {
		case '!', '\'', '#', '%', '&', '(', ')', '*', '+', ',', '\\', '-', '.', '/', ':', ';', '<', '=', '>', '?', '@', '[', ']', '^', '_', '{', '|', '}', '~', '$':
			return false
		}
		return u > 0x20 || u < 0x09 || (u > 0x0D && u < 0x20)
	}
	switch {
	case u == 0x85 || u == 0xA0 || u == 0x1680 || u == 0x180E || (u >= 0x2000 && u <= 0x200A) ||
		u == 0x2028 || u == 0x2029 || u == 0x202F || u == 0x205F || u == 0x3000: // spaces
		return false
	case u == 0xFFFE || u == 0xFEFF || u == 0xFFFF: // invalid
		return false
	case (u >= 0x202A && u <= 0x202E) || u == 0x061C || u == 0x200E || u == 0x200F || (u >= 0x2066 && u <= 0x2069): // directional
		return false
	}
	return true
}

// labelRun returns the end of the run of label characters (domain
// characters, '-' and '_') starting at s, and whether the run holds an
// underscore at or after s. Consecutive calls inside one run cost O(1):
// without the cache, text such as a long run of CJK characters (each one a
// possible URL start) would make extraction quadratic.
func (sc *urlScanner) labelRun(t []uint16, s int) (end int, underscore bool) {
	if s >= sc.runFrom && s < sc.runEnd {
		return sc.runEnd, sc.lastUnderscore >= s
	}
	i := s
	last := -1
	for ; i < len(t); i++ {
		u := t[i]
		if u < 128 {
			if asciiClass[u]&clsLabel == 0 {
				break
			}
			if u == '_' {
				last = i
			}
		} else if notDomainCharBits[u>>6]&(1<<(u&63)) != 0 {
			break
		}
	}
	sc.runFrom, sc.runEnd, sc.lastUnderscore = s, i, last
	return i, last >= s
}

// label matches one label followed by '.' at s: validSubdomain
// (?:DC(?:[_-]|DC)*)?DC\. or, without underscores, validDomainName. A
// label cannot stop before its '.', since no label character is '.'; so
// the label is the whole run. It returns the index of the '.', or -1.
func (sc *urlScanner) label(t []uint16, s int) (dot int, underscore bool) {
	if s >= len(t) || !isDomainChar(t[s]) {
		return -1, false
	}
	e, us := sc.labelRun(t, s)
	if e >= len(t) || t[e] != '.' || !isDomainChar(t[e-1]) {
		return -1, false
	}
	return e, us
}

// domainFrom matches validDomain, validSubdomain* validDomainName TLD, at
// s and returns its end, or -1.
//
// The labels from s form a chain L0.L1.…Lk. (each followed by '.'). The
// greedy star takes as many subdomains as it can and backtracks one at a
// time, so the match uses the last label Lj (largest j) that is a valid
// domain name (no '_') and is followed by a TLD; the subdomains before it
// are all valid, being in the chain.
//
// When it fails it notes (in failFrom, failTo) the later starts in the
// same run of label characters that fail too: they have the same run end,
// so the same '.' (or lack of one) and chain after it, and fail alike
// unless they start after the underscore that made s fail.
func (sc *urlScanner) domainFrom(t []uint16, s int) int {
	dot, us := sc.label(t, s)
	if dot < 0 {
		if s < len(t) && isDomainChar(t[s]) {
			sc.failFrom, sc.failTo = s, sc.runEnd // (label ran labelRun from s)
		}
		return -1
	}
	// Result for the chain starting after this label (j ≥ 1).
	if r := sc.chainResult(t, dot+1); r >= 0 {
		return r
	}
	if us {
		if sc.tldMatch(t, dot+1) < 0 {
			sc.failFrom, sc.failTo = s, dot
		} else {
			sc.failFrom, sc.failTo = s, lastUnderscoreIn(t, s, dot)+1
		}
		return -1
	}
	r := sc.tldMatch(t, dot+1)
	if r < 0 {
		sc.failFrom, sc.failTo = s, dot
	}
	return r
}

// failed reports whether a URL without protocol at s has a domain that
// domainFrom has seen fail (and one with a protocol there is tried).
func (sc *urlScanner) failed(t []uint16, s int) bool {
	return s > sc.failFrom && s < sc.failTo && protocolEnd(t, s) == s
}

// lastUnderscoreIn returns the index of the last '_' in t[s:e], or -1.
func lastUnderscoreIn(t []uint16, s, e int) int {
	for i := e - 1; i >= s; i-- {
		if t[i] == '_' {
			return i
		}
	}
	return -1
}

// tldMatch is tlds().match(t, q), remembering the last answer.
func (sc *urlScanner) tldMatch(t []uint16, q int) int {
	if q != sc.tldQ {
		sc.tldQ, sc.tldEnd = q, tlds().match(t, q)
	}
	return sc.tldEnd
}

// chainResult is domainFrom for a label start q that follows a '.',
// computed for a whole chain at once and cached, so that trying every
// label of a long dotted run as a start stays linear.
func (sc *urlScanner) chainResult(t []uint16, q int) int {
	chain := sc.chain
	if n := len(chain); n > 0 && q >= chain[0].start && q <= chain[n-1].start {
		lo, hi := 0, n
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if chain[m].start < q {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < n && chain[lo].start == q {
			return chain[lo].end
		}
	}
	// Scan the chain forward, then resolve it backward: the result for
	// label i is the result for label i+1 if that matched, else this
	// label's own name+TLD.
	chain = chain[:0]
	for p := q; ; {
		dot, us := sc.label(t, p)
		if dot < 0 {
			break
		}
		chain = append(chain, chainLabel{start: p, dot: dot, underscore: us})
		p = dot + 1
	}
	next := -1
	for i := len(chain) - 1; i >= 0; i-- {
		if next < 0 && !chain[i].underscore {
			next = sc.tldMatch(t, chain[i].dot+1)
		}
		chain[i].end = next
	}
	sc.chain = chain
	if len(chain) == 0 {
		return -1
	}
	return chain[0].end
}

// Path character classes (all case-insensitive; the Latin-accent and
// Cyrillic ranges take the case-folding closure, see inClassFold).

func isLatinAccent(u uint16) bool {
	return (u >= 0xC0 && u <= 0xD6) || (u >= 0xD8 && u <= 0xF6) || (u >= 0xF8 && u <= 0x24F) ||
		u == 0x253 || u == 0x254 || u == 0x256 || u == 0x257 || u == 0x259 || u == 0x25B || u == 0x263 ||
		u == 0x268 || u == 0x26F || u == 0x272 || u == 0x289 || u == 0x28B || u == 0x2BB ||
		(u >= 0x300 && u <= 0x36F) || (u >= 0x1E00 && u <= 0x1EFF)
}

func isLatinOrCyrillic(u uint16) bool {
	return isLatinAccent(u) || (u >= 0x400 && u <= 0x4FF)
}

// isPathChar is validGeneralUrlPathChars:
// [a-z cyrillic 0-9 !*';:=+,.$/%#[\]\-\u2013_~@|& latinAccent]
func isPathCharSlow(u uint16) bool {
	if u < 0x80 {
		if isASCIIAlnum(u) {
			return true
		}
		switch u {
		case '!', '*', '\'', ';', ':', '=', '+', ',', '.', '$', '/', '%', '#', '[', ']', '-', '_', '~', '@', '|', '&':
			return true
		}
		return false
	}
	return u == 0x2013 || inClassFold(u, isLatinOrCyrillic)
}

// isPathEndChar is the character part of validUrlPathEndingChars:
// [+\-a-z cyrillic 0-9=_#/ latinAccent]
func isPathEndCharSlow(u uint16) bool {
	if u < 0x80 {
		return isASCIIAlnum(u) || u == '+' || u == '-' || u == '=' || u == '_' || u == '#' || u == '/'
	}
	return inClassFold(u, isLatinOrCyrillic)
}

func pathRun(t []uint16, i int) int {
	for i < len(t) && isPathChar(t[i]) {
		i++
	}
	return i
}

// balancedParens matches validUrlBalancedParens at i:
// \( (?: P+ | P* \( P+ \) P* ) \) with P the path characters (which exclude
// both parentheses, so each greedy run is forced). It returns the end or -1.
func balancedParens(t []uint16, i int) int {
	if i >= len(t) || t[i] != '(' {
		return -1
	}
	j := pathRun(t, i+1)
	if j > i+1 && j < len(t) && t[j] == ')' {
		return j + 1
	}
	if j < len(t) && t[j] == '(' {
		k := pathRun(t, j+1)
		if k > j+1 && k < len(t) && t[k] == ')' {
			l := pathRun(t, k+1)
			if l < len(t) && t[l] == ')' {
				return l + 1
			}
		}
	}
	return -1
}

// pathIteration matches one repetition of validUrlPath at i. The library
// splices the source of validUrlPathEndingChars ("[chars]|(?:parens)")
// into validUrlPath without a group, so the alternation really reads
//
//	P* (?:B P*)* [ending chars]  |  B  |  @ P+ /
//
// with P the path characters and B balanced parentheses. In the first
// alternative backtracking gives up path characters and whole groups from
// the right until an ending character comes next, so it ends after the last
// ending character of any path-character run of the region (never inside a
// group). Failing that, a group alone. The third alternative can never match
// where the first did not ('@' and '/' are path characters and '/' an
// ending one), so it is left out. Returns the end or -1, and whether it
// was a group alone.
func pathIteration(t []uint16, i int) (int, bool) {
	last := -1
	for p := i; ; {
		e := pathRun(t, p)
		for k := e - 1; k >= p; k-- {
			if isPathEndChar(t[k]) {
				last = k + 1
				break
			}
		}
		b := balancedParens(t, e)
		if b < 0 {
			break
		}
		p = b
	}
	if last >= 0 {
		return last, false
	}
	return balancedParens(t, i), true
}

// queryEnd matches validUrlQueryChars* validUrlQueryEndingChars at i
// (bounded by limit): the run of query characters, cut back to its last
// ending character. Returns the end or -1.
func queryEnd(t []uint16, i, limit int) int {
	j := i
	for j < limit && t[j] < 128 && asciiClass[t[j]]&clsQuery != 0 {
		j++
	}
	for k := j - 1; k >= i; k-- {
		if asciiClass[t[k]]&clsQueryEnd != 0 { // (t[k] is ASCII)
			return k + 1
		}
	}
	return -1
}

// isQueryChar is validUrlQueryChars: [a-z0-9!?*'@();:&=+$/%#[\]\-_.,~|]
// (ASCII only; queryEnd looks it up in asciiClass).
func isQueryChar(u uint16) bool {
	if isASCIIAlnum(u) {
		return true
	}
	switch u {
	case '!', '?', '*', '\'', '@', '(', ')', ';', ':', '&', '=', '+', '$', '/', '%', '#', '[', ']', '-', '_', '.', ',', '~', '|':
		return true
	}
	return false
}

// isQueryEndChar is validUrlQueryEndingChars: [a-z0-9\-_&=#/]
func isQueryEndChar(u uint16) bool {
	return isASCIIAlnum(u) || u == '-' || u == '_' || u == '&' || u == '=' || u == '#' || u == '/'
}

// accept applies the library's filters to a match and appends the URLs
// it yields (none, one, or for a protocol-less match possibly several).
func (sc *urlScanner) accept(t []uint16, m urlMatch, dst []urlSpan) []urlSpan {
	domain := t[m.protoEnd:m.domainEnd]
	protoLen := m.protoEnd - m.start
	if protoLen == 0 {
		protoLen = len("https://") // the default protocol in isValidUrl
	}
	if !validIDNA(domain) || protoLen+(m.end-m.start) > maxURLLength {
		return dst
	}
	if m.protoEnd == m.start {
		// Without protocol: not after [-_./], and only the ASCII domains
		// inside the match count.
		if m.before >= 0 {
			switch t[m.before] {
			case '-', '_', '.', '/':
				return dst
			}
		}
		n := len(dst)
		dst = appendASCIIDomains(domain, m.start, dst)
		if len(dst) == n {
			return dst
		}
		if m.hasPath {
			// The last one takes the path: its url becomes
			// url.replace(domain, asciiDomain), and its end the match end.
			last := &dst[len(dst)-1]
			last.gapFrom, last.gapTo = last.end, m.domainEnd
			last.length += m.end - m.domainEnd
			last.end = m.end
		}
		return dst
	}
	// t.co links: only ^https?://t\.co/[a-z0-9]+(\?query)? is the URL, and a
	// slug over 40 characters disqualifies it.
	url := t[m.start:m.end]
	if e, slug := tcoPrefix(url, m.protoEnd-m.start); e >= 0 {
		if slug > maxTcoSlugLength {
			return dst
		}
		return append(dst, urlSpan{start: m.start, end: m.start + e, length: e})
	}
	return append(dst, urlSpan{start: m.start, end: m.end, length: m.end - m.start})
}

// tcoPrefix matches ^https?://t\.co/([a-z0-9]+)(?:\?query)? on url, given
// p = protocolEnd(url, 0) (accept knows it), and returns the match length
// and the slug length, or -1.
func tcoPrefix(url []uint16, p int) (end, slug int) {
	if p == 0 || len(url)-p < 5 || url[p]|0x20 != 't' || url[p+1] != '.' || url[p+2]|0x20 != 'c' || url[p+3]|0x20 != 'o' || url[p+4] != '/' {
		return -1, 0
	}
	i := p + 5
	for i < len(url) && isASCIIAlnum(url[i]) {
		i++
	}
	if i == p+5 {
		return -1, 0
	}
	slug = i - (p + 5)
	if i < len(url) && url[i] == '?' {
		if e := queryEnd(url, i+1, len(url)); e >= 0 {
			i = e
		}
	}
	return i, slug
}

// appendASCIIDomains runs validAsciiDomain globally over domain (which
// starts at index base of the text):
//
//	(?:(?:[\-a-z0-9 latinAccent]+)\.)+(?:gTLD|ccTLD|punycode)
//
// Like the domain pattern, each label is a whole run followed by '.', and
// backtracking keeps the last label after which a TLD matches. The TLD's
// lookahead sees only the domain string.
func appendASCIIDomains(domain []uint16, base int, dst []urlSpan) []urlSpan {
	for p := 0; p < len(domain); {
		e, next := asciiDomainAt(domain, p)
		if e < 0 {
			p = next
			continue
		}
		dst = append(dst, urlSpan{start: base + p, end: base + e, length: e - p})
		p = e
	}
	return dst
}

func isASCIIDomainChar(u uint16) bool {
	if u < 0x80 {
		return isASCIIAlnum(u) || u == '-'
	}
	return latinAccentFold[u>>6]&(1<<(u&63)) != 0
}

// asciiDomainAt matches validAsciiDomain at p and returns its end, or -1
// and where the next attempt that can succeed may start: a start inside
// the first label (after p, before its end) meets the same dots and TLD
// attempts, so it fails too.
func asciiDomainAt(d []uint16, p int) (end, next int) {
	best, first := -1, -1
	for q := p; ; {
		r := q
		for r < len(d) && isASCIIDomainChar(d[r]) {
			r++
		}
		if first < 0 {
			first = max(r, p+1)
		}
		if r == q || r >= len(d) || d[r] != '.' {
			break
		}
		if e := tlds().match(d, r+1); e >= 0 {
			best = e
		}
		q = r + 1
	}
	return best, first
}

// validIDNA is the library's idna.toAscii test in isValidUrl: a domain
// starting with "xn--" must contain an ASCII domain, and every label, once
// punycode-encoded the way punycode.js toASCII does (which also splits at
// 。．｡), must be 1 to 63 characters long.
func validIDNA(domain []uint16) bool {
	if len(domain) >= 4 && domain[0] == 'x' && domain[1] == 'n' && domain[2] == '-' && domain[3] == '-' {
		if !hasASCIIDomain(domain) {
			return false
		}
	}
	if ok, ascii := asciiLabelsFit(domain); ascii {
		return ok // (an ASCII label is its own encoding)
	}
	for start := 0; start <= len(domain); {
		// Most labels fit by an upper bound of their length; only those
		// that do not are encoded exactly.
		n, end := labelLengthBound(domain, start)
		if n > maxDNSLabelLength {
			n = toASCIILength(domain[start:end], true)
		}
		if n < 1 || n > maxDNSLabelLength {
			return false
		}
		start = end + 1
	}
	return true
}

// asciiLabelsFit reports whether domain is all ASCII and, if so, whether
// each of its '.'-separated labels is 1 to 63 units long: validIDNA's
// length test for such a domain (punycode.js keeps ASCII as it is, and
// the other IDNA dots are not ASCII).
func asciiLabelsFit(domain []uint16) (ok, ascii bool) {
	ok = true
	n := 0 // units of the current label
	for _, u := range domain {
		if u >= 0x80 {
			return false, false
		}
		if u == '.' {
			ok = ok && n >= 1 && n <= maxDNSLabelLength
			n = 0
			continue
		}
		n++
	}
	return ok && n >= 1 && n <= maxDNSLabelLength, true
}

// labelLengthBound is toASCIILength(label, false) for the label of domain
// that starts at start, and the label's end (the next '.' or len(domain)),
// in one pass: each part's code points and basic ones are counted as it
// goes, and punycodeBound's formula applied at the part's end.
func labelLengthBound(domain []uint16, start int) (n, end int) {
	part := start // start of the current part
	cps, basic := 0, 0
	i := start
	for ; i < len(domain); i++ {
		u := domain[i]
		if u < 0x80 {
			if u == '.' {
				break
			}
			basic++
			cps++
			continue
		}
		if u == 0x3002 || u == 0xFF0E || u == 0xFF61 {
			n += partLengthBound(domain[part:i], cps, basic) + 1 // and the '.' joining parts
			part, cps, basic = i+1, 0, 0
			continue
		}
		if isHighSurrogate(u) && i+1 < len(domain) && isLowSurrogate(domain[i+1]) {
			i++
		}
		cps++
	}
	return n + partLengthBound(domain[part:i], cps, basic), i
}

// partLengthBound is punycodeBound(part), given its counts of code points
// and of basic (ASCII) ones.
func partLengthBound(part []uint16, cps, basic int) int {
	if cps == basic {
		return len(part)
	}
	if cps > maxDNSLabelLength {
		return punycodePartLength(part)
	}
	n := len("xn--") + basic + 9*(cps-basic)
	if basic > 0 {
		n++ // delimiter
	}
	return n
}

// hasASCIIDomain reports whether validAsciiDomain matches somewhere in
// domain (skipping the starts asciiDomainAt rules out).
func hasASCIIDomain(domain []uint16) bool {
	for p := 0; p < len(domain); {
		e, next := asciiDomainAt(domain, p)
		if e >= 0 {
			return true
		}
		p = next
	}
	return false
}

// toASCIILength is len(punycode.toASCII(label)): the label is split at the
// IDNA dots U+002E U+3002 U+FF0E U+FF61, each part that is not pure ASCII
// becomes "xn--" + its Bootstring encoding, and the parts are joined with '.'.
// Unless exact, a part that is not pure ASCII may be counted by an upper
// bound of its length (punycodeBound): at least the exact length, and equal
// to it when that is under 1.
func toASCIILength(label []uint16, exact bool) int {
	n := 0
	start := 0
	for i := 0; i <= len(label); i++ {
		if i == len(label) || label[i] == 0x3002 || label[i] == 0xFF0E || label[i] == 0xFF61 {
			if start > 0 {
				n++ // the '.' joining parts
			}
			if exact {
				n += punycodePartLength(label[start:i])
			} else {
				n += punycodeBound(label[start:i])
			}
			start = i + 1
		}
	}
	return n
}

// punycodePartLength is the length of one part after punycode.js toASCII.
func punycodePartLength(part []uint16) int {
	ascii := true
	for _, u := range part {
		if u >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return len(part)
	}
	// Any result over 63 fails the same way; every code point costs at least
	// one output character, so a long part needs no exact encoding (and the
	// exact one could overflow, where punycode.js throws).
	if len(part) > 2*maxDNSLabelLength {
		return len(part)
	}
	var buf [2 * maxDNSLabelLength]rune
	cps := buf[:0]
	for i := 0; i < len(part); {
		r, size := runeAt(part, i)
		cps = append(cps, r)
		i += size
	}
	return len("xn--") + bootstringLength(cps)
}

// punycodeBound is an upper bound of punycodePartLength(part), exact for
// ASCII. Each code point that is not basic adds one delta to the encoding,
// and a delta q takes at most floor(log10 q) + 2 digits (each digit but the
// last divides q by 36-t, at least 10). For up to 63 code points a delta
// stays under (0x10FFFF+1)·64 + 63² + 63 < 10⁸: 9 digits at most.
func punycodeBound(part []uint16) int {
	cps, basic := 0, 0
	for i := 0; i < len(part); i++ {
		u := part[i]
		if u < 0x80 {
			basic++
		} else if isHighSurrogate(u) && i+1 < len(part) && isLowSurrogate(part[i+1]) {
			i++
		}
		cps++
	}
	return partLengthBound(part, cps, basic)
}

// bootstringLength is the length of the RFC 3492 encoding of cps (punycode
// parameters), as punycode.js encode produces it.
func bootstringLength(cps []rune) int {
	const (
		base        = 36
		tMin        = 1
		tMax        = 26
		skew        = 38
		damp        = 700
		initialBias = 72
		initialN    = 128
	)
	adapt := func(delta, numPoints int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / numPoints
		k := 0
		for delta > ((base-tMin)*tMax)/2 {
			delta /= base - tMin
			k += base
		}
		return k + (base-tMin+1)*delta/(delta+skew)
	}
	out := 0
	basic := 0
	for _, r := range cps {
		if r < 0x80 {
			basic++
		}
	}
	out = basic
	if basic > 0 {
		out++ // delimiter
	}
	n, delta, bias := initialN, 0, initialBias
	h := basic
	for h < len(cps) {
		m := int(^uint(0) >> 1)
		for _, r := range cps {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range cps {
			if int(r) < n {
				delta++
			}
			if int(r) == n {
				q := delta
				for k := base; ; k += base {
					t := k - bias
					if t < tMin {
						t = tMin
					} else if t > tMax {
						t = tMax
					}
					if q < t {
						break
					}
					out++
					q = (q - t) / (base - t)
				}
				out++
				bias = adapt(delta, h+1, h == basic)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return out
}

// Character classes of ASCII units, precomputed from the predicates above
// (the hot loops look them up instead of running switches).
const (
	clsDomain uint8 = 1 << iota
	clsPath
	clsPathEnd
	clsPreceding
	clsRun
	clsLabel    // label characters: clsRun but '.'
	clsQuery    // isQueryChar
	clsQueryEnd // isQueryEndChar
)

var asciiClass = func() (tab [128]uint8) {
	for u := uint16(0); u < 128; u++ {
		if isDomainCharSlow(u) {
			tab[u] |= clsDomain | clsRun
		}
		if u == '.' || u == '-' || u == '_' {
			tab[u] |= clsRun
		}
		if tab[u]&clsRun != 0 && u != '.' {
			tab[u] |= clsLabel
		}
		if isPathCharSlow(u) {
			tab[u] |= clsPath
		}
		if isPathEndCharSlow(u) {
			tab[u] |= clsPathEnd
		}
		if validPrecedingSlow(u) {
			tab[u] |= clsPreceding
		}
		if isQueryChar(u) {
			tab[u] |= clsQuery
		}
		if isQueryEndChar(u) {
			tab[u] |= clsQueryEnd
		}
	}
	return tab
}()

// isDomainChar looks units up: ASCII in asciiClass, the rest in
// notDomainCharBits (generated from isDomainCharSlow, see TestTriesGenerated).
func isDomainChar(u uint16) bool {
	if u < 128 {
		return asciiClass[u]&clsDomain != 0
	}
	return notDomainCharBits[u>>6]&(1<<(u&63)) == 0
}

// isPathChar and isPathEndChar look non-ASCII units up in the bitset of
// the Latin-accent and Cyrillic class under case folding (generated, see
// latinCyrillicFold): the fold orbit search of inClassFold is slow.
func isPathChar(u uint16) bool {
	if u < 128 {
		return asciiClass[u]&clsPath != 0
	}
	return u == 0x2013 || latinCyrillicFold[u>>6]&(1<<(u&63)) != 0
}

func isPathEndChar(u uint16) bool {
	if u < 128 {
		return asciiClass[u]&clsPathEnd != 0
	}
	return latinCyrillicFold[u>>6]&(1<<(u&63)) != 0
}

func validPreceding(u uint16) bool {
	if u < 128 {
		return asciiClass[u]&clsPreceding != 0
	}
	return validPrecedingSlow(u)
}
