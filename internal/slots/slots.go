// Package slots reads the weekly queue slots users write ("mon-fri
// 09:00,13:30", "daily 18:00", "sat,sun 10:00"; SPEC §8) and says when
// they fall. A slot is days of the week and a time of day in a time zone;
// its instants on clock-change nights are when.Resolve's (SPEC §6): a
// skipped wall time moves forward by the gap, a repeated one is the
// earlier instant.
package slots

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/when"
)

// Days is a set of weekdays: bit i is time.Weekday(i) (bit 0 Sunday).
type Days uint8

// AllDays is every day of the week.
const AllDays Days = 1<<7 - 1

// dayNames are the names Days are written with, indexed by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekOrder is the order days are shown in: Monday first.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// Has reports whether d holds w.
func (d Days) Has(w time.Weekday) bool { return d&(1<<w) != 0 }

// Names lists the days of d Monday first: ["mon", "tue", ...].
func (d Days) Names() []string {
	out := []string{}
	for _, w := range weekOrder {
		if d.Has(w) {
			out = append(out, dayNames[w])
		}
	}
	return out
}

// String writes d as a spec does: "daily", "mon-fri", "sat,sun",
// "mon,wed-fri".
func (d Days) String() string {
	if d == AllDays {
		return "daily"
	}
	var parts []string
	for i := 0; i < 7; {
		if !d.Has(weekOrder[i]) {
			i++
			continue
		}
		j := i
		for j+1 < 7 && d.Has(weekOrder[j+1]) {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, dayNames[weekOrder[i]]+"-"+dayNames[weekOrder[j]])
		case j == i+1:
			parts = append(parts, dayNames[weekOrder[i]], dayNames[weekOrder[j]])
		default:
			parts = append(parts, dayNames[weekOrder[i]])
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ParseDays reads day names as the API's JSON carries them (["mon", ...]).
func ParseDays(names []string) (Days, error) {
	var d Days
	for _, n := range names {
		w, ok := weekday(n)
		if !ok {
			return 0, fmt.Errorf("unknown day %q (want mon, tue, wed, thu, fri, sat or sun)", n)
		}
		d |= 1 << w
	}
	if d == 0 {
		return 0, errors.New("no days given")
	}
	return d, nil
}

// Spec is a parsed slot spec: the days and one or more times of day, in
// minutes after midnight, ascending.
type Spec struct {
	Days    Days
	Minutes []int
}

const specHelp = `use days then times, e.g. "mon-fri 09:00,13:30", "daily 18:00" or "sat,sun 10:00"`

// ParseSpec reads a slot spec: days ("daily", "weekdays", "weekends",
// "mon", "mon-fri", "sat,sun", "fri-mon", full names too) then, after
// spaces, one or more times of day ("09:00", "9:00,13:30").
func ParseSpec(s string) (Spec, error) {
	// The times start at the first field that starts with a digit, so
	// that spaces around commas, on either side, are harmless:
	// "mon, wed 09:00, 13:30".
	fields := strings.Fields(s)
	i := slices.IndexFunc(fields, func(f string) bool { return f[0] >= '0' && f[0] <= '9' })
	if i < 1 {
		return Spec{}, fmt.Errorf("slot %q: %s", s, specHelp)
	}
	days, err := parseDaysSpec(strings.Join(fields[:i], ""))
	if err != nil {
		return Spec{}, fmt.Errorf("slot %q: %v; %s", s, err, specHelp)
	}
	var mins []int
	for _, t := range strings.Split(strings.Join(fields[i:], ""), ",") {
		m, err := ParseTime(t)
		if err != nil {
			return Spec{}, fmt.Errorf("slot %q: %v; %s", s, err, specHelp)
		}
		if !slices.Contains(mins, m) {
			mins = append(mins, m)
		}
	}
	if len(mins) == 0 {
		return Spec{}, fmt.Errorf("slot %q: no time of day; %s", s, specHelp)
	}
	slices.Sort(mins)
	return Spec{Days: days, Minutes: mins}, nil
}

func parseDaysSpec(s string) (Days, error) {
	switch strings.ToLower(s) {
	case "daily", "everyday", "every-day":
		return AllDays, nil
	case "weekdays":
		return parseDaysSpec("mon-fri")
	case "weekends":
		return parseDaysSpec("sat,sun")
	}
	var d Days
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		a, ok := weekday(from)
		if !ok {
			return 0, fmt.Errorf("unknown day %q", from)
		}
		if !isRange {
			d |= 1 << a
			continue
		}
		b, ok := weekday(to)
		if !ok {
			return 0, fmt.Errorf("unknown day %q", to)
		}
		// A range may wrap round the week end: fri-mon.
		for w := a; ; w = (w + 1) % 7 {
			d |= 1 << w
			if w == b {
				break
			}
		}
	}
	if d == 0 {
		return 0, errors.New("no days")
	}
	return d, nil
}

func weekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	full := []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	for i, n := range dayNames {
		if s == n || s == full[i] || (strings.HasPrefix(full[i], s) && len(s) >= 3) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// ParseTime reads a time of day, "09:00" or "9:00", as minutes after
// midnight.
func ParseTime(s string) (int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	// Digits only: strconv.Atoi would take "+9" and "-0" too.
	digits := func(x string) bool {
		return x != "" && strings.Trim(x, "0123456789") == ""
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if !ok || !digits(hs) || !digits(ms) || err1 != nil || err2 != nil || len(ms) != 2 || len(hs) > 2 || h > 23 || m > 59 {
		return 0, fmt.Errorf("bad time of day %q (want HH:MM, 00:00 to 23:59)", s)
	}
	return h*60 + m, nil
}

// FormatTime writes minutes after midnight as "09:00".
func FormatTime(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Slot is one stored weekly slot.
type Slot struct {
	ID        int64
	AccountID string
	Account   string // username
	Days      Days
	Minute    int    // time of day, minutes after midnight
	Zone      string // IANA name the slot is read in
}

// Location loads the slot's zone. "Local" (the system zone, when no name
// for it was known) is the daemon's local zone.
func (s Slot) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(s.Zone)
	if err != nil {
		return nil, fmt.Errorf("slot %d: unknown time zone %q", s.ID, s.Zone)
	}
	return loc, nil
}

// Occurrence is one instant a slot falls at.
type Occurrence struct {
	At   time.Time
	Slot Slot
}

// Between lists the instants of the slots after from and at or before
// until, earliest first. Two slots of one account falling at the same
// instant (a slot in a skipped hour moved onto another's time, or a
// duplicate in another zone) are one occurrence, the first slot's.
func Between(ss []Slot, from, until time.Time) ([]Occurrence, error) {
	var out []Occurrence
	for _, s := range ss {
		loc, err := s.Location()
		if err != nil {
			return nil, err
		}
		// Every instant in (from, until] is a wall time of a local date
		// between the day before from's date and until's date: a wall
		// time skipped by a gap moves forward by it, across midnight when
		// the gap ends after it (Nuuk springs forward at 23:00 on a
		// Saturday; Apia skipped a whole day), but never by more than a
		// day. Two days before, to be safe; the instants are filtered.
		f := from.In(loc)
		day := time.Date(f.Year(), f.Month(), f.Day()-2, 12, 0, 0, 0, time.UTC)
		last := until.In(loc)
		end := time.Date(last.Year(), last.Month(), last.Day(), 12, 0, 0, 0, time.UTC)
		for ; !day.After(end); day = day.AddDate(0, 0, 1) {
			if !s.Days.Has(day.Weekday()) {
				continue
			}
			t := when.Resolve(day.Year(), day.Month(), day.Day(), s.Minute/60, s.Minute%60, 0, loc)
			if t.After(from) && !t.After(until) {
				out = append(out, Occurrence{At: t.UTC(), Slot: s})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Occurrence) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Slot.AccountID, b.Slot.AccountID)
	})
	return slices.CompactFunc(out, func(a, b Occurrence) bool {
		return a.At.Equal(b.At) && a.Slot.AccountID == b.Slot.AccountID
	}), nil
}
