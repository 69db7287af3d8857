package fakex

import (
	"strings"
	"unicode/utf8"

	"github.com/psnd/psnd/internal/tweettext"
)

// Render is what X does to a post's text before it stores and returns it:
// every URL twitter-text detects (with or without a scheme) becomes a t.co
// link taken from next, a media post gets one more t.co link appended
// (mediaURL is where it points; "" for a post without media), and &, < and >
// are HTML-escaped. The entities map each link back: offsets count code
// points of the returned (escaped) text, expanded_url is the URL as posted,
// with http:// added when it had no scheme.
//
// It is written from X's observable behaviour, independently of how psnd
// compares texts, so tests can check psnd's comparison against it.
func Render(text, mediaURL string, next func() string) (string, []URLEntity) {
	var out strings.Builder
	var ents []URLEntity
	runes := 0
	write := func(s string) {
		out.WriteString(s)
		runes += utf8.RuneCountInString(s)
	}
	link := func(expanded string, media bool) {
		tco := next()
		display := displayURL(expanded)
		if media {
			display = "pic.x.com/" + strings.TrimPrefix(tco, "https://t.co/")
		}
		start := runes
		write(tco)
		ents = append(ents, URLEntity{Start: start, End: runes, URL: tco, ExpandedURL: expanded, DisplayURL: display})
	}
	last := 0
	for _, l := range tweettext.Links(text) {
		write(escapeHTML(text[last:l.Start]))
		expanded := l.URL
		if !hasScheme(expanded) {
			expanded = "http://" + expanded
		}
		link(expanded, false)
		last = l.End
	}
	write(escapeHTML(text[last:]))
	if mediaURL != "" {
		if runes > 0 {
			write(" ")
		}
		link(mediaURL, true)
	}
	return out.String(), ents
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeHTML escapes what X escapes in a post's text: &, < and > (not
// quotes).
func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

func hasScheme(u string) bool {
	l := strings.ToLower(u[:min(len(u), len("https://"))])
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// tcoLink returns the next t.co link: https://t.co/ and a 10-character
// slug, 23 characters like X's.
func tcoLink(n int64) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var slug [10]byte
	for i := len(slug) - 1; i >= 0; i-- {
		slug[i] = digits[n%int64(len(digits))]
		n /= int64(len(digits))
	}
	return "https://t.co/" + string(slug[:])
}
