package tweettext

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
)

func TestCheckErrorsAndWarnings(t *testing.T) {
	many := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(prefix)
			b.WriteByte(byte('a' + i))
			b.WriteByte(' ')
		}
		return b.String()
	}
	for _, tc := range []struct {
		name     string
		text     string
		opts     CheckOptions
		length   int
		valid    bool
		errors   []string
		warnings []string
	}{
		{name: "plain", text: "hello world", length: 11, valid: true},
		{name: "exactly 280", text: strings.Repeat("a", 280), length: 280, valid: true},
		{name: "over", text: strings.Repeat("a", 312), length: 312,
			errors: []string{"Tweet is 312/280 characters; split it into a thread with `psnd post --thread`"}},
		{name: "over with CJK", text: strings.Repeat("日", 141), length: 282,
			errors: []string{"Tweet is 282/280 characters; split it into a thread with `psnd post --thread`"}},
		{name: "premium", text: strings.Repeat("a", 312), opts: CheckOptions{MaxLength: PremiumMaxLength}, length: 312, valid: true},
		{name: "premium over", text: strings.Repeat("ab ", 8334), opts: CheckOptions{MaxLength: PremiumMaxLength}, length: 25002,
			errors: []string{"Tweet is 25002/25000 characters; split it into a thread with `psnd post --thread`"}},
		{name: "empty", text: "", errors: []string{"Tweet is empty"}},
		{name: "blank", text: " \n\t\u3000\u200b", errors: []string{"Tweet is empty"}},
		{name: "invalid UTF-8", text: "ab\xffc", length: 5, // U+FFFD weighs 2
			errors: []string{"text is not valid UTF-8 (first bad byte at offset 2)"}},
		{name: "NUL", text: "a\x00b", length: 3, errors: []string{"text contains a NUL character at byte offset 1"}},
		{name: "BOM", text: "a\ufeffb", length: 4, errors: []string{"text contains the invalid character U+FEFF at byte offset 1"}},
		{name: "U+FFFF", text: "x\uffff", length: 3, errors: []string{"text contains the invalid character U+FFFF at byte offset 1"}},
		{name: "10 mentions", text: many("@user", 10), length: 70, valid: true},
		{name: "11 mentions", text: many("@user", 11), length: 77, valid: true,
			warnings: []string{"11 mentions (more than 10); X may limit the reach of such posts"}},
		{name: "list is no mention", text: many("@user", 10) + "@x/list", length: 77, valid: true},
		{name: "5 hashtags", text: many("#tag", 5), length: 30, valid: true},
		{name: "6 hashtags", text: many("#tag", 6), length: 36, valid: true,
			warnings: []string{"6 hashtags (more than 5); X may treat such posts as spam"}},
		{name: "hashtag in URL is none", text: many("#tag", 5) + "http://x.com/#anchor", length: 53, valid: true},
		{name: "near duplicate", text: "Launching our new app today! https://t.co/abc", length: 52, valid: true,
			opts:     CheckOptions{Recent: []string{"unrelated", "launching our NEW app today!  https://example.com/x"}},
			warnings: []string{"near-duplicate of a recent post (100% similar); X refuses duplicate posts"}},
		{name: "not a duplicate", text: "Launching our new app today!", length: 28, valid: true,
			opts: CheckOptions{Recent: []string{"We fixed the login bug in the app."}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.text, tc.opts)
			wantMax := tc.opts.MaxLength
			if wantMax == 0 {
				wantMax = 280
			}
			if r.WeightedLength != tc.length || r.Valid != tc.valid || r.MaxLength != wantMax {
				t.Errorf("got length %d valid %v max %d, want %d %v %d", r.WeightedLength, r.Valid, r.MaxLength, tc.length, tc.valid, wantMax)
			}
			if strings.Join(r.Errors, "|") != strings.Join(tc.errors, "|") {
				t.Errorf("errors %q, want %q", r.Errors, tc.errors)
			}
			if strings.Join(r.Warnings, "|") != strings.Join(tc.warnings, "|") {
				t.Errorf("warnings %q, want %q", r.Warnings, tc.warnings)
			}
		})
	}
}

