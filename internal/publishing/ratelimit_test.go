package publishing

import (
	"context"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/xapi"
)

// The gate's decisions from X's headers, without a daemon.
func TestRateGateDecisions(t *testing.T) {
	now := t0
	kicks := 0
	g := newRateGate(func() { kicks++ })
	win := func(limit, remaining int, reset time.Time) xapi.Window {
		return xapi.Window{Limit: limit, Remaining: remaining, Reset: reset}
	}
	expect := func(what string, d decision, until time.Time, wantD decision, wantUntil time.Time) {
		t.Helper()
		if d != wantD || !until.Equal(wantUntil) {
			t.Fatalf("%s: decision %d until %v, want %d until %v", what, d, until, wantD, wantUntil)
		}
	}
	// Before X has answered: one probe, the others wait for its answer.
	d, u := g.admit("a", 1, now, 1)
	expect("probe", d, u, sendNow, time.Time{})
	d, u = g.admit("a", 2, now, 1)
	expect("behind the probe", d, u, waitNext, time.Time{})
	if w := g.waiting(now); len(w) != 1 || w[0] != "a" {
		t.Fatalf("waiting = %v", w)
	}
	// Another account is not held back by this one.
	d, u = g.admit("b", 9, now, 1)
	expect("other account", d, u, sendNow, time.Time{})

	reset := now.Add(20 * time.Second)
	ok, _, _ := g.take(context.Background(), "a", 1, func() time.Time { return now })
	if !ok {
		t.Fatal("the probe's own reservation was refused")
	}
	g.answered("a", 0, xapi.RateLimit{Window: win(5, 2, reset)}, true)
	if kicks == 0 {
		t.Fatal("an answer did not wake the scheduler")
	}
	d, _ = g.admit("a", 2, now, 1)
	expect("first of two left", d, time.Time{}, sendNow, time.Time{})
	d, _ = g.admit("a", 3, now, 1)
	expect("second of two left", d, time.Time{}, sendNow, time.Time{})
	d, u = g.admit("a", 4, now, 1)
	expect("none left", d, u, waitFor, reset.Add(time.Second))
	// An unused reservation goes back.
	g.done("a", 3)
	d, _ = g.admit("a", 4, now, 1)
	expect("given back", d, time.Time{}, sendNow, time.Time{})
	// Answers out of order: the lower count of the same window wins.
	g.answered("a", 0, xapi.RateLimit{Window: win(5, 0, reset)}, true)
	g.answered("a", 0, xapi.RateLimit{Window: win(5, 1, reset)}, true)
	d, u = g.admit("a", 5, now, 1)
	expect("stale higher count ignored", d, u, waitFor, reset.Add(time.Second))
	// Until X's rounding second has passed, the window is still spent.
	d, u = g.admit("a", 5, reset, 1)
	expect("at the header's reset", d, u, waitFor, reset.Add(time.Second))
	// After the reset: the full limit, then wait for the new window's answer.
	later := reset.Add(time.Second)
	for id := int64(10); id < 15; id++ {
		d, _ = g.admit("a", id, later, 1)
		expect("after the reset", d, time.Time{}, sendNow, time.Time{})
	}
	d, u = g.admit("a", 15, later, 1)
	expect("limit reserved, new reset unknown", d, u, waitNext, time.Time{})

	// A spent 24-hour cap holds posts back past the 15-minute window.
	day := now.Add(24 * time.Hour)
	g.answered("b", 0, xapi.RateLimit{Window: win(100, 99, now.Add(15*time.Minute)), User24h: win(1, 0, day)}, true)
	d, u = g.admit("b", 20, now, 1)
	expect("24-hour cap", d, u, waitFor, day.Add(time.Second))

	// No rate-limit headers at all: nothing is held back.
	g.answered("c", 0, xapi.RateLimit{}, true)
	for id := int64(30); id < 40; id++ {
		d, _ = g.admit("c", id, now, 1)
		expect("no headers", d, time.Time{}, sendNow, time.Time{})
	}
}

