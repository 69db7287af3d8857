package cli

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/slots"
)

// seededQueue is a week of slots in Europe/Paris from goldenNow (the day
// before the clocks go forward: the 02:30 slot that night is at 03:30
// CEST), every other slot filled with a post whose text is Latin, CJK,
// RTL or emoji.
func seededQueue(t *testing.T) ([]api.Slot, api.Queue) {
	t.Helper()
	ss := []slots.Slot{
		{ID: 1, AccountID: "11", Account: "alice", Days: slots.AllDays, Minute: 2*60 + 30, Zone: "Europe/Paris"},
		{ID: 2, AccountID: "11", Account: "alice", Days: 0b0111110, Minute: 9 * 60, Zone: "Europe/Paris"},
		{ID: 3, AccountID: "11", Account: "alice", Days: 0b0111110, Minute: 13*60 + 30, Zone: "Europe/Paris"},
	}
	var wire []api.Slot
	for _, s := range ss {
		wire = append(wire, api.Slot{ID: s.ID, Account: s.Account, AccountID: s.AccountID, Days: s.Days.Names(), Time: slots.FormatTime(s.Minute), Zone: s.Zone})
	}
	until := goldenNow.Add(7 * 24 * time.Hour)
	occ, err := slots.Between(ss, goldenNow, until)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"Launch day! 🚀 Everything you need to know", "東京で会いましょう、新しいお知らせ", "שלום עולם — a note in Hebrew", "İstanbul notes, part two of a very long series"}
	q := api.Queue{From: goldenNow, Until: until}
	for i, o := range occ {
		qs := api.QueueSlot{At: o.At, Account: o.Slot.Account, SlotID: o.Slot.ID, Time: slots.FormatTime(o.Slot.Minute), Zone: o.Slot.Zone}
		if i%2 == 0 {
			id := int64(20 + i)
			qs.PostID, qs.PostStatus, qs.Excerpt = &id, api.StatusScheduled, texts[(i/2)%len(texts)]
		}
		q.Slots = append(q.Slots, qs)
	}
	return wire, q
}

// startQueueStub serves health, slots and queue answers as the daemon would.
func startQueueStub(t *testing.T, ss []api.Slot, q api.Queue) string {
	t.Helper()
	home := shortHome(t)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(home, "psnd.sock"))
	if err != nil {
		t.Fatal(err)
	}
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(api.VersionHeader, "test")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.PathHealth, func(w http.ResponseWriter, r *http.Request) {
		reply(w, api.Health{Status: api.HealthOK, Version: "test"})
	})
	mux.HandleFunc("GET "+api.PathSlots, func(w http.ResponseWriter, r *http.Request) { reply(w, ss) })
	mux.HandleFunc("GET "+api.PathQueue, func(w http.ResponseWriter, r *http.Request) { reply(w, q) })
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return home
}

