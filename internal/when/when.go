// Package when parses the times users give psnd (SPEC §6): RFC 3339,
// "YYYY-MM-DD HH:MM" in the user's time zone, a time of day ("09:30", the
// next one to come), or a duration from now ("+90m", "+2h", "+1d"). It
// also formats times back for people, with a relative hint ("in 2h").
//
// Wall times go through Resolve, which decides clock-change nights as
// SPEC §6 says (time.Date leaves that choice open), and times more than
// two years ahead are refused (CheckHorizon, shared with the daemon).
package when

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("unrecognised time")

// ErrTooFar is wrapped by the error for a time beyond the horizon: a year
// like 2300 is a typo (or "+99999d"), not a plan, and an overflowing
// duration must not wrap around to some other time.
var ErrTooFar = fmt.Errorf("psnd schedules up to %d years ahead", HorizonYears)

// HorizonYears is how far ahead psnd schedules.
const HorizonYears = 2

const help = `use RFC 3339 (2026-11-27T09:30:00+01:00), "2026-11-27 09:30", "09:30", or "+90m" / "+2h" / "+1d"`

// Horizon is the latest time psnd schedules for, seen from now.
func Horizon(now time.Time) time.Time { return now.AddDate(HorizonYears, 0, 0) }

// CheckHorizon refuses t if it lies beyond Horizon(now), naming t as shown
// in loc. The CLI (through Parse) and the daemon's API both apply it.
func CheckHorizon(t, now time.Time, loc *time.Location) error {
	if t.After(Horizon(now)) {
		return tooFar(t.In(loc).Format("2006-01-02 15:04 MST"))
	}
	return nil
}

func tooFar(what string) error {
	return fmt.Errorf("%s is more than %d years ahead; %w", what, HorizonYears, ErrTooFar)
}

// errOverflow marks a duration too long to represent; Parse reports it as
// beyond the horizon, which it is.
var errOverflow = errors.New("duration too long")

// Parse reads s relative to now, in loc, and refuses times beyond the
// horizon. Local wall times are resolved by Resolve: one that does not
// exist (clocks go forward) moves forward by the gap, one that happens
// twice (clocks go back) is the earlier instant.
func Parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	t, err := parse(s, now, loc)
	if err != nil {
		return time.Time{}, err
	}
	if err := CheckHorizon(t, now, loc); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

func parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: empty; %s", ErrFormat, help)
	}
	if s[0] == '+' {
		d, err := parseDuration(s[1:])
		if errors.Is(err, errOverflow) {
			return time.Time{}, tooFar(strconv.Quote(s))
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("%w %q: %v; %s", ErrFormat, s, err, help)
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	// Parsed in UTC only to read the wall clock fields; Resolve places them
	// in loc, since time.ParseInLocation does not choose as SPEC §6 says.
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if w, err := time.Parse(layout, s); err == nil {
			return Resolve(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), loc), nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if tod, err := time.Parse(layout, s); err == nil {
			n := now.In(loc)
			t := Resolve(n.Year(), n.Month(), n.Day(), tod.Hour(), tod.Minute(), tod.Second(), loc)
			if !t.After(now) {
				// The night clocks go back, the same wall time comes
				// round again: that one is still today's, and next.
				if later, ok := repeated(t, loc); ok && later.After(now) {
					return later, nil
				}
				t = Resolve(n.Year(), n.Month(), n.Day()+1, tod.Hour(), tod.Minute(), tod.Second(), loc)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w %q; %s", ErrFormat, s, help)
}

// Resolve is the instant at which the wall clock in loc shows the given
// date and time (out-of-range fields normalise as in time.Date), chosen
// as SPEC §6 says rather than as time.Date happens to:
//   - a wall time that happens twice (clocks go back) is the earlier
//     instant;
//   - a wall time that does not exist (clocks go forward) moves forward by
//     the gap: 02:30 in a one-hour gap is 03:30 on the new offset, in a
//     30-minute gap 03:00.
func Resolve(year int, month time.Month, day, hour, min, sec int, loc *time.Location) time.Time {
	wall := time.Date(year, month, day, hour, min, sec, 0, time.UTC).Unix()
	// Every instant showing this wall time lies within a day of the wall
	// time read as UTC (offsets stay within ±14h), so the zone periods
	// overlapping two days either side hold every candidate.
	type period struct {
		start, end int64 // [start, end); math.MinInt64/MaxInt64 when open
		offset     int64
	}
	var periods []period
	t := time.Unix(wall-2*86400, 0).In(loc)
	limit := wall + 2*86400
	for range 64 { // a guard: real zones change a few times in 4 days
		_, off := t.Zone()
		s, e := t.ZoneBounds()
		p := period{start: math.MinInt64, end: math.MaxInt64, offset: int64(off)}
		if !s.IsZero() {
			p.start = s.Unix()
		}
		if !e.IsZero() {
			p.end = e.Unix()
		}
		periods = append(periods, p)
		if p.end >= limit || p.end <= t.Unix() {
			break
		}
		t = time.Unix(p.end, 0).In(loc)
	}
	// The earliest instant whose wall clock is the one asked for.
	for _, p := range periods {
		if u := wall - p.offset; p.start <= u && u < p.end {
			return time.Unix(u, 0).In(loc)
		}
	}
	// None: the wall time falls in the gap of a transition from p to q
	// (q.offset > p.offset). Read it with the offset in effect before the
	// gap, which lands after the change, moved forward by the gap.
	for i := 1; i < len(periods); i++ {
		p, q := periods[i-1], periods[i]
		if q.start+p.offset <= wall && wall < q.start+q.offset {
			return time.Unix(wall-p.offset, 0).In(loc)
		}
	}
	// Unreachable for any zone Go can load; keep Go's choice rather than
	// panic or return nonsense.
	return time.Date(year, month, day, hour, min, sec, 0, loc)
}

// repeated returns the later instant at which the wall clock in loc shows
// what it shows at t, if clocks go back after t and show it again.
func repeated(t time.Time, loc *time.Location) (time.Time, bool) {
	t = t.In(loc)
	_, end := t.ZoneBounds()
	if end.IsZero() {
		return time.Time{}, false
	}
	_, before := t.Zone()
	_, after := end.In(loc).Zone()
	if after >= before {
		return time.Time{}, false
	}
	later := t.Add(time.Duration(before-after) * time.Second).In(loc)
	if later.Before(end) || later.Format(time.DateTime) != t.Format(time.DateTime) {
		return time.Time{}, false
	}
	return later, true
}

// parseDuration accepts Go durations plus a "d" (24h) unit: "90m", "2h",
// "1h30m", "1d", "2d12h". A total too long for time.Duration (about 292
// years) is errOverflow.
func parseDuration(s string) (time.Duration, error) {
	var total time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if errors.Is(err, strconv.ErrRange) || n > int(math.MaxInt64/int64(24*time.Hour)) {
			return 0, errOverflow
		}
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
		if wellFormed.MatchString(s) {
			return 0, errOverflow
		}
		return 0, errors.New("bad duration")
	}
	if d < 0 {
		return 0, errors.New("negative duration")
	}
	if total > math.MaxInt64-d {
		return 0, errOverflow
	}
	return total + d, nil
}

// wellFormed matches what time.ParseDuration accepts (unsigned); it tells
// a duration too long to represent from a malformed one, which
// time.ParseDuration reports alike.
var wellFormed = regexp.MustCompile(`^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)

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
