package cli

import (
	"strings"

	"github.com/psnd/psnd/internal/textutil"

	"github.com/rivo/uniseg"
)

// displayWidth is how many terminal columns s takes: 2 for a CJK character
// or an emoji (a ZWJ sequence or a flag counts once), 0 for a combining
// mark. Counting runes or bytes instead misaligns every column after one
// holding such text.
func displayWidth(s string) int { return uniseg.StringWidth(s) }

// padRight pads s with spaces to width columns (never cuts it).
func padRight(s string, width int) string {
	return s + strings.Repeat(" ", max(width-displayWidth(s), 0))
}

// truncate puts s on one line and cuts it to at most n columns, the last
// of them "…" when anything was cut. It cuts between grapheme clusters, so
// an emoji sequence or a letter with its accents is kept or dropped whole,
// and a CJK text takes the same room as a Latin one.
func truncate(s string, n int) string {
	s = textutil.Squash(s)
	if displayWidth(s) <= n {
		return s
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		cw := g.Width()
		if w+cw > n-1 {
			break
		}
		b.WriteString(g.Str())
		w += cw
	}
	return b.String() + "…"
}
