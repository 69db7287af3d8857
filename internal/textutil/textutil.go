// Package textutil holds the few string helpers that messages and parsers
// across psnd share: one line of an error, a cut that never splits a
// character, the digits of a JSON \uXXXX escape. It imports only the
// standard library.
package textutil

import (
	"strings"
	"unicode/utf8"
)

// FirstLine returns the first line of s, trimmed: the part of an error
// message that fits in a one-line report.
func FirstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// Squash joins the words of s with single spaces, so that a text of many
// lines shows on one.
func Squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// Truncate shortens s to at most n characters (runes), the last of them
// "…" when anything was cut. It never splits a UTF-8 sequence.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	// Byte offset of rune n-1: the kept part, leaving room for "…".
	cut, k := 0, 0
	for i := range s {
		if k == n-1 {
			cut = i
			break
		}
		k++
	}
	return s[:cut] + "…"
}

// Hex4 reads the four hex digits of a JSON \uXXXX escape at b[i:].
func Hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
