package tweettext

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"unicode/utf16"

	"gopkg.in/yaml.v3"

	"github.com/psnd/psnd/internal/testutil"
)

// The conformance suites of twitter-text (validate.yml, extract.yml,
// tlds.yml) are read from the shared reference data at test time; they are
// never copied into the repository.

type yamlCase[E any] struct {
	Description string `yaml:"description"`
	Text        string `yaml:"text"`
	Expected    E      `yaml:"expected"`
}

func loadGroup[E any](t *testing.T, file, group string) []yamlCase[E] {
	t.Helper()
	b, err := os.ReadFile(testutil.SharedFile(t, "twitter-text/"+file))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests map[string]yaml.Node `yaml:"tests"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	node, ok := doc.Tests[group]
	if !ok {
		t.Fatalf("%s has no group %q", file, group)
	}
	var cases []yamlCase[E]
	if err := node.Decode(&cases); err != nil {
		t.Fatalf("decode %s/%s: %v", file, group, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s/%s is empty", file, group)
	}
	return cases
}

type countExpect struct {
	WeightedLength    int  `yaml:"weightedLength"`
	Valid             bool `yaml:"valid"`
	Permillage        int  `yaml:"permillage"`
	DisplayRangeStart int  `yaml:"displayRangeStart"`
	DisplayRangeEnd   int  `yaml:"displayRangeEnd"`
	ValidRangeStart   int  `yaml:"validRangeStart"`
	ValidRangeEnd     int  `yaml:"validRangeEnd"`
}

// parseWith is parse with config c. It also checks weigh (check's count)
// against it: every suite that counts checks both.
func parseWith(text string, c config) Count {
	var p parser
	n := p.parse(text, c)
	if w := p.weigh(text, c); w.WeightedLength != n.WeightedLength || w.Permillage != n.Permillage {
		panic(fmt.Sprintf("weigh(%q) = %d (%d‰), parse %d (%d‰)", text, w.WeightedLength, w.Permillage, n.WeightedLength, n.Permillage))
	}
	return n
}

func TestValidateWeightedCounts(t *testing.T) {
	twitterText := configV3()
	twitterText.emoji = emojiTwitterText
	for _, g := range []struct {
		group   string
		configs map[string]config
	}{
		// v2: no emoji parsing.
		{"WeightedTweetsCounterTest", map[string]config{"v2": configV2()}},
		// v3, both as the library counts and with X's newer emoji: the
		// suite only has emoji both agree on.
		{"WeightedTweetsWithDiscountedEmojiCounterTest", map[string]config{"x": configV3(), "twitter-text": twitterText}},
		{"UnicodeDirectionalMarkerCounterTest", map[string]config{"x": configV3(), "twitter-text": twitterText}},
	} {
		for _, tc := range loadGroup[countExpect](t, "validate.yml", g.group) {
			for name, c := range g.configs {
				got := parseWith(tc.Text, c)
				want := Count{tc.Expected.WeightedLength, tc.Expected.Valid, tc.Expected.Permillage,
					tc.Expected.DisplayRangeStart, tc.Expected.DisplayRangeEnd, tc.Expected.ValidRangeStart, tc.Expected.ValidRangeEnd}
				if got != want {
					t.Errorf("%s/%s (%s): %q\n got %+v\nwant %+v", g.group, tc.Description, name, tc.Text, got, want)
				}
			}
		}
	}
}

// The "tweets" group checks isValidTweetText with config v1 (140, every
// code point weighs 1).
func TestValidateTweets(t *testing.T) {
	for _, tc := range loadGroup[bool](t, "validate.yml", "tweets") {
		if got := parseWith(tc.Text, configV1()).Valid; got != tc.Expected {
			t.Errorf("tweets/%s: %q valid=%v, want %v", tc.Description, tc.Text, got, tc.Expected)
		}
	}
}

// validate.yml's urls groups test isValidUrl, an RFC 3986 validator of a
// string the caller already believes is a URL; psnd has no use for that
// function. What matters to the counter is whether the extractor takes the
// whole text as one URL (so it counts 23). That agrees with isValidUrl
// except for the cases listed here, each with the reason.
var urlValidatorOnly = map[string]string{
	// Valid RFC 3986 URLs that the extractor does not take whole: it needs a
	// host name with a known TLD, and ':' '@' '[' end a domain label.
	"http://user:PASSW0RD@example.com:8080/login.php":            "userinfo: no URL is extracted at all",
	"http://192.168.0.1/index.html?src=asdf":                     "IPv4 host: no TLD",
	"http://[3ffe:1900:4545:3:200:f8ff:fe21:67cf]:80/index.html": "IPv6 host: no TLD",
	// The query pattern must end with one of [a-z0-9\-_&=#/], so the
	// extracted URL stops before the final '+' (23 plus 1 for '+').
	"http://example.com?foo=$bar.;baz?BAZ&c=d-#top/?stories+": "extracted without the trailing '+'",
}

func TestValidateURLsAsOneURL(t *testing.T) {
	for _, group := range []string{"urls", "urls_without_protocol"} {
		for _, tc := range loadGroup[bool](t, "validate.yml", group) {
			u := appendUTF16(nil, tc.Text)
			urls := extractURLs(u, nil)
			whole := len(urls) == 1 && urls[0].start == 0 && urls[0].end == len(u)
			if _, ok := urlValidatorOnly[tc.Text]; ok {
				if whole == tc.Expected {
					t.Errorf("%s/%s: %q is listed as validator-only but now agrees", group, tc.Description, tc.Text)
				}
				continue
			}
			if whole != tc.Expected {
				t.Errorf("%s/%s: %q one URL=%v, want %v (%v)", group, tc.Description, tc.Text, whole, tc.Expected, urls)
			}
			if whole && WeightedLength(tc.Text) != 23 {
				t.Errorf("%s/%s: %q weighs %d, want 23", group, tc.Description, tc.Text, WeightedLength(tc.Text))
			}
		}
	}
}

func utf16Text(u []uint16, from, to int) string {
	return string(utf16.Decode(u[from:to]))
}

// urlText is the url string of an extracted URL.
func urlText(u []uint16, s urlSpan) string {
	if s.gapTo > s.gapFrom {
		return utf16Text(u, s.start, s.gapFrom) + utf16Text(u, s.gapTo, s.end)
	}
	return utf16Text(u, s.start, s.end)
}

func extractURLTexts(text string) []string {
	u := appendUTF16(nil, text)
	var out []string
	for _, s := range extractURLs(u, nil) {
		out = append(out, urlText(u, s))
	}
	return out
}

func TestExtractURLs(t *testing.T) {
	for _, group := range []string{"urls", "tco_urls_with_params"} {
		for _, tc := range loadGroup[[]string](t, "extract.yml", group) {
			if got := extractURLTexts(tc.Text); !slices.Equal(got, tc.Expected) {
				t.Errorf("%s/%s: %q\n got %q\nwant %q", group, tc.Description, tc.Text, got, tc.Expected)
			}
		}
	}
	type withIndices struct {
		URL     string `yaml:"url"`
		Indices []int  `yaml:"indices"`
	}
	for _, group := range []string{"urls_with_indices", "urls_with_directional_markers"} {
		for _, tc := range loadGroup[[]withIndices](t, "extract.yml", group) {
			u := appendUTF16(nil, tc.Text)
			var got []withIndices
			for _, s := range extractURLs(u, nil) {
				got = append(got, withIndices{urlText(u, s), []int{s.start, s.end}})
			}
			if !slices.EqualFunc(got, tc.Expected, func(a, b withIndices) bool { return a.URL == b.URL && slices.Equal(a.Indices, b.Indices) }) {
				t.Errorf("%s/%s: %q\n got %v\nwant %v", group, tc.Description, tc.Text, got, tc.Expected)
			}
		}
	}
}

func TestTLDSuite(t *testing.T) {
	for _, group := range []string{"country", "generic"} {
		for _, tc := range loadGroup[[]string](t, "tlds.yml", group) {
			if got := extractURLTexts(tc.Text); !slices.Equal(got, tc.Expected) {
				t.Errorf("%s/%s: %q got %q want %q", group, tc.Description, tc.Text, got, tc.Expected)
			}
		}
	}
}

func mentionTexts(text string, lists bool) []string {
	u := appendUTF16(nil, text)
	var out []string
	for _, m := range extractMentionsOrLists(u, nil) {
		if !lists && m.end != m.nameEnd {
			continue
		}
		out = append(out, utf16Text(u, m.start+1, m.nameEnd))
	}
	return out
}

func TestExtractMentions(t *testing.T) {
	for _, tc := range loadGroup[[]string](t, "extract.yml", "mentions") {
		if got := mentionTexts(tc.Text, false); !slices.Equal(got, tc.Expected) {
			t.Errorf("mentions/%s: %q got %q want %q", tc.Description, tc.Text, got, tc.Expected)
		}
	}
	type mention struct {
		ScreenName string `yaml:"screen_name"`
		ListSlug   string `yaml:"list_slug"`
		Indices    []int  `yaml:"indices"`
	}
	for _, group := range []string{"mentions_with_indices", "mentions_or_lists_with_indices"} {
		lists := group == "mentions_or_lists_with_indices"
		for _, tc := range loadGroup[[]mention](t, "extract.yml", group) {
			u := appendUTF16(nil, tc.Text)
			var got []mention
			for _, m := range extractMentionsOrLists(u, nil) {
				if !lists && m.end != m.nameEnd {
					continue
				}
				got = append(got, mention{utf16Text(u, m.start+1, m.nameEnd), utf16Text(u, m.nameEnd, m.end), []int{m.start, m.end}})
			}
			if !slices.EqualFunc(got, tc.Expected, func(a, b mention) bool {
				return a.ScreenName == b.ScreenName && a.ListSlug == b.ListSlug && slices.Equal(a.Indices, b.Indices)
			}) {
				t.Errorf("%s/%s: %q\n got %v\nwant %v", group, tc.Description, tc.Text, got, tc.Expected)
			}
		}
	}
	for _, tc := range loadGroup[*string](t, "extract.yml", "replies") {
		u := appendUTF16(nil, tc.Text)
		r := replyTo(u)
		var got *string
		if r.end > r.start {
			s := utf16Text(u, r.start, r.end)
			got = &s
		}
		if (got == nil) != (tc.Expected == nil) || (got != nil && *got != *tc.Expected) {
			t.Errorf("replies/%s: %q got %v want %v", tc.Description, tc.Text, got, tc.Expected)
		}
	}
}

func hashtagTexts(text string) []string {
	u := appendUTF16(nil, text)
	urls := extractURLs(u, nil)
	var out []string
	for _, h := range extractHashtagSpans(u, urls, nil) {
		out = append(out, utf16Text(u, h.start+1, h.end))
	}
	return out
}

func TestExtractHashtagsAndCashtags(t *testing.T) {
	for _, group := range []string{"hashtags", "hashtags_from_astral"} {
		for _, tc := range loadGroup[[]string](t, "extract.yml", group) {
			if got := hashtagTexts(tc.Text); !slices.Equal(got, tc.Expected) {
				t.Errorf("%s/%s: %q got %q want %q", group, tc.Description, tc.Text, got, tc.Expected)
			}
		}
	}
	type tag struct {
		Hashtag string `yaml:"hashtag"`
		Cashtag string `yaml:"cashtag"`
		Indices []int  `yaml:"indices"`
	}
	for _, tc := range loadGroup[[]tag](t, "extract.yml", "hashtags_with_indices") {
		u := appendUTF16(nil, tc.Text)
		var got []tag
		for _, h := range extractHashtagSpans(u, extractURLs(u, nil), nil) {
			got = append(got, tag{Hashtag: utf16Text(u, h.start+1, h.end), Indices: []int{h.start, h.end}})
		}
		if !slices.EqualFunc(got, tc.Expected, func(a, b tag) bool { return a.Hashtag == b.Hashtag && slices.Equal(a.Indices, b.Indices) }) {
			t.Errorf("hashtags_with_indices/%s: %q\n got %v\nwant %v", tc.Description, tc.Text, got, tc.Expected)
		}
	}
	for _, tc := range loadGroup[[]string](t, "extract.yml", "cashtags") {
		u := appendUTF16(nil, tc.Text)
		var got []string
		for _, c := range extractCashtagSpans(u, nil) {
			got = append(got, utf16Text(u, c.start+1, c.end))
		}
		if !slices.Equal(got, tc.Expected) {
			t.Errorf("cashtags/%s: %q got %q want %q", tc.Description, tc.Text, got, tc.Expected)
		}
	}
	for _, tc := range loadGroup[[]tag](t, "extract.yml", "cashtags_with_indices") {
		u := appendUTF16(nil, tc.Text)
		var got []tag
		for _, c := range extractCashtagSpans(u, nil) {
			got = append(got, tag{Cashtag: utf16Text(u, c.start+1, c.end), Indices: []int{c.start, c.end}})
		}
		if !slices.EqualFunc(got, tc.Expected, func(a, b tag) bool { return a.Cashtag == b.Cashtag && slices.Equal(a.Indices, b.Indices) }) {
			t.Errorf("cashtags_with_indices/%s: %q\n got %v\nwant %v", tc.Description, tc.Text, got, tc.Expected)
		}
	}
}

// validate.yml's usernames, lists and hashtags groups check isValidUsername,
// isValidList and isValidHashtag, which the library defines through the
// extractors: the text must be exactly one entity.
func TestValidateEntities(t *testing.T) {
	for _, tc := range loadGroup[bool](t, "validate.yml", "usernames") {
		got := mentionTexts(tc.Text, false)
		ok := len(got) == 1 && "@"+got[0] == tc.Text
		if ok != tc.Expected {
			t.Errorf("usernames/%s: %q got %v want %v", tc.Description, tc.Text, ok, tc.Expected)
		}
	}
	for _, tc := range loadGroup[bool](t, "validate.yml", "lists") {
		u := appendUTF16(nil, tc.Text)
		ms := extractMentionsOrLists(u, nil)
		ok := len(ms) == 1 && ms[0].start == 0 && ms[0].end == len(u) && ms[0].end > ms[0].nameEnd
		if ok != tc.Expected {
			t.Errorf("lists/%s: %q got %v want %v", tc.Description, tc.Text, ok, tc.Expected)
		}
	}
	for _, tc := range loadGroup[bool](t, "validate.yml", "hashtags") {
		got := hashtagTexts(tc.Text)
		ok := len(got) == 1 && "#"+got[0] == tc.Text
		if ok != tc.Expected {
			t.Errorf("hashtags/%s: %q got %v want %v", tc.Description, tc.Text, ok, tc.Expected)
		}
	}
}
