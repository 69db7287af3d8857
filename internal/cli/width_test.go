package cli

import "testing"

func TestDisplayWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"alice", 5},
		{"東京", 4},
		{"한국어", 6},
		{"👩‍💻", 2},     // a ZWJ sequence of three runes
		{"🇯🇵", 2},      // a flag: two regional indicators
		{"e\u0301", 1}, // a combining accent takes no column
		{"İȺ", 2},
	} {
		if got := displayWidth(c.s); got != c.want {
			t.Errorf("displayWidth(%q) = %d, want %d", c.s, got, c.want)
		}
		if got := displayWidth(padRight(c.s, 8)); got != max(8, c.want) {
			t.Errorf("padRight(%q, 8) is %d columns wide", c.s, got)
		}
	}
}
