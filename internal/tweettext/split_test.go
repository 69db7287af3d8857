package tweettext

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
)

// splitInvariants checks what Split promises, for the property test, the
// fuzzer and the 10 MB test:
//   - every tweet is within the limit, and its weighted_length is exact;
//   - with numbering, tweet i of n ends in " i/n" when n > 1, and a single
//     tweet is unnumbered;
//   - the tweets, numbering removed, are substrings of the input in order,
//     and together hold all of it except white space and "---" lines:
//     nothing lost, nothing reordered.
func splitInvariants(t testing.TB, text string, opts SplitOptions, res SplitResult) {
	t.Helper()
	max := opts.MaxLength
	if max <= 0 {
		max = DefaultMaxLength
	}
	if len(res.Tweets) == 0 {
		t.Fatalf("no tweets for %q", text)
	}
	bodies := make([]string, len(res.Tweets))
	for i, tw := range res.Tweets {
		if tw.WeightedLength > max {
			t.Fatalf("tweet %d weighs %d > %d: %q", i+1, tw.WeightedLength, max, tw.Text)
		}
		if w := WeightedLength(tw.Text); w != tw.WeightedLength {
			t.Fatalf("tweet %d reports %d, weighs %d", i+1, tw.WeightedLength, w)
		}
		body := tw.Text
		if opts.Number && len(res.Tweets) > 1 {
			suffix := fmt.Sprintf(" %d/%d", i+1, len(res.Tweets))
			if !strings.HasSuffix(body, suffix) {
				t.Fatalf("tweet %d lacks %q: %q", i+1, suffix, body)
			}
			body = strings.TrimSuffix(body, suffix)
		}
		if strings.TrimSpace(body) == "" {
			t.Fatalf("tweet %d is blank", i+1)
		}
		bodies[i] = body
	}
	pos := 0
	for i, b := range bodies {
		idx := strings.Index(text[pos:], b)
		if idx < 0 {
			t.Fatalf("tweet %d is not in the input after offset %d: %q", i+1, pos, b)
		}
		pos += idx + len(b)
	}
	if got, want := stripSpace(strings.Join(bodies, "")), stripSpace(dropMarkerLines(text)); got != want {
		t.Fatalf("text lost or reordered:\n got %q\nwant %q", cut(got), cut(want))
	}
}

func cut(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 {
			return -1
		}
		return r
	}, s)
}

