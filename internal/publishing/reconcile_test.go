package publishing

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/tweettext"
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
		// Lower-casing changes the byte length of Ⱥ and İ: nothing may be
		// sliced at an offset found in a lower-cased copy.
		{"Ⱥ before a link", "ȺȺȺȺ https://example.com", false,
			tco("ȺȺȺȺ https://t.co/abcdefghij", xapi.URLEntity{Start: 5, End: 28, URL: "https://t.co/abcdefghij", ExpandedURL: "https://example.com"}), true},
		{"Turkish, uppercase host", "İstanbul'da buluşalım https://Example.com/Yol", false,
			tco("İstanbul'da buluşalım https://t.co/abcdefghij", xapi.URLEntity{Start: 22, End: 45, URL: "https://t.co/abcdefghij", ExpandedURL: "https://Example.com/Yol"}), true},
		{"Turkish, other path", "İstanbul'da buluşalım https://Example.com/Yol", false,
			tco("İstanbul'da buluşalım https://t.co/abcdefghij", xapi.URLEntity{Start: 22, End: 45, URL: "https://t.co/abcdefghij", ExpandedURL: "https://Example.com/yol"}), false},
		// Offsets counted on the unescaped text still find their link.
		{"offsets before escaping", "a & b https://go.dev", false,
			tco("a &amp; b https://t.co/abcdefghij", xapi.URLEntity{Start: 6, End: 29, URL: "https://t.co/abcdefghij", ExpandedURL: "https://go.dev"}), true},
		{"link moved", "see go.dev now", false,
			tco("see now https://t.co/abcdefghij", xapi.URLEntity{Start: 8, End: 31, URL: "https://t.co/abcdefghij", ExpandedURL: "http://go.dev"}), false},
		{"emoji and RTL around a percent-encoded link", "🧑‍🧑‍🧒 مرحبا example.com/путь שלום", false,
			tco("🧑‍🧑‍🧒 مرحبا https://t.co/abcdefghij שלום", xapi.URLEntity{Start: 12, End: 35, URL: "https://t.co/abcdefghij", ExpandedURL: "http://example.com/%D0%BF%D1%83%D1%82%D1%8C"}), true},
		// Percent-decoding must not turn an escaped delimiter into a real
		// one: these are other addresses, so other texts.
		{"escaped & in a query", "rock https://a.com/s?q=rock%26roll", false,
			tco("rock https://t.co/abcdefghij", xapi.URLEntity{Start: 5, End: 28, URL: "https://t.co/abcdefghij", ExpandedURL: "https://a.com/s?q=rock&roll"}), false},
		{"escaped slash in a path", "see https://a.com/a%2Fb", false,
			tco("see https://t.co/abcdefghij", xapi.URLEntity{Start: 4, End: 27, URL: "https://t.co/abcdefghij", ExpandedURL: "https://a.com/a/b"}), false},
		{"escaped ? in a path", "see https://a.com/why%3F", false,
			tco("see https://t.co/abcdefghij", xapi.URLEntity{Start: 4, End: 27, URL: "https://t.co/abcdefghij", ExpandedURL: "https://a.com/why?"}), false},
		// Parentheses, quotes and the like carry no structure: X may
		// escape them in expanded_url (a Wikipedia link).
		{"escaped parentheses", "read https://en.wikipedia.org/wiki/Go_(language)!", false,
			tco("read https://t.co/abcdefghij!", xapi.URLEntity{Start: 5, End: 28, URL: "https://t.co/abcdefghij", ExpandedURL: "https://en.wikipedia.org/wiki/Go_%28language%29"}), true},
		// Escapes of anything else are the same address, in either case.
		{"escaped unreserved and lower-case hex", "see https://a.com/%7euser/caf%c3%a9|x", false,
			tco("see https://t.co/abcdefghij", xapi.URLEntity{Start: 4, End: 27, URL: "https://t.co/abcdefghij", ExpandedURL: "https://a.com/~user/café%7Cx"}), true},
		// "://" inside a path is not a scheme to drop.
		{"scheme-like path", "see x.co/://evil.com", false,
			tco("see https://t.co/abcdefghij", xapi.URLEntity{Start: 4, End: 27, URL: "https://t.co/abcdefghij", ExpandedURL: "http://evil.com"}), false},
		{"scheme-like path, X's rendering", "see x.co/://evil.com", false,
			tco("see https://t.co/abcdefghij", xapi.URLEntity{Start: 4, End: 27, URL: "https://t.co/abcdefghij", ExpandedURL: "http://x.co/://evil.com"}), true},
		// X counts (and may store) the text in NFC, where a link may end
		// elsewhere than in psnd's decomposed text: either form is ours.
		{"decomposed accent in a link, X in NFC", "voir https://example.com/cafe\u0301 ici", false,
			tco("voir https://t.co/abcdefghij ici", xapi.URLEntity{Start: 5, End: 28, URL: "https://t.co/abcdefghij", ExpandedURL: "https://example.com/caf%C3%A9"}), true},
		{"combining mark after a link, X in NFC", "see example.com\u0301 x", false,
			tco("see https://t.co/abcdefghij\u1e3f x", xapi.URLEntity{Start: 4, End: 27, URL: "https://t.co/abcdefghij", ExpandedURL: "http://example.co"}), true},
		{"long post in note_tweet", long, false,
			xapi.Tweet{Text: long[:270] + "…", NoteTweet: &xapi.NoteTweet{Text: long}}, true},
	}
	for _, c := range cases {
		if got := sameText(c.ours, c.withMedia, c.theirs); got != c.want {
			t.Errorf("%s: sameText = %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzSameText renders random texts, with links wedged into random
// Unicode, as X does (the fake's Render: t.co links, the media link, HTML
// escaping) and checks that sameText recognises each as psnd's own text,
// never panics, and tells it from a longer text.
func FuzzSameText(f *testing.F) {
	texts := []string{
		"",
		"hello world",
		"ȺȺȺȺ https://example.com",
		"İstanbul'da buluşalım https://Example.com/Yol",
		"İİİ example.com İ",
		"東京で会いましょう https://例え.jp/パス と example.co.jp",
		"مرحبا بالعالم https://example.com/ar שלום עולם",
		"\u200f\u202eRTL override https://X.COM/A",
		"emoji 🐦‍🔥 🍋‍🟩 🙂‍↔️ 🧑‍🧑‍🧒 👩🏽‍💻 🏃🏽‍♀️🏾 https://emoji.example/😀",
		"fish & chips <3 > 2 &amp; https://a.b/c?x=1&y=<2>",
		"HTTPS://EXAMPLE.COM/UPPER and Www.Example.Org/Path/",
		"trailing link https://example.com/.",
		"(see https://en.wikipedia.org/wiki/Foo_(bar)) and t.co/abc",
		"a\u0301 combining e\u0301 https://é.example/é",
		"tabs\tand\nnew lines\r\n  example.com  ",
		"https://t.co/abcdefghij already short",
		"bücher.de/path and xn--bcher-kva.de",
	}
	urls := []string{"https://Example.com/Yol", "example.org", "HTTP://EXAMPLE.NET/A?b=1&c=İ", "x.co/путь", "www.Example.com/ı/"}
	for i, s := range texts {
		// Text alone, and a link wedged between two halves of it.
		f.Add(s, "", "", i%2 == 0)
		r := []rune(s)
		f.Add(string(r[:len(r)/2]), urls[i%len(urls)], string(r[len(r)/2:]), i%2 == 1)
	}
	f.Fuzz(func(t *testing.T, before, link, after string, media bool) {
		text := before + link + after
		if !utf8.ValidString(text) {
			t.Skip("psnd refuses invalid UTF-8")
		}
		n := 0
		next := func() string { n++; return fmt.Sprintf("https://t.co/%010d", n) }
		mediaURL := ""
		if media {
			mediaURL = "https://x.com/alice/status/1/photo/1"
		}
		rendered, ents := fakex.Render(text, mediaURL, next)
		rs := []rune(rendered)
		tw := xapi.Tweet{Text: rendered, Entities: &xapi.Entities{}}
		for _, e := range ents {
			if e.Start < 0 || e.End > len(rs) || string(rs[e.Start:e.End]) != e.URL {
				t.Fatalf("fake entity %+v does not point at its link in %q", e, rendered)
			}
			tw.Entities.URLs = append(tw.Entities.URLs, xapi.URLEntity{Start: e.Start, End: e.End, URL: e.URL,
				ExpandedURL: e.ExpandedURL, DisplayURL: e.DisplayURL})
		}
		if media {
			tw.Attachments = &xapi.Attachments{MediaKeys: []string{"3_1"}}
		}
		if !sameText(text, media, tw) {
			t.Fatalf("X's rendering not recognised:\nours   %q\ntheirs %q\nlinks  %+v", text, rendered, ents)
		}
		if sameText(text+" zz", media, tw) {
			t.Fatalf("a longer text matched X's rendering of %q", text)
		}
		// Without media on psnd's side, X's media link is someone else's.
		if media && sameText(text, false, tw) {
			t.Fatalf("a text without media matched a rendering with a media link: %q", rendered)
		}
		// X may keep the text in NFC: that rendering is ours too.
		if nfc := norm.NFC.String(text); nfc != text {
			n = 0
			o, oents := fakex.Render(nfc, mediaURL, next)
			ot := xapi.Tweet{Text: o, Entities: &xapi.Entities{}, Attachments: tw.Attachments}
			for _, e := range oents {
				ot.Entities.URLs = append(ot.Entities.URLs, xapi.URLEntity{Start: e.Start, End: e.End, URL: e.URL, ExpandedURL: e.ExpandedURL})
			}
			if !sameText(text, media, ot) {
				t.Fatalf("X's rendering of the NFC form not recognised:\nours   %q\ntheirs %q", text, o)
			}
		}
		// Texts that differ inside a link's path (by the case of a
		// letter, a character more at its end) or by a link left out
		// are other texts.
		for _, l := range tweettext.Links(text) {
			others := []string{text[:l.Start] + text[l.End:]}
			if i := pathLetter(text[l.Start:l.End]); i >= 0 {
				i += l.Start
				others = append(others, text[:i]+string(text[i]^0x20)+text[i+1:])
			}
			if strings.Contains(text[l.Start:l.End], "/") {
				others = append(others, text[:l.End]+"Q"+text[l.End:])
			}
			for _, other := range others {
				n = 0
				o, oents := fakex.Render(other, mediaURL, next)
				ot := xapi.Tweet{Text: o, Entities: &xapi.Entities{}, Attachments: tw.Attachments}
				for _, e := range oents {
					ot.Entities.URLs = append(ot.Entities.URLs, xapi.URLEntity{Start: e.Start, End: e.End, URL: e.URL, ExpandedURL: e.ExpandedURL})
				}
				if sameText(text, media, ot) {
					t.Fatalf("ours %q matched X's rendering of another text %q", text, other)
				}
			}
		}
	})
}

// pathLetter is the index in a URL of the first ASCII letter of its path
// that is not a percent escape's hex digit, or -1.
func pathLetter(u string) int {
	i := strings.Index(u, "://")
	if i < 0 {
		i = 0
	} else {
		i += 3
	}
	j := strings.IndexByte(u[i:], '/')
	if j < 0 {
		return -1
	}
	for k := i + j; k < len(u); k++ {
		c := u[k] | 0x20
		if c >= 'a' && c <= 'z' && !(k >= 1 && u[k-1] == '%') && !(k >= 2 && u[k-2] == '%') {
			return k
		}
	}
	return -1
}
