package tweettext

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// MaxThreadTweets is the thread length above which Split warns.
const MaxThreadTweets = 7

// ErrEmpty is returned for a text with nothing to post.
var ErrEmpty = errors.New("text is empty")

// SplitOptions configure Split.
type SplitOptions struct {
	// MaxLength is the limit per tweet; 0 means DefaultMaxLength.
	MaxLength int
	// Number appends " i/n" to every tweet of a thread of two or more; its
	// width is reserved before splitting. A single tweet is never numbered:
	// "1/1" is noise.
	Number bool
}

// ComposeOptions configure Compose.
type ComposeOptions struct {
	// MaxLength is the limit per tweet; 0 means DefaultMaxLength.
	MaxLength int
	// Thread splits a part longer than a tweet automatically (as Split
	// does). Without it every part between "---" lines is one tweet as it
	// is, and the caller's Check refuses one that is too long.
	Thread bool
	// Number appends " i/n" to every tweet when there are two or more.
	Number bool
	// Media says the first tweet carries media, which may stand without
	// text: then an empty text gives one tweet with empty text instead of
	// ErrEmpty. Every other tweet of a thread still needs text.
	Media bool
}

// SplitTweet is one tweet of a thread.
type SplitTweet struct {
	Text           string `json:"text"`
	WeightedLength int    `json:"weighted_length"`
}

// SplitResult is a thread, shaped for `psnd split --json` (SPEC §7).
type SplitResult struct {
	Tweets   []SplitTweet `json:"tweets"`
	Warnings []string     `json:"warnings"`
	// MaxLength is the limit the tweets were split for.
	MaxLength int `json:"max_length"`
}

// Split cuts text into tweets of at most opts.MaxLength each: what
// `psnd post --thread` stores, so `psnd split` previews exactly that. It is
// Compose with Thread set.
//
// A line holding only "---" is an explicit split point: the parts between
// such lines are never joined, and the lines themselves are dropped. Within
// a part, a tweet ends at the last paragraph break (a blank line) that fits,
// else at the last sentence end or line break, else at the last space —
// never inside a word, so never inside a URL, mention, hashtag, cashtag or
// emoji sequence. A single word longer than a tweet is cut, as a last
// resort, between grapheme clusters (keeping any URL in it whole), with a
// warning. The white space at each cut is dropped; nothing else is lost or
// reordered. No-break spaces are not white space here: the writer asked
// not to break there, so they are kept, also at the ends of a tweet. With
// opts.Number a thread of two or more tweets gets " i/n" on every tweet,
// and the room for it is reserved before splitting for the final digit
// count of n; a text that fits in one tweet stays one tweet, unnumbered.
//
// It fails for invalid UTF-8, for a text with nothing to post (ErrEmpty),
// and for characters X refuses (NUL, U+FFFE, U+FEFF, U+FFFF).
func Split(text string, opts SplitOptions) (SplitResult, error) {
	return Compose(text, ComposeOptions{MaxLength: opts.MaxLength, Number: opts.Number, Thread: true})
}

// Compose turns a post's text into its tweets: the one implementation
// behind `psnd split` and the daemon's `post` and `edit`. The text is cut
// at "---" lines (see Split); with opts.Thread long parts are split further,
// and with opts.Number a post of two or more tweets is numbered " i/n".
// Without opts.Thread the tweets are not checked against the limit: the
// caller checks each one (see Check) and refuses the post.
func Compose(text string, opts ComposeOptions) (SplitResult, error) {
	if err := checkSplittable(text); err != nil {
		return SplitResult{}, err
	}
	return composeParts(splitAtMarkers(text), opts)
}

// ComposeTweets is Compose for a thread given tweet by tweet (the API's
// "tweets"): each is trimmed like a part between "---" lines and never
// joined with another. A blank one is an error, except the first when it
// carries media.
func ComposeTweets(tweets []string, opts ComposeOptions) (SplitResult, error) {
	parts := make([]string, 0, len(tweets))
	for i, t := range tweets {
		if err := checkSplittable(t); err != nil {
			return SplitResult{}, fmt.Errorf("tweet %d: %w", i+1, err)
		}
		p := strings.TrimFunc(t, isGap)
		if isBlank(p) {
			switch {
			case i == 0 && opts.Media:
				p = ""
			case i == 0:
				return SplitResult{}, fmt.Errorf("tweet 1 is empty: give it text, or media: %w", ErrEmpty)
			default:
				return SplitResult{}, fmt.Errorf("tweet %d is empty: every tweet after the first needs text (media go on the first): %w", i+1, ErrEmpty)
			}
		}
		parts = append(parts, p)
	}
	if len(parts) == 1 && parts[0] == "" {
		parts = nil // media alone
	}
	return composeParts(parts, opts)
}