func dropMarkerLines(s string) string {
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "---" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

func TestSplitExamples(t *testing.T) {
	para := strings.Repeat("Sentence number one is here. ", 6) // 174
	for _, tc := range []struct {
		name   string
		text   string
		opts   SplitOptions
		want   []string
		warned string
	}{
		{name: "fits", text: "  short text \n", want: []string{"short text"}},
		{name: "paragraphs first", text: para + "\n\n" + para,
			want: []string{strings.TrimSpace(para), strings.TrimSpace(para)}},
		{name: "sentences", text: strings.Repeat("abcdefghi. ", 30), opts: SplitOptions{MaxLength: 50},
			want: []string{"abcdefghi. abcdefghi. abcdefghi. abcdefghi.", "abcdefghi. abcdefghi. abcdefghi. abcdefghi.", "abcdefghi. abcdefghi. abcdefghi. abcdefghi.",
				"abcdefghi. abcdefghi. abcdefghi. abcdefghi.", "abcdefghi. abcdefghi. abcdefghi. abcdefghi.", "abcdefghi. abcdefghi. abcdefghi. abcdefghi.",
				"abcdefghi. abcdefghi. abcdefghi. abcdefghi.", "abcdefghi. abcdefghi."},
			warned: "thread has 8 tweets (more than 7)"},
		{name: "words", text: "aaaa bbbb cccc dddd", opts: SplitOptions{MaxLength: 10}, want: []string{"aaaa bbbb", "cccc dddd"}},
		{name: "sentence beats word", text: "Hi there. How are you doing", opts: SplitOptions{MaxLength: 20},
			want: []string{"Hi there.", "How are you doing"}},
		{name: "URL never cut", text: "see https://example.com/a/really/long/path/here/ok now", opts: SplitOptions{MaxLength: 30},
			want: []string{"see https://example.com/a/really/long/path/here/ok", "now"}},
		{name: "emoji never cut", text: "ab 👨‍👩‍👧‍👦 cd", opts: SplitOptions{MaxLength: 4}, want: []string{"ab", "👨‍👩‍👧‍👦", "cd"}},
		{name: "markers", text: "one\n---\ntwo\n  ---  \n\nthree", want: []string{"one", "two", "three"}},
		{name: "marker part too long", text: "one\n---\naaaa bbbb cccc", opts: SplitOptions{MaxLength: 10},
			want: []string{"one", "aaaa bbbb", "cccc"}, warned: "part 2 (between --- lines) is longer than a tweet; split it automatically into 2 tweets"},
		{name: "word too long", text: "x " + strings.Repeat("y", 25), opts: SplitOptions{MaxLength: 10},
			want: []string{"x", "yyyyyyyyyy", "yyyyyyyyyy", "yyyyy"}, warned: "tweet 2: a word longer than a tweet"},
		{name: "no-break space is not a break", text: "aaaa\u00a0bbbb cc", opts: SplitOptions{MaxLength: 10},
			want: []string{"aaaa\u00a0bbbb", "cc"}},
		{name: "numbered", text: "aaaa bbbb cccc", opts: SplitOptions{MaxLength: 10, Number: true},
			want: []string{"aaaa 1/3", "bbbb 2/3", "cccc 3/3"}},
		{name: "CJK weighs 2", text: "日本語 日本語 日本語", opts: SplitOptions{MaxLength: 14}, want: []string{"日本語 日本語", "日本語"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Split(tc.text, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tw := range res.Tweets {
				got = append(got, tw.Text)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if tc.warned != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warned) {
				t.Errorf("warnings %q lack %q", res.Warnings, tc.warned)
			}
			if tc.warned == "" && len(res.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", res.Warnings)
			}
			splitInvariants(t, tc.text, tc.opts, res)
		})
	}
}

func TestSplitErrors(t *testing.T) {
	for _, text := range []string{"", "   ", "\n---\n", " \u3000\n\n"} {
		if _, err := Split(text, SplitOptions{}); !errors.Is(err, ErrEmpty) {
			t.Errorf("Split(%q): %v, want ErrEmpty", text, err)
		}
	}
	for _, text := range []string{"a\xffb", "a\x00b", "a\ufeffb"} {
		if _, err := Split(text, SplitOptions{}); err == nil {
			t.Errorf("Split(%q) succeeded", text)
		}
	}
	// Two tweets need " 1/2": 4 of a limit of 5 leave 1, too little.
	if _, err := Split("abcd efgh", SplitOptions{MaxLength: 5, Number: true}); err == nil {
		t.Error("no room for numbering, but no error")
	}
	// One tweet is never numbered, so it needs no room for a number.
	if res, err := Split("abc", SplitOptions{MaxLength: 4, Number: true}); err != nil || len(res.Tweets) != 1 || res.Tweets[0].Text != "abc" {
		t.Errorf("Split(abc, max 4, number) = %+v, %v; want one unnumbered tweet", res, err)
	}
}

// Numbering reserves room for the final digit count: with 10+ and 100+
// tweets every tweet must still fit.
func TestSplitNumberingWidths(t *testing.T) {
	for _, n := range []int{9, 10, 11, 99, 100, 101, 1000} {
		words := make([]string, n)
		for i := range words {
			words[i] = "abcdef"
		}
		// With MaxLength 12, one word (6) + " i/n" fits only while i and n
		// have at most 2 digits... so use a limit that one word plus the
		// widest suffix fills exactly.
		d := len(fmt.Sprint(n))
		opts := SplitOptions{MaxLength: 6 + 2 + 2*d, Number: true}
		res, err := Split(strings.Join(words, " "), opts)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(res.Tweets) != n {
			t.Errorf("n=%d: got %d tweets", n, len(res.Tweets))
		}
		splitInvariants(t, strings.Join(words, " "), opts, res)
	}
}

// Property: random realistic and adversarial texts, joined with random
// paragraph breaks and markers, split under various limits.
func TestSplitProperties(t *testing.T) {
	texts := corpus.Generate(3, 400, corpus.Realistic)
	texts = append(texts, corpus.Generate(4, 400, corpus.Adversarial)...)
	seps := []string{" ", "\n", "\n\n", "\n---\n", "  \n\n  ", " --- ", "\r\n"}
	for i := 0; i+3 < len(texts); i += 3 {
		text := texts[i] + seps[i%len(seps)] + texts[i+1] + seps[(i/3)%len(seps)] + texts[i+2]
		if isBlank(dropMarkerLines(text)) {
			continue
		}
		for _, opts := range []SplitOptions{{}, {Number: true}, {MaxLength: 40}, {MaxLength: 25, Number: true}, {MaxLength: 3}} {
			res, err := Split(text, opts)
			if err != nil {
				if strings.ContainsAny(text, "\x00\ufffe\ufeff\uffff") {
					continue
				}
				t.Fatalf("Split(%q, %+v): %v", text, opts, err)
			}
			splitInvariants(t, text, opts, res)
		}
	}
}

// A 10 MB input must split correctly (and, being linear, quickly).
func TestSplitTenMegabytes(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var b strings.Builder
	for i, s := range corpus.Generate(5, 200000, corpus.Realistic) {
		if b.Len() >= 10<<20 {
			break
		}
		b.WriteString(strings.Map(func(r rune) rune {
			if r == 0 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
				return 'x'
			}
			return r
		}, s))
		switch {
		case i%50 == 49:
			b.WriteString("\n---\n")
		case i%5 == 4:
			b.WriteString("\n\n")
		default:
			b.WriteString(" ")
		}
	}
	b.WriteString(strings.Repeat("z", 1<<20)) // and a 1 MB word
	text := b.String()
	for _, opts := range []SplitOptions{{Number: true}, {MaxLength: PremiumMaxLength}} {
		res, err := Split(text, opts)
		if err != nil {
			t.Fatal(err)
		}
		splitInvariants(t, text, opts, res)
		t.Logf("%d bytes → %d tweets (max %d)", len(text), len(res.Tweets), res.MaxLength)
	}
}

// TestCompose covers the rules post and split share: one tweet is never
// numbered, no-break spaces are the writer's and stay, media may stand
// without text, and without Thread a part is one tweet however long.
func TestCompose(t *testing.T) {
	long := strings.Repeat("word ", 70)
	cases := []struct {
		name string
		text string
		opts ComposeOptions
		want []string
		err  string
	}{
		{"one tweet, numbered thread", "short", ComposeOptions{Thread: true, Number: true}, []string{"short"}, ""},
		{"one tweet, numbered post", "short", ComposeOptions{Number: true}, []string{"short"}, ""},
		{"two parts numbered", "a\n---\nb", ComposeOptions{Number: true}, []string{"a 1/2", "b 2/2"}, ""},
		{"leading no-break space kept", "\u00a0indented", ComposeOptions{Thread: true}, []string{"\u00a0indented"}, ""},
		{"no-break space part kept", "a\n---\n\u00a0b\u00a0", ComposeOptions{}, []string{"a", "\u00a0b\u00a0"}, ""},
		{"blank parts dropped", "a\n---\n \n---\nb", ComposeOptions{}, []string{"a", "b"}, ""},
		{"long part without thread stays whole", long, ComposeOptions{}, []string{strings.TrimSpace(long)}, ""},
		{"long part with thread splits", long, ComposeOptions{Thread: true, Number: true}, []string{strings.TrimSpace(strings.Repeat("word ", 55)) + " 1/2", strings.TrimSpace(strings.Repeat("word ", 15)) + " 2/2"}, ""},
		{"media alone", "", ComposeOptions{Media: true, Number: true, Thread: true}, []string{""}, ""},
		{"media, blank text", " \n---\n", ComposeOptions{Media: true}, []string{""}, ""},
		{"no media, no text", "", ComposeOptions{}, nil, "empty"},
		{"NUL", "a\x00", ComposeOptions{Media: true}, nil, "U+0000"},
	}
	for _, c := range cases {
		res, err := Compose(c.text, c.opts)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		var got []string
		for _, tw := range res.Tweets {
			got = append(got, tw.Text)
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	tweetCases := []struct {
		tweets []string
		media  bool
		want   []string
		err    string
	}{
		{[]string{" one ", "two"}, false, []string{"one 1/2", "two 2/2"}, ""},
		{[]string{"", "two"}, true, []string{"1/2", "two 2/2"}, ""},
		{[]string{""}, true, []string{""}, ""},
		{[]string{"", "two"}, false, nil, "tweet 1 is empty"},
		{[]string{"one", "\u200b"}, true, nil, "tweet 2 is empty"},
	}
	for _, c := range tweetCases {
		res, err := ComposeTweets(c.tweets, ComposeOptions{Number: true, Media: c.media})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrEmpty) {
				t.Errorf("%q: err = %v, want %q", c.tweets, err, c.err)
			}
			continue
		}
		var got []string
		for _, tw := range res.Tweets {
			got = append(got, tw.Text)
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, %v; want %q", c.tweets, got, err, c.want)
		}
	}
}
