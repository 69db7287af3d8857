package tweettext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
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
		if p.CCC() != 0 || !norm.NFC.IsNormalString(string(r)) || !p.BoundaryBefore() {
			t.Fatalf("U+%04X is not NFC-stable (ccc %d, boundary before %v)", r, p.CCC(), p.BoundaryBefore())
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

// The bitset scanText uses is nfcStable, unit for unit.
func TestNFCStableBMP(t *testing.T) {
	b := nfcStableBMP()
	for r := rune(0); r <= 0xFFFF; r++ {
		if got := b[r>>6]&(1<<(r&63)) != 0; got != nfcStable(r) {
			t.Fatalf("U+%04X: bitset %v, nfcStable %v", r, got, !got)
		}
	}
}

// nfcDiffInputs are texts around normalizeRegions' cuts: marks after ASCII
// and after non-ASCII starters, characters that compose backwards (Hangul
// jamo, U+0CD5), runs of more than 30 non-starters (where the normaliser
// inserts U+034F), reordering, singletons, marks at the start and the end.
func nfcDiffInputs() []string {
	marks := strings.Repeat("\u0301\u0316", 20)
	in := []string{
		"", "a", "e\u0301", "é\u0301x", "x \u0301", "\u0301", "\u0301a\u0301", "a\u0301",
		"\u1100\u1161\u11a8 a\u1100\u1161", "가\u11a8", "\u1100 \u1161", "\u0cc6\u0cd5", "ಕ\u0cc6\u0cd5 a",
		"a" + marks + "b", "é" + marks + "é" + marks, " " + marks, marks + "a" + marks, "日" + marks + "本" + marks,
		"a\u0316\u0301 b\u0301\u0316", "\u212b \u2126 \u0344", "\u0958 क\u093c", "Z̵̡̢͓ a̷ l̸ g̴ o̶",
		"\u00e9\u0301\u0302\u0303", "e\u0301e\u0301e\u0301", "日本\u3099 か\u3099 ハ\u309a", "か\u3099か\u3099",
		"🏳️‍🌈\u0301", "\u05d0\u05b7 \u0627\u0653", "ü\u0308\U0001d15e", "\u0f73\u0f71\u0f72",
	}
	return append(in, corpus.Generate(3, 3000, corpus.Realistic)...)
}

// The form parseText counts is exactly the NFC form of the text, and it is
// flagged as normalised exactly when that differs from the text.
func TestParseNFCMatchesNorm(t *testing.T) {
	var p parser
	for _, s := range nfcDiffInputs() {
		checkParseNFC(t, &p, s)
	}
	for _, s := range corpus.Generate(4, 5000, corpus.Adversarial) {
		checkParseNFC(t, &p, s)
	}
}

func checkParseNFC(t *testing.T, p *parser, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		return // parseText leaves invalid UTF-8 to norm, whole
	}
	want := norm.NFC.String(s)
	p.parse(s, configV3())
	if p.normalized != (want != s) {
		t.Fatalf("%+q: normalized %v, want %v (NFC %+q)", s, p.normalized, want != s, want)
	}
	if !p.normalized {
		return
	}
	if got, w := string(utf16.Decode(p.bufs.nunits)), want; got != w {
		t.Fatalf("%+q: counted %+q, want %+q", s, got, w)
	}
}

func FuzzParseNFC(f *testing.F) {
	for _, s := range nfcDiffInputs()[:40] {
		f.Add(s)
	}
	var p parser
	f.Fuzz(func(t *testing.T, s string) { checkParseNFC(t, &p, s) })
}