// The JSON shape is SPEC §7's contract.
func TestCheckJSONShape(t *testing.T) {
	b, err := json.Marshal(Check("hi", CheckOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"weighted_length", "max_length", "valid", "warnings", "errors", "permillage"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if string(b) != `{"weighted_length":2,"max_length":280,"valid":true,"warnings":[],"errors":[],"permillage":7,"urls":0,"mentions":0,"hashtags":0}` {
		t.Errorf("unexpected JSON %s", b)
	}
}

func TestNearDuplicate(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		dup  bool
	}{
		{"Hello world", "hello   WORLD", true},
		{"Big news: we shipped v2! https://t.co/x", "Big news: we shipped v2! https://example.com/release", true},
		{"Big news: we shipped v2!", "Big news: we shipped v2!!", true},
		// Texts that differ only in their numbers are a series, not an
		// accident (issue 10 item 10).
		{"Big news: we shipped version 2 of the app today", "Big news: we shipped version 3 of the app today", false},
		{"Big news: we shipped version 2 of the app today!", "Big news: we shipped version 2 of the app today", true},
		{"Big news: we shipped v2!", "Small news: nothing shipped, see you next week", false},
		{"café", "cafe\u0301", true}, // NFC
		{"ok", "ok", true},
		{"ok", "no", false},
		{"", "", true},
		// Too short to judge by trigrams: only equal texts are duplicates.
		{"parallel 2", "parallel 12", false},
		{"sandbox run parallel 2", "sandbox run parallel 12", false},
		{"parallel 12", "parallel 12", true},
		{"Hello world!", "Hello world", false},
		{"テスト 2", "テスト 12", false},
		{"今日は良い天気ですね", "今日は良い天気ですね！", false},
		{"مرحبا ٢", "مرحبا ١٢", false},
		// Long enough: small edits are near-duplicates, in any script.
		{"今日はとても良い天気ですね。散歩に行きましょう。公園で会いましょう", "今日はとても良い天気ですね。散歩に行きましょう。公園で会いましょう！", true},
		{"مرحبا بالعالم، هذا إعلان مهم عن الإصدار الجديد", "مرحبا بالعالم، هذا إعلان مهم عن الإصدار الجديد!", true},
		{"Привет, мир! Сегодня мы выпустили новую версию", "привет, мир! сегодня мы выпустили новую версию.", true},
		// Numbers in other scripts are compared by value.
		{"Countdown: ٣ days left until the launch, get ready", "Countdown: 3 days left until the launch, get ready!", true},
		{"Countdown: ٣ days left until the launch, get ready", "Countdown: 2 days left until the launch, get ready", false},
		{"Day 12 of the challenge: ran along the river again", "Day 13 of the challenge: ran along the river again", false},
	} {
		got, m := NearDuplicate(tc.a, []string{tc.b})
		if got != tc.dup {
			t.Errorf("NearDuplicate(%q, %q) = %v (%.2f), want %v", tc.a, tc.b, got, m.Similarity, tc.dup)
		}
	}
	if dup, m := NearDuplicate("x", nil); dup || m.Index != -1 {
		t.Errorf("no recent posts: got %v %+v", dup, m)
	}
	_, m := NearDuplicate("the quick brown fox", []string{"lorem ipsum", "the quick brown fox!", "the quick"})
	if m.Index != 1 {
		t.Errorf("best match index %d, want 1", m.Index)
	}
}

// urlMayCoverTag's premise: no part of a URL holds white space, and '#'
// is no domain character (the full-width '＃' is one).
func TestURLCharsExcludeSpaceAndHash(t *testing.T) {
	for u := 0; u <= 0xFFFF; u++ {
		c := uint16(u)
		inURL := isDomainChar(c) || isRunChar(c) || isPathChar(c) || isPathEndChar(c) || isQueryChar(c) || isQueryEndChar(c)
		if isSpace(c) && inURL {
			t.Errorf("U+%04X is white space and may be in a URL", u)
		}
		if c == '#' && (isDomainChar(c) || isRunChar(c)) {
			t.Errorf("U+%04X is a hash sign and a domain character", u)
		}
	}
}

// Check counts hashtags exactly as the library's extractor does on the text
// as written (the oracle: the URLs of the text, always extracted), also
// where the counted form is the NFC one.
func TestCheckHashtagsMatchExtractor(t *testing.T) {
	texts := append(corpus.Generate(5, 20000, corpus.Realistic), corpus.Generate(6, 20000, corpus.Adversarial)...)
	texts = append(texts,
		"e\u0301 http://a.com/x#tag #b", "é a.co#x #y", "Å http://a.com/#tag", "e\u0301 a.b/#c",
		"e\u0301 #a.com/#b", "e\u0301 x.co\u00a0#t", "e\u0301 ＃tag a.com/＃x", "e\u0301 a＃tag.com", "e\u0301 http://＃tag.com/x",
	)
	var p parser
	seen := 0
	for _, s := range texts {
		r := p.check(s, CheckOptions{}, nil)
		u := appendUTF16(nil, s)
		want := len(extractHashtagSpans(u, extractURLs(u, nil), nil))
		if r.Hashtags != want {
			t.Fatalf("%+q: %d hashtags, want %d", s, r.Hashtags, want)
		}
		if p.normalized && want > 0 {
			seen++
		}
	}
	if seen < 100 {
		t.Fatalf("only %d texts with hashtags were normalised: the test does not reach that path", seen)
	}
}

// unitURLs, when it vouches for its answer, gives the URLs a search of
// the text as written finds.
func TestUnitURLs(t *testing.T) {
	var p parser
	vouched := 0
	for seed := uint64(1); seed <= 3; seed++ {
		for _, mix := range []corpus.Mix{corpus.Realistic, corpus.Adversarial} {
			for _, s := range corpus.Generate(seed, 5000, mix) {
				p.parse(s, configV3())
				got, ok := p.unitURLs(nil)
				if !ok {
					continue
				}
				vouched++
				if want := extractURLs(p.units, nil); !slices.Equal(got, want) {
					t.Fatalf("%q: got %v, want %v", s, got, want)
				}
			}
		}
	}
	if vouched == 0 {
		t.Fatal("unitURLs never vouched")
	}
}
