package slots

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/testutil"
	"github.com/psnd/psnd/internal/when"
)

func TestParseSpec(t *testing.T) {
	cases := []struct {
		in   string
		days []string
		mins []int
		str  string
	}{
		{"mon-fri 09:00,13:30", []string{"mon", "tue", "wed", "thu", "fri"}, []int{540, 810}, "mon-fri"},
		{"daily 18:00", []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, []int{1080}, "daily"},
		{"sat,sun 10:00", []string{"sat", "sun"}, []int{600}, "sat,sun"},
		{"Fri-Mon 9:05", []string{"mon", "fri", "sat", "sun"}, []int{545}, "mon,fri-sun"},
		{"sat, sun 13:30,09:00,13:30", []string{"sat", "sun"}, []int{540, 810}, "sat,sun"},
		{"weekdays 00:00", []string{"mon", "tue", "wed", "thu", "fri"}, []int{0}, "mon-fri"},
		{"Wednesday 23:59", []string{"wed"}, []int{1439}, "wed"},
		{"mon,wed-fri 07:00", []string{"mon", "wed", "thu", "fri"}, []int{420}, "mon,wed-fri"},
		// Spaces around the commas, as people type them.
		{"mon-fri 09:00, 13:30", []string{"mon", "tue", "wed", "thu", "fri"}, []int{540, 810}, "mon-fri"},
		{"mon , wed 09:00 ,13:30", []string{"mon", "wed"}, []int{540, 810}, "mon,wed"},
		{"  sat - sun\t10:00 ", []string{"sat", "sun"}, []int{600}, "sat,sun"},
		{"mon-mon 10:00", []string{"mon"}, []int{600}, "mon"},
	}
	for _, c := range cases {
		s, err := ParseSpec(c.in)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", c.in, err)
			continue
		}
		if got := s.Days.Names(); !slices.Equal(got, c.days) {
			t.Errorf("ParseSpec(%q) days = %v, want %v", c.in, got, c.days)
		}
		if !slices.Equal(s.Minutes, c.mins) {
			t.Errorf("ParseSpec(%q) minutes = %v, want %v", c.in, s.Minutes, c.mins)
		}
		if got := s.Days.String(); got != c.str {
			t.Errorf("ParseSpec(%q) days written %q, want %q", c.in, got, c.str)
		}
	}
}

