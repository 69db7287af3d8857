package cli

import (
	"strings"

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
