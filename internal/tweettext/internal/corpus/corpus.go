// Package corpus generates deterministic random tweet texts for psnd's
// tweettext tests and benchmarks: mixes of ASCII prose, URLs with and
// without protocol, bare domains, mentions, hashtags, emoji sequences (ZWJ,
// flags, keycaps, skin tones, variation selectors), CJK, combining marks,
// RTL text and directional marks. The same seed always gives the same
// texts, so the Go benchmarks and the JavaScript harness
// (bench/twitter-text-js) can time the very same corpus.
package corpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Mix selects what goes into the texts.
type Mix int

const (
	// Realistic: tweet-like texts, mostly within 280, the kind of traffic
	// psnd checks; used for benchmarks.
	Realistic Mix = iota
	// Adversarial: dense mixtures of edge cases around URL, emoji and
	// normalisation rules; used to diff against the reference library.
	Adversarial
)

// Generate returns n texts for seed.
func Generate(seed uint64, n int, mix Mix) []string {
	g := gen{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	out := make([]string, n)
	for i := range out {
		if mix == Adversarial {
			out[i] = g.adversarial()
		} else {
			out[i] = g.realistic()
		}
	}
	return out
}

// WriteJSONL writes texts as JSON Lines, one JSON string per line.
func WriteJSONL(w io.Writer, texts []string) error {
	bw := bufio.NewWriter(w)
	for _, t := range texts {
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode text: %w", err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

type gen struct{ r *rand.Rand }

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

var (
	words = strings.Fields(`the a of to and in is it you that he was for on are with as I his they be at
		one have this from or had by hot word but what some we can out other were all there when up use
		your how said an each she which do their time if will way about many then them write would like
		so these her long make thing see him two has look more day could go come did number sound no most
		people my over know water than call first who may down side been now find launch shipped today`)
	cjk   = []string{"故人西辞黄鹤楼", "烟花三月下扬州", "こんにちは", "ありがとう", "カタカナ", "안녕하세요", "트위터", "日本語のテキスト", "。", "、", "！"}
	rtl   = []string{"مرحبا بالعالم", "پاکستان", "שלום עולם", "قطر", "عمان"}
	marks = []string{"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u200e", "\u200f", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c"}
	comb  = []string{"e\u0301", "a\u0308", "o\u0302", "n\u0303", "\u1100\u1161", "A\u030a", "\u0915\u093c", "c\u0327\u0301", "Z\u0335"}
	misc  = []string{"\u2000", "\u2003", "\u200a", "\u200b", "\u200c", "\u200d", "\u2010", "\u2014", "\u201c", "\u201d", "\u2032", "\u2037", "\u2038", "\u00a0", "\u3000", "\u2026", "\u00a9", "\u00ae", "\u2122", "\t", "\n", "\n\n", "  "}
	bad   = []string{"\ufffe", "\ufeff", "\uffff", "\x00"}
	emoji = []string{
		"😀", "😷", "🔥", "💩", "👾", "🐱", "☺", "☺\ufe0f", "☺\ufe0e", "❤", "❤\ufe0f", "♾", "♾\ufe0f", "⌚", "⌚\ufe0f", "⏩", "⏩\ufe0f",
		"👍🏻", "👍🏿", "👍\ufe0f🏻", "☝🏻", "☝\ufe0f🏻", "☝\ufe0e🏻", "✌️", "⛷🏻", "⛹️‍♀️", "⛹🏽‍♂️", "⛹‍♀️", "🕴️‍♀️", "🏋🏻‍♀️",
		"👨‍👩‍👧‍👦", "👨‍👩‍👧", "👩‍❤️‍💋‍👨", "👨‍⚕️", "👩🏾‍🚀", "👨‍🦰", "🧑‍🤝‍🧑", "🧑🏻‍🤝‍🧑🏿", "🫱🏻‍🫲🏼", "❤️‍🔥", "🏳️‍🌈", "🏳‍🌈", "🏳️‍⚧️", "🏴‍☠️",
		"👁‍🗨", "👁️‍🗨️", "🙋🏽", "🙋🏽‍♀️", "🏃‍♂️", "🏃🏻‍♀️", "👯‍♀️", "🤼‍♂️", "🧞‍♀️",
		"🇺🇸", "🇯🇵", "🇦", "🇦🇦", "🇺🇸🇯🇵", "🇺", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
		"1\u20e3", "1\ufe0f\u20e3", "#\ufe0f\u20e3", "*\u20e3", "9\ufe0f", "\u00a9\ufe0f", "\u00ae\ufe0f", "\u2122\ufe0f", "\ufe0f", "\u200d", "🏻", "🦰", "🥲", "🫠", "🫨", "🥰", "🧕🏾", "🤪", "🤠", "💃🏾",
	}
	gtlds  = []string{"com", "net", "org", "io", "dev", "app", "co", "jp", "uk", "de", "fr", "info", "xyz", "museum", "community", "みんな", "中国", "рф", "한국", "삼성", "onion", "xn--p1ai", "xn--zz", "co.uk", "co.jp", "abc", "abbott", "COM", "Com", "ελ", "বাংলা", "notatld", "c", "comx"}
	labels = []string{"example", "t", "www", "foo-bar", "a", "x1", "sub_domain", "-bad", "bad-", "ñandú", "日本", "münchen", "xn--bcher-kva", "bücher", "\u0430\u0431\u0432", "😀", "ex\"ample", "e`x", strings.Repeat("a", 63), strings.Repeat("b", 64), strings.Repeat("ü", 30), "t.co"}
	paths  = []string{"", "/", "/path", "/a/b/c.html", "/wiki/Foo_(bar)", "/x(y(z)w)v", "/(a)(b)", "/p?", "/p.", "/p,", "/p!", "/Русские_слова", "/é", "/ι", "/@user/", "/a–b", "/a#frag", "/a%20b", "/)", "/(unbalanced", "/~user/", "/a+b", "/a-"}
	query  = []string{"", "?a=1", "?q=x&y=z", "?a=b.", "?x=1!", "?", "?amp=1", "?a=(b)", "?s=+", "?f=#top/"}
	prefix = []string{"", "", " ", "(", "\"", "'", "<", "-", "_", ".", "/", "@", "$", "#", "a", "é", "日", "\u202a", "\u2066", "😀", "＠", ":", ",", "\u00a0", "\ufeff"}
	suffix = []string{"", "", " ", ".", ",", "!", "?", ")", "\"", "'", ":", ";", "…", "。", "日", "é", "\u202c", "/", "-", "@", "+", "_"}
)

func (g *gen) domain() string {
	var b strings.Builder
	for n := g.r.IntN(3); n > 0; n-- {
		b.WriteString(g.pick(labels))
		b.WriteByte('.')
	}
	b.WriteString(g.pick(labels[:12]))
	b.WriteByte('.')
	b.WriteString(g.pick(gtlds))
	return b.String()
}

func (g *gen) url() string {
	var b strings.Builder
	switch g.r.IntN(6) {
	case 0:
		b.WriteString("http://")
	case 1, 2:
		b.WriteString("https://")
	case 3:
		b.WriteString("HTTPS://")
	}
	if g.r.IntN(8) == 0 {
		b.WriteString("t.co/")
		slug := 5 + g.r.IntN(45)
		for range slug {
			b.WriteByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[g.r.IntN(62)])
		}
		b.WriteString(g.pick(query))
		return b.String()
	}
	b.WriteString(g.domain())
	if g.r.IntN(10) == 0 {
		fmt.Fprintf(&b, ":%d", g.r.IntN(70000))
	}
	b.WriteString(g.pick(paths))
	b.WriteString(g.pick(query))
	return b.String()
}

func (g *gen) token() string {
	switch k := g.r.IntN(100); {
	case k < 45:
		return g.pick(words)
	case k < 55:
		return g.url()
	case k < 63:
		return g.pick(emoji)
	case k < 70:
		return g.pick(cjk)
	case k < 73:
		return g.pick(rtl)
	case k < 76:
		return "@" + g.pick(words) + fmt.Sprint(g.r.IntN(100))
	case k < 79:
		return "#" + g.pick(words)
	case k < 81:
		return "$" + strings.ToUpper(g.pick(words))
	case k < 84:
		return g.pick(comb)
	case k < 87:
		return g.pick(misc)
	default:
		return g.pick(words) + g.pick([]string{".", ",", "!", "?", ":", ";"})
	}
}

func (g *gen) realistic() string {
	var b strings.Builder
	n := 3 + g.r.IntN(40)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.token())
	}
	return b.String()
}

func (g *gen) adversarial() string {
	var b strings.Builder
	n := 1 + g.r.IntN(12)
	for range n {
		switch g.r.IntN(10) {
		case 0, 1, 2, 3:
			b.WriteString(g.pick(prefix))
			b.WriteString(g.url())
			b.WriteString(g.pick(suffix))
		case 4:
			b.WriteString(g.pick(emoji))
		case 5:
			b.WriteString(g.pick(marks))
		case 6:
			b.WriteString(g.pick(comb))
		case 7:
			b.WriteString(g.pick(misc))
		case 8:
			if g.r.IntN(10) == 0 {
				b.WriteString(g.pick(bad))
			} else {
				b.WriteString(g.pick(cjk))
			}
		default:
			b.WriteString(g.token())
		}
	}
	return b.String()
}