// checkSplittable refuses what no tweet may hold.
func checkSplittable(text string) error {
	if !utf8.ValidString(text) {
		return fmt.Errorf("split: text is not valid UTF-8 (first bad byte at offset %d)", firstInvalidUTF8(text))
	}
	if i := strings.IndexFunc(text, func(c rune) bool { return c == 0 || c == 0xFFFE || c == 0xFEFF || c == 0xFFFF }); i >= 0 {
		c, _ := utf8.DecodeRuneInString(text[i:])
		return fmt.Errorf("split: text contains the invalid character U+%04X at byte offset %d", c, i)
	}
	return nil
}

func composeParts(parts []string, opts ComposeOptions) (SplitResult, error) {
	max := opts.MaxLength
	if max <= 0 {
		max = DefaultMaxLength
	}
	if len(parts) == 0 {
		if opts.Media {
			// Media alone: X accepts a post without text.
			return SplitResult{Tweets: []SplitTweet{{}}, Warnings: []string{}, MaxLength: max}, nil
		}
		return SplitResult{}, fmt.Errorf("split: %w", ErrEmpty)
	}
	var pieces, warnings []string
	if !opts.Thread {
		// Every part is a tweet as it stands; the room for numbering is
		// not reserved (the caller's check refuses a tweet it overfills).
		pieces = parts
	} else {
		// Unnumbered first: a text that fits in one tweet is one tweet,
		// and one tweet gets no number, so it needs no room for one.
		s, err := splitParts(parts, max, 0)
		if err != nil {
			return SplitResult{}, err
		}
		for digits := 1; opts.Number && len(s.pieces) > 1; {
			if s, err = splitParts(parts, max, 2+2*digits); err != nil { // " i/n" with i and n of `digits` digits
				return SplitResult{}, err
			}
			if d := len(strconv.Itoa(len(s.pieces))); d > digits {
				digits = d
				continue
			}
			break
		}
		pieces, warnings = s.pieces, s.warnings
	}
	n := len(pieces)
	res := SplitResult{Tweets: make([]SplitTweet, n), Warnings: []string{}, MaxLength: max}
	for i, p := range pieces {
		t := p
		if opts.Number && n > 1 {
			if t != "" { // a media-only first tweet gets the number alone
				t += " "
			}
			t += strconv.Itoa(i+1) + "/" + strconv.Itoa(n)
		}
		// Measured again as posted: the count is the exact one.
		res.Tweets[i] = SplitTweet{Text: t, WeightedLength: WeightedLength(t)}
	}
	res.Warnings = append(res.Warnings, warnings...)
	if n > MaxThreadTweets {
		res.Warnings = append(res.Warnings, fmt.Sprintf("thread has %d tweets (more than %d)", n, MaxThreadTweets))
	}
	return res, nil
}

// splitParts splits every part within max less reserve.
func splitParts(parts []string, max, reserve int) (splitter, error) {
	budget := max - reserve
	if budget < 2 {
		// Below 2 a single CJK character or emoji could not be placed.
		return splitter{}, fmt.Errorf("split: a limit of %d leaves no room for the text", max)
	}
	s := splitter{budget: budget}
	for i, p := range parts {
		before := len(s.pieces)
		s.splitPart(p)
		if len(parts) > 1 && len(s.pieces)-before > 1 {
			s.warnings = append(s.warnings, fmt.Sprintf("part %d (between --- lines) is longer than a tweet; split it automatically into %d tweets", i+1, len(s.pieces)-before))
		}
	}
	return s, nil
}

