package xapi

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMessageCutsOnCharacters: X's messages are cut to one short line; a
// long detail in a multi-byte script must be cut between characters, not
// inside one (the old cut at byte 300 left half a character, invalid
// UTF-8, in the message shown to the user and stored as the fail reason).
func TestMessageCutsOnCharacters(t *testing.T) {
	for _, unit := range []string{"İ", "日", "🙂", "ש", "a"} {
		// Offset by one ASCII byte so that byte 300 falls inside a character.
		detail := "x" + strings.Repeat(unit, 400)
		e := &Error{StatusCode: 400, Detail: detail}
		msg := e.Message()
		if !utf8.ValidString(msg) {
			t.Errorf("%s: message is not valid UTF-8: ...%q", unit, msg[len(msg)-8:])
		}
		if !strings.HasSuffix(msg, "…") || !strings.HasPrefix(detail, strings.TrimSuffix(msg, "…")) {
			t.Errorf("%s: message %q is not a prefix of the detail plus …", unit, msg)
		}
		if n := utf8.RuneCountInString(msg); n > 301 {
			t.Errorf("%s: message has %d characters, want at most 301", unit, n)
		}
	}
	e := &Error{StatusCode: 403, Detail: "Du  contenu\n\tdupliqué."}
	if got := e.Message(); got != "Du contenu dupliqué." {
		t.Errorf("short message = %q", got)
	}
}
