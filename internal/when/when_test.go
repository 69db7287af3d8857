package when

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata")
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) // 09:00 in Paris
	cases := []struct {
		in   string
		want time.Time
	}{
		{"+90m", now.Add(90 * time.Minute)},
		{"+2h", now.Add(2 * time.Hour)},
		{"+1d", now.Add(24 * time.Hour)},
		{"+1d2h", now.Add(26 * time.Hour)},
		{"2026-11-27T10:30:00+01:00", time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)},
		{"2026-11-27T10:30:00Z", time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)},
		{"2026-11-27 10:30", time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)},
		{"2026-11-27T10:30", time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)},
		{"10:30", time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)},
		{"08:30", time.Date(2026, 11, 28, 7, 30, 0, 0, time.UTC)}, // passed today: tomorrow
		// Summer time: Paris is UTC+2 in July.
		{"2026-07-01 10:00", time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)},
		// The skipped hour of 2026-03-29 (02:00→03:00) moves forward.
		{"2026-03-29 02:30", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := Parse(c.in, now, paris)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got.UTC(), err, c.want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "+", "+-5m", "+5x", "2026-13-01 10:00", "25:00", "+d"} {
		if _, err := Parse(bad, now, paris); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) err = %v, want ErrFormat", bad, err)
		}
	}
}

func TestLocation(t *testing.T) {
	if loc, err := Location("", ""); err != nil || loc != time.Local {
		t.Errorf("default = %v %v", loc, err)
	}
	if loc, err := Location("", "Asia/Tokyo"); err != nil || loc.String() != "Asia/Tokyo" {
		t.Errorf("configured = %v %v", loc, err)
	}
	if loc, err := Location("UTC", "Asia/Tokyo"); err != nil || loc.String() != "UTC" {
		t.Errorf("PSN_TZ wins = %v %v", loc, err)
	}
	if _, err := Location("Mars/Olympus", ""); err == nil {
		t.Error("bad zone accepted")
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[time.Duration]string{
		10 * time.Second:                "now",
		5 * time.Minute:                 "in 5m",
		-5 * time.Minute:                "5m ago",
		2 * time.Hour:                   "in 2h",
		90 * time.Minute:                "in 1h30m",
		26 * time.Hour:                  "in 26h",
		72 * time.Hour:                  "in 3d",
		-(3*time.Hour + 10*time.Minute): "3h10m ago",
	}
	for d, want := range cases {
		if got := Relative(now.Add(d), now); got != want {
			t.Errorf("Relative(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestParseHorizon: psnd schedules up to two years ahead; beyond that (a
// typo such as +99999d, a year like 2300) or a duration too long to
// represent, Parse refuses with one clear sentence instead of wrapping.
func TestParseHorizon(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for _, ok := range []string{"+730d", "2028-11-27 09:00", "2028-11-27T09:00:00+01:00", "+17520h"} {
		if _, err := Parse(ok, now, paris); err != nil {
			t.Errorf("Parse(%q) = %v; want within the horizon", ok, err)
		}
	}
	cases := map[string]string{
		"+99999d":                `2300-09-11 10:00 CEST is more than 2 years ahead; psnd schedules up to 2 years ahead`,
		"+732d":                  `2028-11-28 09:00 CET is more than 2 years ahead; psnd schedules up to 2 years ahead`,
		"2028-11-27 09:01":       `2028-11-27 09:01 CET is more than 2 years ahead; psnd schedules up to 2 years ahead`,
		"2300-01-01T00:00:00Z":   `2300-01-01 01:00 CET is more than 2 years ahead; psnd schedules up to 2 years ahead`,
		"+999999999d":            `"+999999999d" is more than 2 years ahead; psnd schedules up to 2 years ahead`,
		"+99999999999999999999d": `"+99999999999999999999d" is more than 2 years ahead; psnd schedules up to 2 years ahead`,
		"+9999999999h":           `"+9999999999h" is more than 2 years ahead; psnd schedules up to 2 years ahead`,
		"+106751d23h59m":         `"+106751d23h59m" is more than 2 years ahead; psnd schedules up to 2 years ahead`,
	}
	for in, want := range cases {
		got, err := Parse(in, now, paris)
		if !errors.Is(err, ErrTooFar) || err.Error() != want {
			t.Errorf("Parse(%q) = %v, %v; want error %q", in, got, err, want)
		}
	}
	if err := CheckHorizon(now.AddDate(2, 0, 0), now, time.UTC); err != nil {
		t.Errorf("exactly two years ahead: %v", err)
	}
}

// TestParseTimeOfDayFallBackNight: a time of day is the next one to come.
// On the night clocks go back, once the earlier of a repeated wall time
// has passed, the later one is still to come today, not tomorrow.
func TestParseTimeOfDayFallBackNight(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	// 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC).
	cases := []struct {
		now  time.Time
		in   string
		want time.Time
	}{
		// 01:10 EDT, first pass: 01:30 EDT comes first.
		{time.Date(2026, 11, 1, 5, 10, 0, 0, time.UTC), "01:30", time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},
		// 01:40 EDT: 01:30 EDT has passed; 01:30 EST is 50 minutes away.
		{time.Date(2026, 11, 1, 5, 40, 0, 0, time.UTC), "01:30", time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)},
		// 01:10 EST, second pass: 01:30 EST is 20 minutes away.
		{time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC), "01:30", time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)},
		// 01:40 EST: both have passed; tomorrow's.
		{time.Date(2026, 11, 1, 6, 40, 0, 0, time.UTC), "01:30", time.Date(2026, 11, 2, 6, 30, 0, 0, time.UTC)},
		// 01:10 EST: 00:30 happened once and has passed; tomorrow's.
		{time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC), "00:30", time.Date(2026, 11, 2, 5, 30, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := Parse(c.in, c.now, ny)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("at %s, Parse(%q) = %v, %v; want %v", c.now.In(ny).Format("15:04 MST"), c.in, got.In(ny), err, c.want.In(ny))
		}
	}
}