// TestQueueGolden pins psnd queue's two human forms: the week as a grid on
// a wide terminal, a list on a narrow one or a pipe; and psnd slots.
func TestQueueGolden(t *testing.T) {
	ss, q := seededQueue(t)
	home := startQueueStub(t, ss, q)
	cases := []struct {
		name    string
		tty     bool
		columns string
		args    []string
	}{
		{"queue.grid", true, "160", []string{"queue"}},
		{"queue.narrow", true, "80", []string{"queue"}},
		{"queue.pipe", false, "160", []string{"queue"}},
		{"slots", false, "", []string{"slots"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := map[string]string{"PSN_HOME": home, "PSN_TZ": "Europe/Paris", "TERM": "xterm-256color", "COLUMNS": c.columns}
			r := runAt(t, v, c.tty, c.args...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden(t, "tables/"+c.name, "$ COLUMNS="+c.columns+" PSN_TZ=Europe/Paris psnd "+strings.Join(c.args, " ")+"\n"+
				"--- stderr\n"+r.stderr+"--- stdout\n"+r.stdout)
			// On a terminal nothing wraps: every line fits its width.
			for i, l := range strings.Split(r.stdout, "\n") {
				if cols, _ := strconv.Atoi(c.columns); c.tty && displayWidth(l) > cols {
					t.Errorf("line %d is %d columns wide, on a terminal of %d:\n%s", i+1, displayWidth(l), cols, l)
				}
			}
		})
	}
}

// A slot moved across midnight by a clock change (Nuuk springs forward at
// 23:00 on a Saturday: Saturday's 23:30 is Sunday 00:30) has a cell of
// its own, at the time it moved to, rather than overwriting Sunday's own
// 23:30 in the slot's row.
func TestQueueGridSlotMovedAcrossMidnight(t *testing.T) {
	nuuk, err := time.LoadLocation("America/Nuuk")
	if err != nil {
		t.Skip(err)
	}
	ss := []slots.Slot{{ID: 1, AccountID: "11", Account: "alice", Days: slots.AllDays, Minute: 23*60 + 30, Zone: "America/Nuuk"}}
	from := time.Date(2026, 3, 28, 12, 0, 0, 0, nuuk)
	occ, err := slots.Between(ss, from, from.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	q := api.Queue{From: from, Until: from.Add(48 * time.Hour)}
	for i, o := range occ {
		id := int64(i + 1)
		q.Slots = append(q.Slots, api.QueueSlot{At: o.At, Account: "alice", SlotID: 1, Time: "23:30", Zone: "America/Nuuk", PostID: &id, Excerpt: "post"})
	}
	if len(q.Slots) != 2 {
		t.Fatalf("%d slots, want Saturday's (moved) and Sunday's", len(q.Slots))
	}
	lines, ok := queueGrid(q, nuuk, "America/Nuuk", 160)
	if !ok {
		t.Fatal("no grid at 160 columns")
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{"#1 post", "#2 post"} {
		if !strings.Contains(out, want) {
			t.Errorf("grid lacks %q:\n%s", want, out)
		}
	}
}

// The user's zone unnamed (no PSN_TZ: time.Local, "Local") is still the
// zone the slots were added in, by its name: a slot moved by the spring
// gap keeps its row, its cell saying the time it moved to, rather than
// growing a row of its own for one night.
func TestQueueGridLocalZoneKeepsRows(t *testing.T) {
	data, err := os.ReadFile("/usr/share/zoneinfo/Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	local, err := time.LoadLocationFromTZData("Local", data) // as time.Local is named
	if err != nil {
		t.Fatal(err)
	}
	ss := []slots.Slot{{ID: 1, AccountID: "11", Account: "alice", Days: slots.AllDays, Minute: 2*60 + 30, Zone: "Europe/Paris"}}
	from := time.Date(2026, 3, 28, 12, 0, 0, 0, local)
	occ, err := slots.Between(ss, from, from.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	q := api.Queue{From: from, Until: from.Add(48 * time.Hour)}
	for _, o := range occ {
		q.Slots = append(q.Slots, api.QueueSlot{At: o.At, Account: "alice", SlotID: 1, Time: "02:30", Zone: "Europe/Paris"})
	}
	lines, ok := queueGrid(q, local, "Europe/Paris", 160)
	if !ok {
		t.Fatal("no grid at 160 columns")
	}
	rows := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "02:30") || strings.HasPrefix(l, "03:30") {
			rows++
		}
	}
	if rows != 1 {
		t.Errorf("%d rows for one slot, want 1:\n%s", rows, strings.Join(lines, "\n"))
	}
}

// A column is labelled with its own date even where that date's midnight
// does not exist (Santiago springs forward at 00:00: time.ParseInLocation
// read "2026-09-06" as 23:00 on the 5th, and labelled Sunday's column
// "Sat 05 Sep" a second time).
func TestQueueGridMidnightGapLabels(t *testing.T) {
	for _, c := range []struct{ zone, from, want string }{
		{"America/Santiago", "2026-09-04", "Sun 06 Sep"},
		{"America/Havana", "2026-03-06", "Sun 08 Mar"},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Skip(err)
		}
		ss := []slots.Slot{{ID: 1, AccountID: "11", Account: "alice", Days: slots.AllDays, Minute: 12 * 60, Zone: c.zone}}
		d, _ := time.ParseInLocation(time.DateOnly, c.from, loc)
		occ, err := slots.Between(ss, d, d.Add(4*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		q := api.Queue{From: d, Until: d.Add(4 * 24 * time.Hour)}
		for _, o := range occ {
			q.Slots = append(q.Slots, api.QueueSlot{At: o.At, Account: "alice", SlotID: 1, Time: "12:00", Zone: c.zone})
		}
		lines, ok := queueGrid(q, loc, c.zone, 160)
		if !ok || len(lines) < 2 {
			t.Fatalf("%s: no grid", c.zone)
		}
		head := lines[1]
		if !strings.Contains(head, c.want) {
			t.Errorf("%s: header %q lacks %q", c.zone, head, c.want)
		}
	}
}
