package tweettext

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The mention and hashtag scans skip attempts that cannot reach a sign;
// they must find what an attempt at every position finds.
func TestEntityScansSkipOnlyFailures(t *testing.T) {
	pieces := []string{"@", "＠", "#", "＃", "rt", "RT", "rT:", ":", "a", "Z9", "_", " ", "\t", "😀", "👍🏻", "\ufe0f", "\ufe0e", "\u20e3",
		"é", "日", ".", "-", "+", "~", "&", "!", "/", "list-x", "://", "\U0001d400", "x"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		var b strings.Builder
		for n := 1 + r.IntN(10); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		u := appendUTF16(nil, s)
		_, _, sc := scanText(nil, nil, s)
		if sc.hasAt {
			got := extractMentionsOrListsFrom(u, sc.firstAt, sc.wideAt, nil)
			if want := mentionsEveryAttempt(u); !slices.Equal(got, want) {
				t.Fatalf("%q: mentions %v, want %v", s, got, want)
			}
		}
		if sc.hasHash {
			got := hashtagCandidatesFrom(u, sc.firstHash, sc.wideHash, nil)
			if want := hashtagsEveryAttempt(u); !slices.Equal(got, want) {
				t.Fatalf("%q: hashtags %v, want %v", s, got, want)
			}
		}
	}
}

// mentionsEveryAttempt is extractMentionsOrLists trying mentionAt at every
// position.
func mentionsEveryAttempt(t []uint16) []mentionSpan {
	var dst []mentionSpan
	for a := 0; a < len(t); {
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

// hashtagsEveryAttempt is hashtagCandidates trying hashtagAt at every
// position.
func hashtagsEveryAttempt(t []uint16) []span {
	var dst []span
	for a := 0; a < len(t); {
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