// A 24-hour cap recorded before a restart: spent, it holds creates until
// its reset; with requests left, they go; one already reset is ignored
// (the first create is a probe again).
func TestRateGateSeededCap(t *testing.T) {
	now := t0
	day := now.Add(20 * time.Hour)
	g := newRateGate(nil)
	g.seed("spent", xapi.Window{Limit: 3, Remaining: 0, Reset: day}, now)
	if d, until := g.admit("spent", 1, now, 1); d != waitFor || !until.Equal(day.Add(resetSlack)) {
		t.Errorf("spent cap: decision %d until %v", d, until)
	}
	g.seed("left", xapi.Window{Limit: 3, Remaining: 1, Reset: day}, now)
	if d, _ := g.admit("left", 2, now, 1); d != sendNow {
		t.Errorf("one left: decision %d", d)
	}
	if d, _ := g.admit("left", 3, now, 1); d != waitFor {
		t.Errorf("none left after the reservation: decision %d", d)
	}
	g.seed("old", xapi.Window{Limit: 3, Remaining: 0, Reset: now.Add(-time.Minute)}, now)
	if d, _ := g.admit("old", 4, now, 1); d != sendNow {
		t.Errorf("reset cap: decision %d, want a probe", d)
	}
	if d, _ := g.admit("old", 5, now, 1); d != waitNext {
		t.Errorf("behind the probe: decision %d", d)
	}
}

// A thread not yet started asks for all its creates: it waits whole for
// the reset rather than going out half; one longer than the whole cap
// needs only a full window; and with no reset known it is not held.
func TestRateGateThreadNeedsRoomForAllItsTweets(t *testing.T) {
	now := t0
	day := now.Add(20 * time.Hour)
	g := newRateGate(nil)
	g.seed("two", xapi.Window{Limit: 5, Remaining: 2, Reset: day}, now)
	if d, until := g.admit("two", 1, now, 3); d != waitFor || !until.Equal(day.Add(resetSlack)) {
		t.Errorf("3 tweets, 2 left: decision %d until %v, want the reset", d, until)
	}
	if d, _ := g.admit("two", 2, now, 2); d != sendNow {
		t.Errorf("2 tweets, 2 left: decision %d", d)
	}
	g.seed("full", xapi.Window{Limit: 3, Remaining: 3, Reset: day}, now)
	if d, _ := g.admit("full", 3, now, 10); d != sendNow {
		t.Errorf("10 tweets, a full cap of 3: decision %d", d)
	}
	g.answered("noreset", 0, xapi.RateLimit{User24h: xapi.Window{Limit: 5, Remaining: 1}}, true)
	if d, _ := g.admit("noreset", 4, now, 3); d != sendNow {
		t.Errorf("3 tweets, 1 left, no reset known: decision %d", d)
	}
}

// Two threads due together are admitted only as far as the cap has room
// for both: the gate reserves all of a thread's creates, not its first
// one, so the second does not take the tweets the first still needs (it
// would leave one of them half-published at the cap).
func TestRateGateReservesAThreadsCreates(t *testing.T) {
	now := t0
	day := now.Add(20 * time.Hour)
	ctx := context.Background()
	g := newRateGate(nil)
	g.seed("a", xapi.Window{Limit: 10, Remaining: 5, Reset: day}, now)
	if d, _ := g.admit("a", 1, now, 3); d != sendNow {
		t.Fatalf("first thread: decision %d", d)
	}
	if d, until := g.admit("a", 2, now, 3); d != waitFor || !until.Equal(day.Add(resetSlack)) {
		t.Fatalf("second thread with 2 creates left for it: decision %d until %v, want the reset", d, until)
	}
	if d, _ := g.admit("a", 3, now, 2); d != sendNow {
		t.Fatalf("a 2-tweet thread fits the 2 left: decision %d", d)
	}
	// Thread 1's three creates are its own, one answer at a time.
	for i := range 3 {
		ok, _, err := g.take(ctx, "a", 1, func() time.Time { return now })
		if err != nil || !ok {
			t.Fatalf("create %d of thread 1: %v %v", i+1, ok, err)
		}
		g.answered("a", 0, xapi.RateLimit{User24h: xapi.Window{Limit: 10, Remaining: 4 - i, Reset: day}}, true)
	}
	// Post 3's reservation of 2 is all that is left.
	if d, _ := g.admit("a", 4, now, 1); d != waitFor {
		t.Fatalf("a post past the reserved cap: decision %d", d)
	}
	// Given back unused, it is room again.
	g.done("a", 3)
	if d, _ := g.admit("a", 5, now, 2); d != sendNow {
		t.Fatalf("after a reservation came back: decision %d", d)
	}
}

