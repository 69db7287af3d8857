package localapi

import (
	"testing"
	"time"
)

// TestParseWait: one reading of ?wait= for posts and logins: a duration or
// whole seconds, never negative (a negative number of seconds used to pass
// as a negative wait).
func TestParseWait(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"30", 30 * time.Second, true},
		{"30s", 30 * time.Second, true},
		{"1m30s", 90 * time.Second, true},
		{"0", 0, true},
		{"-5", 0, false},
		{"-5s", 0, false},
		{"soon", 0, false},
		{"５", 0, false}, // a full-width digit is not a number here
	} {
		got, err := parseWait(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseWait(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
