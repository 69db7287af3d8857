package daemon

import (
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/xapi"
)

func TestSameText(t *testing.T) {
	tco := func(text string, ents ...xapi.URLEntity) xapi.Tweet {
		return xapi.Tweet{Text: text, Entities: &xapi.Entities{URLs: ents}}
	}
	long := strings.Repeat("long words ", 40)
	cases := []struct {
		name      string
		ours      string
		withMedia bool
		theirs    xapi.Tweet
		want      bool
	}{
		{"plain", "hello world", false, tco("hello world"), true},
		{"entities escaped", "fish & chips <3", false, tco("fish &amp; chips &lt;3"), true},
		{"space differences", "a  b\n", false, tco("a b"), true},
		{"different", "hello", false, tco("hello!"), false},
		{"bare domain", "see example.com now", false,
			tco("see https://t.co/abc now", xapi.URLEntity{Start: 4, End: 20, URL: "https://t.co/abc", ExpandedURL: "http://example.com"}), true},
		{"full url", "read https://go.dev/doc", false,
			tco("read https://t.co/xyz", xapi.URLEntity{Start: 5, End: 21, URL: "https://t.co/xyz", ExpandedURL: "https://go.dev/doc"}), true},
		// A trailing link psnd did not send is X's media link only when
		// both sides carry media: otherwise it is someone else's post.
		{"foreign trailing link", "Big news", false,
			tco("Big news https://t.co/q", xapi.URLEntity{Start: 9, End: 23, URL: "https://t.co/q", ExpandedURL: "https://example.com/x"}), false},
		{"media link", "Look", true, func() xapi.Tweet {
			t := tco("Look https://t.co/m", xapi.URLEntity{Start: 5, End: 19, URL: "https://t.co/m", ExpandedURL: "https://x.com/a/status/1/photo/1"})
			t.Attachments = &xapi.Attachments{MediaKeys: []string{"3_1"}}
			return t
		}(), true},
		{"media link but no media at X", "Look", true,
			tco("Look https://t.co/m", xapi.URLEntity{Start: 5, End: 19, URL: "https://t.co/m", ExpandedURL: "https://x.com/a/status/1/photo/1"}), false},
		// Media without text: X's text is the media link alone.
		{"media only", "", true, func() xapi.Tweet {
			t := tco("https://t.co/m", xapi.URLEntity{Start: 0, End: 14, URL: "https://t.co/m", ExpandedURL: "https://x.com/a/status/1/photo/1"})
			t.Attachments = &xapi.Attachments{MediaKeys: []string{"3_1"}}
			return t
		}(), true},
		{"media only, other post with text", "", true, func() xapi.Tweet {
			t := tco("Look https://t.co/m", xapi.URLEntity{Start: 5, End: 19, URL: "https://t.co/m", ExpandedURL: "https://x.com/a/status/1/photo/1"})
			t.Attachments = &xapi.Attachments{MediaKeys: []string{"3_1"}}
			return t
		}(), false},
		{"long post in note_tweet", long, false,
			xapi.Tweet{Text: long[:270] + "…", NoteTweet: &xapi.NoteTweet{Text: long}}, true},
	}
	for _, c := range cases {
		if got := sameText(c.ours, c.withMedia, c.theirs); got != c.want {
			t.Errorf("%s: sameText = %v, want %v", c.name, got, c.want)
		}
	}
}