// A reservation X's answer shows void (the cap spent from elsewhere)
// waits for the reset instead of sending into a 429, and is given back.
func TestRateGateReservationVoidedBySpentCap(t *testing.T) {
	now := t0
	day := now.Add(20 * time.Hour)
	clk := func() time.Time { return now }
	g := newRateGate(nil)
	g.seed("a", xapi.Window{Limit: 10, Remaining: 3, Reset: day}, now)
	if d, _ := g.admit("a", 1, now, 3); d != sendNow {
		t.Fatalf("thread: decision %d", d)
	}
	if ok, _, _ := g.take(context.Background(), "a", 1, clk); !ok {
		t.Fatal("first create refused")
	}
	g.answered("a", 0, xapi.RateLimit{User24h: xapi.Window{Limit: 10, Remaining: 0, Reset: day}}, true)
	ok, until, err := g.take(context.Background(), "a", 1, clk)
	if err != nil || ok || !until.Equal(day.Add(resetSlack)) {
		t.Fatalf("second create with the cap spent: %v until %v (%v), want a wait for the reset", ok, until, err)
	}
	if st := g.accts["a"]; st.inflight != 0 || st.held[1] != 0 {
		t.Errorf("reservation not given back: inflight %d held %d", st.inflight, st.held[1])
	}
}

// An answer wakes the scheduler only when a post waits for one: in a
// burst every create is answered, and each kick ran a round (a write
// transaction) while every worker was busy.
func TestRateGateKicksOnlyWhenAPostWaitsForAnAnswer(t *testing.T) {
	now := t0
	kicks := 0
	g := newRateGate(func() { kicks++ })
	rl := xapi.RateLimit{Window: xapi.Window{Limit: 100, Remaining: 99, Reset: now.Add(15 * time.Minute)}}
	take := func(id int64) {
		t.Helper()
		if ok, _, _ := g.take(context.Background(), "a", id, func() time.Time { return now }); !ok {
			t.Fatalf("post %d: reservation refused", id)
		}
	}
	// The probe, with nobody behind it.
	if d, _ := g.admit("a", 1, now, 1); d != sendNow {
		t.Fatalf("probe: %d", d)
	}
	take(1)
	g.answered("a", 1, rl, true)
	if kicks != 0 {
		t.Fatalf("%d kicks for an answer nobody waited for", kicks)
	}
	// Room in the window: posts go at once, their answers wake nobody.
	for id := int64(2); id <= 4; id++ {
		if d, _ := g.admit("a", id, now, 1); d != sendNow {
			t.Fatalf("post %d: %d", id, d)
		}
		take(id)
	}
	g.answered("a", 2, rl, true)
	g.done("a", 3)
	if kicks != 0 {
		t.Fatalf("%d kicks with room in the window", kicks)
	}

	// Another account's probe, with a post waiting behind it: the next
	// answer or released reservation (of any account) wakes the
	// scheduler, once; the round it starts asks again.
	if d, _ := g.admit("b", 10, now, 1); d != sendNow {
		t.Fatalf("probe b: %d", d)
	}
	if d, _ := g.admit("b", 11, now, 1); d != waitNext {
		t.Fatalf("behind probe b: %d", d)
	}
	g.answered("a", 4, rl, true)
	if kicks != 1 {
		t.Fatalf("%d kicks after an answer a post waited for, want 1", kicks)
	}
	g.done("b", 10)
	if kicks != 1 {
		t.Fatalf("%d kicks, want 1: nobody asked again", kicks)
	}
	// Asked again, the gate holds nothing back: b's probe ended.
	if w := g.waiting(now); len(w) != 0 {
		t.Fatalf("waiting = %v after the probe ended", w)
	}
}