// splitAtMarkers cuts text at lines holding only "---" (spaces around it
// allowed) and returns the non-blank parts, trimmed.
func splitAtMarkers(text string) []string {
	var parts []string
	start := 0
	add := func(p string) {
		p = strings.TrimFunc(p, isGap)
		if p != "" && !isBlank(p) {
			parts = append(parts, p)
		}
	}
	for i := 0; i <= len(text); {
		end := strings.IndexByte(text[i:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += i
		}
		if strings.TrimSpace(text[i:end]) == "---" {
			add(text[start:i])
			start = min(end+1, len(text))
		}
		i = end + 1
	}
	add(text[start:])
	return parts
}

// isGap says which characters a tweet may be cut at: white space, except
// the no-break spaces, whose writer asked not to break there.
func isGap(c rune) bool {
	return unicode.IsSpace(c) && c != 0x00A0 && c != 0x2007 && c != 0x202F
}

// Boundary levels of the white space between two words.
const (
	levelWord = iota
	levelSentence
	levelParagraph
)

type splitter struct {
	budget   int
	pieces   []string
	warnings []string
}

// emit adds a tweet, unless it is blank: a piece holding only no-break or
// zero-width spaces (which are not cut points) would be an empty tweet.
func (s *splitter) emit(piece string) {
	if !isBlank(piece) {
		s.pieces = append(s.pieces, piece)
	}
}

// splitPart splits one part (trimmed, non-empty) into pieces within budget.
//
// Words are the runs between gaps. Their weights are computed one by one,
// each on its own; a tweet's weight is then the sum of its words' and gaps'
// weights, which is exact except in rare corners of the URL rules (a word
// may count differently alone than after a space), so every chosen piece is
// measured exactly and shortened if needed. That keeps a 10 MB text linear.
func (s *splitter) splitPart(part string) {
	type word struct {
		start, end int // byte offsets in part
		weight     int
		gapWeight  int // of the gap after it
		gapLevel   int
	}
	var words []word
	for i := 0; i < len(part); {
		j := i
		for j < len(part) {
			c, n := utf8.DecodeRuneInString(part[j:])
			if isGap(c) {
				break
			}
			j += n
		}
		w := word{start: i, end: j, weight: tokenWeight(part[i:j])}
		k := j
		newlines := 0
		for k < len(part) {
			c, n := utf8.DecodeRuneInString(part[k:])
			if !isGap(c) {
				break
			}
			switch c {
			case '\n', 0x2028:
				newlines++
			case 0x2029:
				newlines += 2
			}
			w.gapWeight += gapRuneWeight(c)
			k += n
		}
		switch {
		case newlines >= 2:
			w.gapLevel = levelParagraph
		case newlines == 1 || endsSentence(part[i:j]):
			w.gapLevel = levelSentence
		}
		words = append(words, w)
		i = k
	}

	for i := 0; i < len(words); {
		if words[i].weight > s.budget {
			s.splitWord(part[words[i].start:words[i].end])
			i++
			continue
		}
		// Extend as far as the budget allows.
		acc := words[i].weight
		last := i
		for last+1 < len(words) && acc+words[last].gapWeight+words[last+1].weight <= s.budget {
			acc += words[last].gapWeight + words[last+1].weight
			last++
		}
		// Choose the cut: the whole rest, or the last boundary of the
		// highest level within reach.
		cut := last
		if last+1 < len(words) {
			level := -1
			for k := last; k >= i; k-- {
				if words[k].gapLevel > level {
					level, cut = words[k].gapLevel, k
					if level == levelParagraph {
						break
					}
				}
			}
		}
		// Measure exactly; step back a word at a time if the estimate
		// was off.
		w := WeightedLength(part[words[i].start:words[cut].end])
		for cut > i && w > s.budget {
			cut--
			w = WeightedLength(part[words[i].start:words[cut].end])
		}
		piece := part[words[i].start:words[cut].end]
		if w > s.budget {
			s.splitWord(piece) // one word that only fits in the estimate
		} else {
			s.emit(piece)
		}
		i = cut + 1
	}
}

// endsSentence reports whether a word ends a sentence: its last character,
// closing quotes and brackets aside, is a sentence terminator.
func endsSentence(w string) bool {
	w = strings.TrimRightFunc(w, func(c rune) bool {
		return strings.ContainsRune(`"')]}’”»`, c)
	})
	c, _ := utf8.DecodeLastRuneInString(w)
	return strings.ContainsRune(".!?…。！？‼⁉", c)
}

// tokenWeight is WeightedLength with a fast path for ASCII words that
// cannot hold a URL (no '.'), which weigh one per byte.
func tokenWeight(w string) int {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= utf8.RuneSelf || c == '.' {
			return WeightedLength(w)
		}
	}
	return len(w)
}

