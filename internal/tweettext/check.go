package tweettext

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Length limits of a post (SPEC §5). They mirror post.DefaultMaxWeightedLength
// and post.PremiumMaxWeightedLength; this package stays free of psnd's
// domain package so that it can be used on its own.
const (
	DefaultMaxLength = 280
	PremiumMaxLength = 25000
)

// Soft limits: above them Check warns but never refuses.
const (
	MaxMentions = 10
	MaxHashtags = 5
)

// CheckOptions configure Check.
type CheckOptions struct {
	// MaxLength is the account's limit; 0 means DefaultMaxLength.
	MaxLength int
	// Recent holds the account's recent posts (see RecentWindow); a text
	// that is a near-duplicate of one of them gets a warning.
	Recent []string
}

func (o CheckOptions) maxLength() int {
	if o.MaxLength <= 0 {
		return DefaultMaxLength
	}
	return o.MaxLength
}

// Result is the verdict on one post's text, shaped for `psnd check --json`
// (SPEC §7): weighted_length, max_length, valid, warnings, plus errors and
// what the warnings are based on.
type Result struct {
	WeightedLength int `json:"weighted_length"`
	MaxLength      int `json:"max_length"`
	// Valid is true iff Errors is empty: the text can be posted as one tweet.
	Valid bool `json:"valid"`
	// Warnings never block posting.
	Warnings []string `json:"warnings"`
	// Errors say why the text cannot be posted as it is.
	Errors []string `json:"errors"`
	// Permillage is WeightedLength per thousand of MaxLength, rounded down.
	Permillage int `json:"permillage"`
	// URLs is the number of URLs that counted 23 each.
	URLs     int `json:"urls"`
	Mentions int `json:"mentions"`
	Hashtags int `json:"hashtags"`
}

// Check validates one post's text. Errors: invalid UTF-8, empty or blank
// text, NUL or other invalid characters (U+FFFE, U+FEFF, U+FFFF), and a
// weighted length above the limit, reported as "Tweet is 312/280
// characters" with a hint to make it a thread. Warnings: more than
// MaxMentions mentions, more than MaxHashtags hashtags, and a
// near-duplicate of a recent post.
func Check(text string, opts CheckOptions) Result {
	var p parser
	return p.check(text, opts, nil)
}

// check is Check; recent, when not nil, is opts.Recent already indexed.
func (p *parser) check(text string, opts CheckOptions, recent *recentIndex) Result {
	max := opts.maxLength()
	r := Result{MaxLength: max, Warnings: []string{}, Errors: []string{}}
	c := configV3()
	c.maxWeightedLength = max
	n := p.weigh(text, c)
	sc := p.scan
	switch {
	case sc.badUTF8 >= 0:
		// Still counted (bad bytes as U+FFFD) so the user sees a length.
		r.Errors = append(r.Errors, fmt.Sprintf("text is not valid UTF-8 (first bad byte at offset %d)", sc.badUTF8))
	case sc.blank:
		r.Errors = append(r.Errors, "Tweet is empty")
		return r
	}
	switch {
	case sc.badChar >= 0 && sc.badRune == 0:
		r.Errors = append(r.Errors, fmt.Sprintf("text contains a NUL character at byte offset %d", sc.badChar))
	case sc.badChar >= 0:
		r.Errors = append(r.Errors, fmt.Sprintf("text contains the invalid character U+%04X at byte offset %d", sc.badRune, sc.badChar))
	}
	r.WeightedLength = n.WeightedLength
	r.Permillage = n.Permillage
	if n.WeightedLength > max {
		// (Not fmt.Sprintf: a batch of long texts builds this for each.)
		r.Errors = append(r.Errors, "Tweet is "+strconv.Itoa(n.WeightedLength)+"/"+strconv.Itoa(max)+" characters; split it into a thread with `psnd post --thread`")
	}
	r.URLs = len(p.urls)
	// Mentions and hashtags on the text as written, like the library's
	// extractors (hashtags inside its URLs do not count).
	if sc.hasAt {
		p.mentions = extractMentionsOrListsFrom(p.units, sc.firstAt, sc.wideAt, p.mentions[:0])
		r.Mentions = countMentions(p.mentions)
	}
	if sc.hasHash {
		p.tags = hashtagCandidatesFrom(p.units, sc.firstHash, sc.wideHash, p.tags[:0])
		switch {
		case !p.normalized:
			p.tags = dropURLOverlaps(p.tags, p.urls)
		case len(p.tags) > 0 && urlMayCoverTag(p.units, p.tags):
			// The URLs counted are those of the NFC form: find the
			// text's own (most tweets with hashtags never get here).
			var ok bool
			if p.ourls, ok = p.unitURLs(p.ourls[:0]); !ok {
				p.ourls, p.scratch.chain = extractURLsScratch(p.units, p.ourls[:0], p.scratch.chain)
			}
			p.tags = dropURLOverlaps(p.tags, p.ourls)
		}
		r.Hashtags = len(p.tags)
	}
	if r.Mentions > MaxMentions {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d mentions (more than %d); X may limit the reach of such posts", r.Mentions, MaxMentions))
	}
	if r.Hashtags > MaxHashtags {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d hashtags (more than %d); X may treat such posts as spam", r.Hashtags, MaxHashtags))
	}
	if len(opts.Recent) > 0 {
		if recent == nil {
			recent = newRecentIndex(opts.Recent)
		}
		if dup, m := recent.nearest(text); dup {
			r.Warnings = append(r.Warnings, fmt.Sprintf("near-duplicate of a recent post (%.0f%% similar); X refuses duplicate posts", m.Similarity*100))
		}
	}
	r.Valid = len(r.Errors) == 0
	return r
}

