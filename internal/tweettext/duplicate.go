package tweettext

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// RecentWindow is how far back the caller should collect an account's
// posts for NearDuplicate: the store passes the account's posts published or
// scheduled within it. X does not document how far back its duplicate-
// content refusal looks; a week catches the common accident (the same
// announcement queued twice within days) and keeps the comparison cheap.
const RecentWindow = 7 * 24 * time.Hour

// NearDuplicateThreshold is the similarity from which a text counts as a
// near-duplicate.
const NearDuplicateThreshold = 0.9

// DuplicateMatch says which recent post a text resembles most, and how much.
type DuplicateMatch struct {
	// Index into the recent slice; -1 when there was none.
	Index int `json:"index"`
	// Similarity in [0, 1]; 1 for texts equal after normalisation.
	Similarity float64 `json:"similarity"`
}

// MinDuplicateRunes is how long, in characters after normalisation, both
// texts must be before a similarity short of equality makes them near-
// duplicates: below it one changed character is a large share of the text
// ("parallel 2" and "parallel 12" share most trigrams and are still two
// different posts), so only equal texts count.
const MinDuplicateRunes = 20

// NearDuplicate reports whether text is a near-duplicate of one of recent.
//
// Definition: both texts are normalised — NFC, Unicode case folding, every
// URL (as the counter recognises them) replaced by one placeholder, runs of
// white space collapsed to one space, ends trimmed — so that a re-post with
// another link, other capitals or other spacing is recognised. Texts equal
// after that are duplicates, however short. Otherwise similarity is the
// Dice coefficient of the sets of character trigrams of the two normalised
// texts (2|A∩B| / (|A|+|B|)), and a text is a near-duplicate when its
// similarity to a recent post is at least NearDuplicateThreshold (0.9) —
// small edits of a sentence stay above it, a different sentence on the same
// topic falls well below — but only when it can be judged:
//   - both texts have at least MinDuplicateRunes characters: on shorter
//     texts trigrams misfire;
//   - their numbers are the same (the runs of decimal digits, of any
//     script, in order): texts that differ in their numbers ("day 2",
//     "day 3"; "version 2", "version 3") are a series written on purpose,
//     and X posts both.
//
// The match reported is the most similar recent post (preferring one that
// makes text a near-duplicate). It is linear in the lengths of the texts.
func NearDuplicate(text string, recent []string) (bool, DuplicateMatch) {
	return newRecentIndex(recent).nearest(text)
}

// recentIndex holds the normalised recent posts and their trigram sets, so
// that a batch compares every text against them without redoing that work.
type recentIndex struct {
	norms   []string
	grams   []map[uint64]struct{}
	runes   []int
	numbers []string
}

func newRecentIndex(recent []string) *recentIndex {
	n := len(recent)
	ix := &recentIndex{norms: make([]string, n), grams: make([]map[uint64]struct{}, n), runes: make([]int, n), numbers: make([]string, n)}
	for i, r := range recent {
		ix.norms[i] = normalizeForDuplicate(r)
		ix.grams[i] = trigrams(ix.norms[i])
		ix.runes[i] = utf8.RuneCountInString(ix.norms[i])
		ix.numbers[i] = numbersOf(ix.norms[i])
	}
	return ix
}

func (ix *recentIndex) nearest(text string) (bool, DuplicateMatch) {
	best, bestDup := DuplicateMatch{Index: -1}, DuplicateMatch{Index: -1}
	if len(ix.norms) == 0 {
		return false, best
	}
	a := normalizeForDuplicate(text)
	ga := trigrams(a)
	runes := utf8.RuneCountInString(a)
	numbers := numbersOf(a)
	for i, b := range ix.norms {
		var s float64
		dup := false
		switch {
		case a == b:
			s, dup = 1, true
		case len(ga) == 0:
			s = 0
		default:
			s = dice(ga, ix.grams[i])
			dup = s >= NearDuplicateThreshold &&
				min(runes, ix.runes[i]) >= MinDuplicateRunes && numbers == ix.numbers[i]
		}
		if s > best.Similarity || best.Index < 0 {
			best = DuplicateMatch{Index: i, Similarity: s}
		}
		if dup && (s > bestDup.Similarity || bestDup.Index < 0) {
			bestDup = DuplicateMatch{Index: i, Similarity: s}
		}
	}
	if bestDup.Index >= 0 {
		return true, bestDup
	}
	return false, best
}

// numbersOf returns the runs of decimal digits of s, each as its values,
// separated by spaces: "Day ٢ of 10" gives "2 10".
func numbersOf(s string) string {
	var b strings.Builder
	in := false
	for _, c := range s {
		if unicode.IsDigit(c) {
			if !in && b.Len() > 0 {
				b.WriteByte(' ')
			}
			in = true
			b.WriteRune(digitValue(c))
			continue
		}
		in = false
	}
	return b.String()
}

// digitValue maps a decimal digit of any script to '0'..'9'. Unicode keeps
// every set of decimal digits (Nd) contiguous, in order from zero, so a
// digit's value is how many digits precede it in its run, modulo ten (runs
// of several sets, like the mathematical digits, hold whole sets).
func digitValue(c rune) rune {
	n := rune(0)
	for z := c - 1; z >= 0 && unicode.IsDigit(z); z-- {
		n++
	}
	return '0' + n%10
}

func normalizeForDuplicate(s string) string {
	s = norm.NFC.String(s)
	u := appendUTF16(nil, s)
	urls := extractURLs(u, nil)
	var b strings.Builder
	prev := 0
	for _, span := range urls {
		b.WriteString(utf16Text16(u[prev:span.start]))
		b.WriteString(" \uFFFC ")
		prev = span.end
	}
	b.WriteString(utf16Text16(u[prev:]))
	folded := cases.Fold().String(b.String())
	return strings.Join(strings.FieldsFunc(folded, unicode.IsSpace), " ")
}

func utf16Text16(u []uint16) string {
	var b strings.Builder
	for i := 0; i < len(u); {
		r, n := runeAt(u, i)
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// trigrams returns the set of rune trigrams of s, each packed into 63 bits.
func trigrams(s string) map[uint64]struct{} {
	rs := []rune(s)
	if len(rs) < 3 {
		return nil
	}
	set := make(map[uint64]struct{}, len(rs))
	for i := 0; i+3 <= len(rs); i++ {
		set[uint64(rs[i])<<42|uint64(rs[i+1])<<21|uint64(rs[i+2])] = struct{}{}
	}
	return set
}

func dice(a, b map[uint64]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	common := 0
	for k := range a {
		if _, ok := b[k]; ok {
			common++
		}
	}
	return 2 * float64(common) / float64(len(a)+len(b))
}
