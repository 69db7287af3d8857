// Package when parses the times users give psnd (SPEC §6): RFC 3339,
// "YYYY-MM-DD HH:MM" in the user's time zone, a time of day ("09:30", the
// next one to come), or a duration from now ("+90m", "+2h", "+1d"). It
// also formats times back for people, with a relative hint ("in 2h").
package when

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("unrecognised time")

const help = `use RFC 3339 (2026-11-27T09:30:00+01:00), "2026-11-27 09:30", "09:30", or "+90m" / "+2h" / "+1d"`

// Parse reads s relative to now, in loc. Local wall times that do not exist
// (the hour skipped when clocks go forward) move forward by the gap, and
// ambiguous ones (the hour repeated when clocks go back) take the first
// occurrence, as Go's time.Date does.
func Parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: empty; %s", ErrFormat, help)
	}
	if s[0] == '+' {
		d, err := parseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("%w %q: %v; %s", ErrFormat, s, err, help)
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if tod, err := time.Parse(layout, s); err == nil {
			n := now.In(loc)
			t := time.Date(n.Year(), n.Month(), n.Day(), tod.Hour(), tod.Minute(), tod.Second(), 0, loc)
			if !t.After(now) {
				t = time.Date(n.Year(), n.Month(), n.Day()+1, tod.Hour(), tod.Minute(), tod.Second(), 0, loc)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w %q; %s", ErrFormat, s, help)
}

// parseDuration accepts Go durations plus a "d" (24h) unit: "90m", "2h",
// "1h30m", "1d", "2d12h".
func parseDuration(s string) (time.Duration, error) {
	var total time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, errors.New("bad number of days")
		}
		total = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return total, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("bad duration")
	}
	if d < 0 {
		return 0, errors.New("negative duration")
	}
	return total + d, nil
}

// Location resolves the user's time zone: tz (PSN_TZ) if set, else the
// configured zone, else the system's.
func Location(tz, configured string) (*time.Location, error) {
	for _, name := range []string{tz, configured} {
		if name == "" {
			continue
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as Europe/Paris)", name)
		}
		return loc, nil
	}
	return time.Local, nil
}

// Format shows t in loc with a relative hint: "2026-11-27 10:30 CET (in 1h30m)".
func Format(t, now time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST") + " (" + Relative(t, now) + ")"
}

// Relative says how far t is from now, coarsely: "in 2h", "5m ago", "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d < 30*time.Second:
		return "now"
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		m := int((d % time.Hour).Round(time.Minute) / time.Minute)
		if m == 60 {
			h, m = h+1, 0
		}
		s = fmt.Sprintf("%dh", h)
		if m > 0 && h < 10 {
			s += fmt.Sprintf("%dm", m)
		}
	default:
		s = fmt.Sprintf("%dd", int(d.Round(time.Hour)/(24*time.Hour)))
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}