// countMentions counts the mentions among mentions and lists.
func countMentions(ms []mentionSpan) int {
	n := 0
	for _, m := range ms {
		if m.end == m.nameEnd {
			n++
		}
	}
	return n
}

// isBlank reports whether text has nothing visible: only white space and
// invisible format characters (zero-width space and joiners, BOM).
func isBlank(text string) bool {
	for _, c := range text {
		if !isBlankRune(c) {
			return false
		}
	}
	return true
}

func isBlankRune(c rune) bool {
	return unicode.IsSpace(c) || c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 || c == 0xFEFF
}

func firstInvalidUTF8(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// unitURLs appends to dst the URLs of the text as written (p.units), taken
// from those of its NFC form (p.urls), when the last parse normalised
// regions that no URL can reach; it reports false when it cannot vouch
// for that (then the text must be searched).
//
// A URL match lies inside one run of units without ASCII white space
// (nothing of the pattern matches it but the preceding character), and
// its domain holds a '.'. So when the runs around each changed region
// hold no '.', neither before normalisation nor after, every match of
// either text lies in runs the two share, with the same unit before them:
// the matches are the same, shifted by the regions' change of length.
func (p *parser) unitURLs(dst []urlSpan) ([]urlSpan, bool) {
	if !p.normalized || p.scan.badUTF8 >= 0 {
		return dst, false // (invalid UTF-8 is normalised whole, without regions)
	}
	units, nunits := p.units, p.bufs.nunits
	shift := 0 // nunits index minus units index after the regions so far
	for _, g := range p.bufs.regions {
		if g.nlen == 0 {
			continue
		}
		lo, hi := g.ufrom, g.uto
		for lo > 0 && !isASCIISpace(units[lo-1]) {
			lo--
		}
		for hi < len(units) && !isASCIISpace(units[hi]) {
			hi++
		}
		nfrom := g.ufrom + shift
		if indexUnit2(units[lo:hi], 0, '.', '.') >= 0 || indexUnit2(nunits[nfrom:nfrom+g.nlen], 0, '.', '.') >= 0 {
			return dst, false
		}
		shift += g.nlen - (g.uto - g.ufrom)
	}
	// Each URL lies between changed regions: it moves by the change of
	// those before it.
	ri, shift := 0, 0
	regions := p.bufs.regions
	for _, u := range p.urls {
		for ; ri < len(regions) && regions[ri].ufrom+shift < u.start; ri++ {
			if g := regions[ri]; g.nlen != 0 {
				shift += g.nlen - (g.uto - g.ufrom)
			}
		}
		u.start -= shift
		u.end -= shift
		if u.gapTo > 0 { // (zero when never set)
			u.gapFrom -= shift
			u.gapTo -= shift
		}
		dst = append(dst, u)
	}
	return dst, true
}

// isASCIISpace: ASCII white space (TAB to CR, space).
func isASCIISpace(u uint16) bool { return u == ' ' || u-'\t' <= '\r'-'\t' }
