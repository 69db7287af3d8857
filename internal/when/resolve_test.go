package when

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // golden cases resolve the same on machines without system tzdata

	"github.com/psnd/psnd/internal/testutil"
)

// TestResolveGolden: the cases from the issue, a 30-minute gap, negative
// DST, seconds at the edges of a gap, and Apia's skipped day, each
// formatted back with the right abbreviation.
func TestResolveGolden(t *testing.T) {
	cases := []struct {
		zone   string
		wall   string // YYYY-MM-DD HH:MM:SS in zone
		want   string // RFC 3339 UTC
		format string // Format's wall clock and abbreviation
	}{
		// Spring gap 02:00–03:00 EST→EDT: forward by the gap.
		{"America/New_York", "2027-03-14 02:30:00", "2027-03-14T07:30:00Z", "2027-03-14 03:30 EDT"},
		{"America/New_York", "2027-03-14 02:00:00", "2027-03-14T07:00:00Z", "2027-03-14 03:00 EDT"},
		{"America/New_York", "2027-03-14 02:59:59", "2027-03-14T07:59:59Z", "2027-03-14 03:59 EDT"},
		{"America/New_York", "2027-03-14 01:59:59", "2027-03-14T06:59:59Z", "2027-03-14 01:59 EST"},
		{"America/New_York", "2027-03-14 03:00:00", "2027-03-14T07:00:00Z", "2027-03-14 03:00 EDT"},
		// Autumn overlap 01:00–02:00 happens twice: the earlier, EDT.
		{"America/New_York", "2027-11-07 01:30:00", "2027-11-07T05:30:00Z", "2027-11-07 01:30 EDT"},
		{"America/New_York", "2027-11-07 01:59:59", "2027-11-07T05:59:59Z", "2027-11-07 01:59 EDT"},
		{"America/New_York", "2027-11-07 02:00:00", "2027-11-07T07:00:00Z", "2027-11-07 02:00 EST"},
		// Paris: the first 02:30 of 2027-10-31 is still summer time.
		{"Europe/Paris", "2027-10-31 02:30:00", "2027-10-31T00:30:00Z", "2027-10-31 02:30 CEST"},
		{"Europe/Paris", "2027-03-28 02:30:00", "2027-03-28T01:30:00Z", "2027-03-28 03:30 CEST"},
		// Lord Howe moves its clocks by 30 minutes.
		{"Australia/Lord_Howe", "2027-10-03 02:15:00", "2027-10-02T15:45:00Z", "2027-10-03 02:45 +11"},
		{"Australia/Lord_Howe", "2027-04-04 01:45:00", "2027-04-03T14:45:00Z", "2027-04-04 01:45 +11"},
		// Dublin's winter time is "negative DST" in tzdata; the instants
		// must not care.
		{"Europe/Dublin", "2027-10-31 01:30:00", "2027-10-31T00:30:00Z", "2027-10-31 01:30 IST"},
		{"Europe/Dublin", "2027-03-28 01:30:00", "2027-03-28T01:30:00Z", "2027-03-28 02:30 IST"},
		// Apia skipped 2011-12-30 entirely (−10 → +14): forward by a day.
		{"Pacific/Apia", "2011-12-30 12:00:00", "2011-12-30T22:00:00Z", "2011-12-31 12:00 +14"},
		{"UTC", "2027-03-14 02:30:00", "2027-03-14T02:30:00Z", "2027-03-14 02:30 UTC"},
	}
	for _, c := range cases {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		w, err := time.Parse(time.DateTime, c.wall)
		if err != nil {
			t.Fatal(err)
		}
		got := Resolve(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), loc)
		if s := got.UTC().Format(time.RFC3339); s != c.want {
			t.Errorf("%s %s = %s, want %s", c.zone, c.wall, s, c.want)
		}
		now := got.Add(-time.Hour)
		if f := Format(got, now, loc); f != c.format+" (in 1h)" {
			t.Errorf("Format(%s %s) = %q, want %q", c.zone, c.wall, f, c.format+" (in 1h)")
		}
		if w.Second() == 0 {
			p, err := Parse(c.wall[:16], now, loc)
			if err != nil || !p.Equal(got) {
				t.Errorf("Parse(%q) in %s = %v, %v; want %v", c.wall[:16], c.zone, p.UTC(), err, got.UTC())
			}
		}
	}
	// Out-of-range fields normalise as in time.Date.
	ny, _ := time.LoadLocation("America/New_York")
	if got := Resolve(2027, 3, 13, 26, 30, 0, ny); !got.Equal(time.Date(2027, 3, 14, 7, 30, 0, 0, time.UTC)) {
		t.Errorf("Resolve(Mar 13 26:30) = %v, want 07:30Z on the 14th", got.UTC())
	}
}