func TestParseSpecRefuses(t *testing.T) {
	for _, in := range []string{"", "09:00", "mon-fri", "funday 09:00", "mon 25:00", "mon 9", "mon 09:60",
		"mon 09:00,", "mon-xyz 10:00", "mo 10:00", "mon 10:00 11:00", "İstanbul 10:00", "月 10:00", "mon ０９:００",
		"mon +9:00", "mon 9:+5", "mon -0:00", "mon 24:00", "mon 9:00:00", "mon 009:00", "mon 10:00,,11:00", "mon 10:00, fri 11:00", "9:00 mon"} {
		_, err := ParseSpec(in)
		if err == nil {
			t.Errorf("ParseSpec(%q) accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `"mon-fri 09:00,13:30"`) {
			t.Errorf("ParseSpec(%q) error %q: want one line with an example", in, err)
		}
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("zone %s: %v", name, err)
	}
	return loc
}

// Slots on clock-change nights follow SPEC §6: New York's 02:30 on the
// spring-forward night is 03:30 EDT; 01:30 on the fall-back night is the
// earlier (EDT) instant, and it is one occurrence, not two.
func TestBetweenClockChanges(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	ss := []Slot{
		{ID: 1, AccountID: "a", Days: AllDays, Minute: 2*60 + 30, Zone: "America/New_York"},
		{ID: 2, AccountID: "a", Days: AllDays, Minute: 60 + 30, Zone: "America/New_York"},
	}
	from := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
	occ, err := Between(ss, from, from.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range occ {
		got = append(got, o.At.In(ny).Format("01-02 15:04 MST"))
	}
	want := []string{"03-08 01:30 EST", "03-08 03:30 EDT", "03-09 01:30 EDT", "03-09 02:30 EDT"}
	if !slices.Equal(got, want) {
		t.Errorf("spring forward: got %v, want %v", got, want)
	}

	from = time.Date(2026, 10, 31, 12, 0, 0, 0, ny)
	occ, err = Between(ss[1:], from, from.Add(36*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, o := range occ {
		got = append(got, o.At.In(ny).Format("01-02 15:04 MST"))
	}
	if want := []string{"11-01 01:30 EDT"}; !slices.Equal(got, want) {
		t.Errorf("fall back: got %v, want %v", got, want)
	}
}

// A slot moved by a gap onto another slot's instant is one occurrence.
func TestBetweenMergesSameInstant(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	ss := []Slot{
		{ID: 1, AccountID: "a", Days: AllDays, Minute: 2*60 + 30, Zone: "America/New_York"},
		{ID: 2, AccountID: "a", Days: AllDays, Minute: 3*60 + 30, Zone: "America/New_York"},
		{ID: 3, AccountID: "b", Days: AllDays, Minute: 3*60 + 30, Zone: "America/New_York"},
	}
	from := time.Date(2026, 3, 8, 0, 0, 0, 0, ny)
	occ, err := Between(ss, from, from.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(occ) != 2 || occ[0].Slot.ID != 1 || occ[1].Slot.AccountID != "b" {
		t.Errorf("got %+v, want slot 1 for a and slot 3 for b at 03:30 EDT", occ)
	}
}

// Days are the slot zone's days: Monday 08:00 in Tokyo is Sunday in UTC.
func TestBetweenDaysInZone(t *testing.T) {
	tokyo := mustLoad(t, "Asia/Tokyo")
	ss := []Slot{{ID: 1, AccountID: "a", Days: 1 << time.Monday, Minute: 8 * 60, Zone: "Asia/Tokyo"}}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	occ, err := Between(ss, from, from.AddDate(0, 0, 14))
	if err != nil {
		t.Fatal(err)
	}
	if len(occ) != 2 {
		t.Fatalf("got %d occurrences, want 2", len(occ))
	}
	for _, o := range occ {
		if l := o.At.In(tokyo); l.Weekday() != time.Monday || l.Hour() != 8 || o.At.Weekday() != time.Sunday {
			t.Errorf("occurrence %v: want Monday 08:00 in Tokyo (Sunday UTC)", o.At)
		}
	}
}

// A slot whose wall time is skipped moves forward by the gap, and where
// the gap ends after midnight (Nuuk springs forward at 23:00 on a
// Saturday) it moves onto the next day: a queue looked at from just
// after that midnight must still see it. Between once began at from's
// own date and lost it.
func TestBetweenGapAcrossMidnight(t *testing.T) {
	nuuk := mustLoad(t, "America/Nuuk")
	ss := []Slot{{ID: 1, AccountID: "a", Days: 1 << time.Saturday, Minute: 23*60 + 30, Zone: "America/Nuuk"}}
	from := time.Date(2026, 3, 29, 0, 10, 0, 0, nuuk) // Sunday, 20 minutes before the moved slot
	occ, err := Between(ss, from, from.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(occ) != 1 || occ[0].At.In(nuuk).Format("Mon 01-02 15:04 MST") != "Sun 03-29 00:30 -01" {
		t.Errorf("got %v, want Saturday's 23:30 at Sunday 00:30 -01", occ)
	}
}

// TestBetweenEveryZone compares Between with an oracle in every zone of
// Go's tz database, around every change of UTC offset in 2026
// (and Apia's skipped day in 2011): a slot's instant on a local date D is
// when.Resolve's for D and its time (Resolve is checked against brute
// force in package when), so Between(from, until) must be exactly the
// distinct such instants in (from, until], for from anywhere in the
// day-and-a-bit around the change, whatever the slot's days.
func TestBetweenEveryZone(t *testing.T) {
	if testing.Short() {
		t.Skip("every zone: not in -short")
	}
	zones := testutil.TZDataZones(t)
	var nzones, nchanges, ncalls int
	for _, z := range zones {
		loc := z.Loc
		changes := offsetChanges(loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		if z.Name == "Pacific/Apia" {
			changes = append(changes, offsetChanges(loc, time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2012, 1, 10, 0, 0, 0, 0, time.UTC))...)
		}
		if len(changes) == 0 {
			continue
		}
		nzones++
		for _, c := range changes {
			nchanges++
			ncalls += checkBetweenAround(t, z.Name, loc, c)
		}
	}
	if nzones < 50 || nchanges < 100 {
		t.Fatalf("only %d zones with %d changes: the tz database was not read", nzones, nchanges)
	}
	t.Logf("%d zones, %d changes, %d calls of Between", nzones, nchanges, ncalls)
}

type offsetChange struct {
	at     time.Time
	o1, o2 int // offsets before and after, seconds east of UTC
}

// offsetChanges finds the changes of UTC offset in [from, to), to the
// second.
func offsetChanges(loc *time.Location, from, to time.Time) []offsetChange {
	offset := func(u int64) int {
		_, off := time.Unix(u, 0).In(loc).Zone()
		return off
	}
	var out []offsetChange
	const step = 6 * 3600 // offsets change far less often
	for u := from.Unix(); u < to.Unix(); u += step {
		o1, o2 := offset(u), offset(u+step)
		if o1 == o2 {
			continue
		}
		lo, hi := u, u+step
		for hi-lo > 1 {
			if mid := lo + (hi-lo)/2; offset(mid) == o1 {
				lo = mid
			} else {
				hi = mid
			}
		}
		out = append(out, offsetChange{time.Unix(hi, 0), o1, o2})
	}
	return out
}

func checkBetweenAround(t *testing.T, zone string, loc *time.Location, c offsetChange) int {
	t.Helper()
	gap := c.o2 - c.o1
	// Slot times every 20 minutes from an hour before the change's wall
	// time to an hour after it ends, on either offset, and the day's ends.
	before := c.at.Add(time.Duration(c.o1) * time.Second).UTC() // wall clock as UTC
	start := before.Add(-time.Hour).Truncate(20 * time.Minute)
	var mins []int
	for w := start; !w.After(before.Add(time.Duration(max(gap, -gap))*time.Second + time.Hour)); w = w.Add(20 * time.Minute) {
		mins = append(mins, w.Hour()*60+w.Minute())
	}
	mins = append(mins, 0, 23*60+59)
	day := time.Date(before.Year(), before.Month(), before.Day(), 12, 0, 0, 0, time.UTC)
	masks := []Days{AllDays}
	for _, d := range []int{-1, 0} {
		masks = append(masks, 1<<day.AddDate(0, 0, d).Weekday())
	}
	calls := 0
	for _, days := range masks {
		var ss []Slot
		for i, m := range mins {
			ss = append(ss, Slot{ID: int64(i + 1), AccountID: "a", Days: days, Minute: m, Zone: zone})
		}
		// The oracle: every slot's instant on every date near the change.
		var all []int64
		for d := -4; d <= 4; d++ {
			dd := day.AddDate(0, 0, d)
			if !days.Has(dd.Weekday()) {
				continue
			}
			for _, m := range mins {
				all = append(all, when.Resolve(dd.Year(), dd.Month(), dd.Day(), m/60, m%60, 0, loc).Unix())
			}
		}
		slices.Sort(all)
		all = slices.Compact(all)
		// from every 20 minutes within 3 hours of the change (an instant
		// moved across midnight is found from just after it), every 3
		// hours within a day of it; until an hour or 30 hours later.
		var froms []time.Time
		for k := -9; k <= 9; k++ {
			froms = append(froms, c.at.Add(time.Duration(k)*20*time.Minute-time.Minute))
			froms = append(froms, c.at.Add(time.Duration(k)*3*time.Hour-time.Minute))
		}
		for _, from := range froms {
			for _, span := range []time.Duration{time.Hour, 30 * time.Hour} {
				until := from.Add(span)
				var want []int64
				for _, u := range all {
					if u > from.Unix() && u <= until.Unix() {
						want = append(want, u)
					}
				}
				occ, err := Between(ss, from, until)
				calls++
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, o := range occ {
					got = append(got, o.At.Unix())
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s, change at %v (%+d s), days %s, (%v, %v]: got %v, want %v", zone, c.at.In(loc), gap, days,
						from.In(loc), until.In(loc), unixIn(got, loc), unixIn(want, loc))
					return calls
				}
			}
		}
	}
	return calls
}

func unixIn(us []int64, loc *time.Location) []string {
	var out []string
	for _, u := range us {
		out = append(out, time.Unix(u, 0).In(loc).Format("Mon 01-02 15:04 MST"))
	}
	return out
}
