package slots

import (
	"slices"
	"strings"
	"testing"
	"time"
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
		"mon 09:00,", "mon-xyz 10:00", "mo 10:00", "mon 10:00 11:00", "İstanbul 10:00", "月 10:00", "mon ０９:００"} {
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