// gapRuneWeight is the weight of one white-space character (never part of
// a URL or an emoji sequence).
func gapRuneWeight(c rune) int {
	cfg := configV3()
	if c >= 0x10000 {
		return cfg.defaultWeight / cfg.scale
	}
	return cfg.weight(uint16(c)) / cfg.scale
}

// splitWord cuts a word longer than a tweet between grapheme clusters,
// keeping URLs in it whole where they fit, and warns.
func (s *splitter) splitWord(w string) {
	s.warnings = append(s.warnings, fmt.Sprintf("tweet %d: a word longer than a tweet (%.20q…) was split inside it", len(s.pieces)+1, w))
	// Units: grapheme clusters, with each URL merged into one.
	type unit struct{ end, weight int }
	urls := urlByteSpans(w)
	var units []unit
	gr := uniseg.NewGraphemes(w)
	ui, urlFrom := 0, -1
	for gr.Next() {
		from, to := gr.Positions()
		for ui < len(urls) && urls[ui][1] <= from {
			ui++
		}
		if ui < len(urls) && from >= urls[ui][0] {
			// Inside a URL: one unit from its first grapheme to the
			// grapheme that reaches its end.
			if urlFrom < 0 {
				urlFrom = from
			}
			if to < urls[ui][1] {
				continue
			}
			units = append(units, unit{end: to, weight: tokenWeight(w[urlFrom:to])})
			urlFrom = -1
			continue
		}
		g := w[from:to]
		weight := 0
		if c, n := utf8.DecodeRuneInString(g); n == len(g) {
			// One code point: no URL or emoji sequence, its own weight
			// (NFC may still change it: e.g. a singleton; measure those).
			if nfcStable(c) {
				weight = gapRuneWeight(c)
			} else {
				weight = tokenWeight(g)
			}
		} else {
			weight = tokenWeight(g)
		}
		units = append(units, unit{end: to, weight: weight})
	}
	start := 0
	for i := 0; i < len(units); {
		acc := units[i].weight
		last := i
		for last+1 < len(units) && acc+units[last+1].weight <= s.budget {
			acc += units[last+1].weight
			last++
		}
		pw := WeightedLength(w[start:units[last].end])
		for last > i && pw > s.budget {
			last--
			pw = WeightedLength(w[start:units[last].end])
		}
		piece := w[start:units[last].end]
		if pw > s.budget {
			// One grapheme cluster heavier than a tweet (hundreds of
			// combining marks): cut between code points.
			s.splitRunes(piece)
		} else {
			s.emit(piece)
		}
		start = units[last].end
		i = last + 1
	}
}

// splitRunes cuts w between code points: the last resort for a grapheme
// cluster or URL heavier than a tweet. Each piece is measured exactly (a
// piece of a URL may still be a URL and weigh 23).
func (s *splitter) splitRunes(w string) {
	for len(w) > 0 {
		// The longest prefix whose code points fit, at least one.
		end, acc := 0, 0
		for i, c := range w {
			acc += gapRuneWeight(c)
			if acc > s.budget && i > 0 {
				break
			}
			end = i + utf8.RuneLen(c)
		}
		for WeightedLength(w[:end]) > s.budget {
			_, n := utf8.DecodeLastRuneInString(w[:end])
			if end-n == 0 {
				break // a single code point heavier than the budget: nothing smaller exists
			}
			end -= n
		}
		s.emit(w[:end])
		w = w[end:]
	}
}

// urlByteSpans returns the URLs of w as byte ranges of w.
func urlByteSpans(w string) [][2]int {
	if !strings.Contains(w, ".") {
		return nil
	}
	u := appendUTF16(nil, w)
	urls := extractURLs(u, nil)
	if len(urls) == 0 {
		return nil
	}
	off := utf16ByteOffsets(w, len(u))
	out := make([][2]int, len(urls))
	for i, s := range urls {
		out[i] = [2]int{off[s.start], off[s.end]}
	}
	return out
}
