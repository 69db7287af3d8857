package tweettext

import "testing"

func TestLinksByteOffsets(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"ȺȺȺȺ https://example.com", []string{"https://example.com"}},
		{"İstanbul'da buluşalım https://Example.com/Yol", []string{"https://Example.com/Yol"}},
		{"🧑‍🧑‍🧒 東京 example.org/путь, x.co.", []string{"example.org/путь", "x.co"}},
		{"no links here…", nil},
	} {
		got := Links(c.text)
		if len(got) != len(c.want) {
			t.Fatalf("%q: %d links %+v, want %q", c.text, len(got), got, c.want)
		}
		for i, l := range got {
			if s := c.text[l.Start:l.End]; s != c.want[i] || l.URL != c.want[i] {
				t.Errorf("%q: link %d is %q (url %q), want %q", c.text, i, s, l.URL, c.want[i])
			}
		}
	}
}
