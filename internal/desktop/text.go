package desktop

import (
	"strings"
	"unicode"

	"github.com/psnd/psnd/internal/textutil"
)

// clean makes s fit a notification: valid UTF-8 (D-Bus refuses anything
// else), no control characters but line breaks, at most n characters.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return textutil.Truncate(strings.TrimSpace(s), n)
}

// markup escapes s for a notification server that reads the body as
// markup (capability "body-markup"): a reason quoting X, such as
// "<script> is not allowed", must show as written.
var markup = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// appleScriptString quotes s as an AppleScript string literal. The script
// is one argument of osascript (no shell), so this is the only quoting
// that matters: a quote or backslash in s cannot end the literal early.
func appleScriptString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if unicode.IsControl(r) {
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
