package tweettext

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets. Seeds: f.Add below plus testdata/fuzz/Fuzz*/ (Go's corpus
// format). Run with e.g. `go test -run XXX -fuzz FuzzCount -fuzztime 5m`.

func fuzzSeeds() []string {
	return []string{
		"", "hello", "Hi http://test.co", "example.com", "a_b.example.com", "https://t.co/abc?x=1",
		"http://example.com/wiki/Foo_(bar)", "xn--p1ai.xn--p1ai", "日本.みんな/path", "\"google.com\"",
		"👨\u200d👩\u200d👧\u200d👦", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "1\ufe0f\u20e3",
		"e\u0301\u0301", "\u202ahttp://foobar.پاکستان/\u202c", "a\x00b", "\xff\xfe", "\ufeff", "@a @b #c $D",
		"para one.\n\npara two\n---\nthree", strings.Repeat("日", 200),
	}
}

func FuzzCount(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n := Parse(text)
		if n.WeightedLength < 0 || n.Permillage < 0 {
			t.Fatalf("negative: %+v", n)
		}
		if n.Valid && (n.WeightedLength == 0 || n.WeightedLength > DefaultMaxLength) {
			t.Fatalf("valid but length %d", n.WeightedLength)
		}
		if n.ValidRangeEnd < 0 || n.ValidRangeEnd > n.DisplayRangeEnd {
			t.Fatalf("ranges: %+v", n)
		}
		if want := max(utf16Len(text)-1, 0); n.DisplayRangeEnd != want {
			t.Fatalf("display range end %d, want %d", n.DisplayRangeEnd, want)
		}
		// Other configurations must not panic either.
		for _, c := range []config{configV2(), configV1(), func() config { c := configV3(); c.emoji = emojiTwitterText; return c }()} {
			if m := parseWith(text, c); m.WeightedLength < 0 {
				t.Fatalf("negative in config %+v", c)
			}
		}
		// URL-free ASCII weighs one per character.
		ascii := true
		for i := 0; i < len(text); i++ {
			if text[i] >= utf8.RuneSelf {
				ascii = false
				break
			}
		}
		if ascii && len(extractURLs(appendUTF16(nil, text), nil)) == 0 && n.WeightedLength != len(text) {
			t.Fatalf("URL-free ASCII %q weighs %d, has %d characters", text, n.WeightedLength, len(text))
		}
		r := Check(text, CheckOptions{})
		if !isBlank(text) && r.WeightedLength != n.WeightedLength {
			t.Fatalf("Check says %d, Parse %d", r.WeightedLength, n.WeightedLength)
		}
		if r.Valid != (len(r.Errors) == 0) {
			t.Fatalf("valid %v with errors %q", r.Valid, r.Errors)
		}
		// Mentions and hashtags as the extractors find them on the text
		// as written (check searches less: from the first sign, without
		// the full-width ones when the text has none, with the URLs of
		// the NFC form when it can shift them).
		if u := appendUTF16(nil, text); !isBlank(text) {
			if want := countMentions(extractMentionsOrLists(u, nil)); r.Mentions != want {
				t.Fatalf("Check finds %d mentions, the extractor %d", r.Mentions, want)
			}
			if want := len(extractHashtagSpans(u, extractURLs(u, nil), nil)); r.Hashtags != want {
				t.Fatalf("Check finds %d hashtags, the extractor %d", r.Hashtags, want)
			}
		}
		if utf8.ValidString(text) && !isBlank(text) && !strings.ContainsAny(text, "\x00\ufffe\ufeff\uffff") && r.Valid != (n.WeightedLength <= DefaultMaxLength) {
			t.Fatalf("Check valid %v for length %d: %q", r.Valid, n.WeightedLength, r.Errors)
		}
		NearDuplicate(text, []string{text, "x"})
	})
}

func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint16(0), false)
		f.Add(s, uint16(12), true)
	}
	f.Fuzz(func(t *testing.T, text string, limit uint16, number bool) {
		opts := SplitOptions{MaxLength: int(limit % 400), Number: number}
		res, err := Split(text, opts)
		if err != nil {
			switch {
			case errors.Is(err, ErrEmpty):
				if !onlyMarkersAndBlank(text) {
					t.Fatalf("ErrEmpty for %q", text)
				}
			case !utf8.ValidString(text), strings.ContainsAny(text, "\x00\ufffe\ufeff\uffff"), strings.Contains(err.Error(), "leaves no room"):
			default:
				t.Fatalf("Split(%q, %+v): %v", text, opts, err)
			}
			return
		}
		splitInvariants(t, text, opts, res)
	})
}

// onlyMarkersAndBlank: every line is blank or a "---" marker.
func onlyMarkersAndBlank(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "---" && !isBlank(l) {
			return false
		}
	}
	return true
}