// TestResolveEveryZone checks Resolve and Parse ("YYYY-MM-DD HH:MM" and
// "HH:MM") in every zone of Go's tz database, around every change of UTC
// offset from 2026 through 2030, against brute force: every minute of a
// window around the change, mapping each wall clock to the earliest
// instant showing it. A wall clock no instant shows is in a gap, and must
// move forward by the gap.
func TestResolveEveryZone(t *testing.T) {
	zones := testutil.TZDataZones(t)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-24 * time.Hour).Unix()
	to := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).Add(24 * time.Hour).Unix()
	offset := func(loc *time.Location, u int64) int64 {
		_, off := time.Unix(u, 0).In(loc).Zone()
		return int64(off)
	}
	var nzones, ntransitions, ngaps, noverlaps, nwalls int
	for _, z := range zones {
		loc := z.Loc
		nzones++
		// Find the changes of offset hour by hour, then to the second.
		o2 := offset(loc, from)
		for u := from; u < to; u += 3600 {
			o1 := o2
			if o2 = offset(loc, u+3600); o1 == o2 {
				continue
			}
			lo, hi := u, u+3600 // offset(lo) == o1, offset(hi) == o2
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if offset(loc, mid) == o1 {
					lo = mid
				} else {
					hi = mid
				}
			}
			tr := hi
			ntransitions++
			if tr%60 != 0 || o1%60 != 0 || o2%60 != 0 {
				t.Fatalf("%s: change at %v (%d→%d) is not on a minute; the minute grid below assumes it", z.Name, time.Unix(tr, 0).UTC(), o1, o2)
			}
			if o2 > o1 {
				ngaps++
			} else {
				noverlaps++
			}
			nwalls += checkTransition(t, z.Name, loc, tr, o1, o2, offset)
		}
	}
	if nzones < 300 || ngaps < 100 || noverlaps < 100 {
		t.Fatalf("only %d zones, %d gaps, %d overlaps: the tz database was not read", nzones, ngaps, noverlaps)
	}
	t.Logf("%d zones (distinct data), %d changes (%d gaps, %d overlaps), %d wall times", nzones, ntransitions, ngaps, noverlaps, nwalls)
}

func checkTransition(t *testing.T, zone string, loc *time.Location, tr, o1, o2 int64, offset func(*time.Location, int64) int64) int {
	t.Helper()
	d := o2 - o1
	if d < 0 {
		d = -d
	}
	span := d + 2*3600
	earliest := map[int64]int64{} // wall clock as UTC seconds → earliest instant
	shows := map[int64][]int64{}  // wall clock → every instant showing it, in order
	for u := tr - span; u <= tr+span; u += 60 {
		w := u + offset(loc, u)
		if e, ok := earliest[w]; !ok || u < e {
			earliest[w] = u
		}
		shows[w] = append(shows[w], u)
	}
	// A time of day asked during the change's night is the next instant
	// showing it: on the night clocks go back, the second of a repeated
	// time once the first has passed.
	for _, now := range []int64{tr - 60, tr + 60, tr + d/2, tr + d + 60} {
		today := time.Unix(now+offset(loc, now), 0).UTC().Format("2006-01-02")
		for w, us := range shows {
			wt := time.Unix(w, 0).UTC()
			if wt.Format("2006-01-02") != today {
				continue
			}
			i := 0
			for i < len(us) && us[i] <= now {
				i++
			}
			if i == len(us) || i == 0 && us[0]-now > 86400 {
				continue // the next one lies outside the grid
			}
			if p, err := Parse(wt.Format("15:04"), time.Unix(now, 0), loc); err != nil || p.Unix() != us[i] {
				t.Errorf("%s at %v: Parse(%q) = %v, %v; want %v", zone, time.Unix(now, 0).In(loc), wt.Format("15:04"), p.In(loc), err, time.Unix(us[i], 0).In(loc))
			}
		}
	}
	lo, hi := tr+min(o1, o2)-3600, tr+max(o1, o2)+3600
	n := 0
	for w := lo; w <= hi; w += 60 {
		n++
		want, ok := earliest[w]
		wantWall := w
		if !ok {
			// A gap: the wall clock lies between the last one before the
			// change and the first after; read with the offset before, it
			// lands after the change, forward by the gap.
			if !(o2 > o1 && tr+o1 <= w && w < tr+o2) {
				t.Fatalf("%s: wall %v shown by no instant, yet not in the gap of the change at %v", zone, time.Unix(w, 0).UTC(), time.Unix(tr, 0).UTC())
			}
			want = w - o1
			wantWall = w + (o2 - o1)
		}
		wt := time.Unix(w, 0).UTC()
		label := zone + " " + wt.Format("2006-01-02 15:04")
		got := Resolve(wt.Year(), wt.Month(), wt.Day(), wt.Hour(), wt.Minute(), wt.Second(), loc)
		if got.Unix() != want {
			t.Errorf("Resolve(%s) = %v, want %v", label, got.UTC(), time.Unix(want, 0).UTC())
			continue
		}
		shown := time.Unix(wantWall, 0).UTC().Format("2006-01-02 15:04")
		if f := Format(got, got, loc); !strings.HasPrefix(f, shown+" ") {
			t.Errorf("Format(Resolve(%s)) = %q, want the wall clock %s", label, f, shown)
		}
		now := time.Unix(tr-86400, 0)
		if p, err := Parse(wt.Format("2006-01-02 15:04"), now, loc); err != nil || p.Unix() != want {
			t.Errorf("Parse(%q) in %s = %v, %v; want %v", wt.Format("2006-01-02 15:04"), zone, p.UTC(), err, time.Unix(want, 0).UTC())
		}
		// A time of day, asked late the evening before: that day's.
		eve := time.Date(wt.Year(), wt.Month(), wt.Day()-1, 23, 59, 59, 0, loc)
		if e := eve.In(loc); e.Hour() == 23 && e.Day() == wt.AddDate(0, 0, -1).Day() {
			if p, err := Parse(wt.Format("15:04"), eve, loc); err != nil || p.Unix() != want {
				t.Errorf("Parse(%q) in %s at %v = %v, %v; want %v", wt.Format("15:04"), zone, eve, p.UTC(), err, time.Unix(want, 0).UTC())
			}
		}
		if t.Failed() && n > 20 {
			t.FailNow() // one zone's worth of errors is enough to read
		}
	}
	return n
}
