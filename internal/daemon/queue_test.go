package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

func (h *harness) addSlots(spec, zone string) []api.Slot {
	h.t.Helper()
	out, err := h.client.AddSlots(context.Background(), api.AddSlots{Spec: spec, Zone: zone})
	if err != nil {
		h.t.Fatalf("add slots %q: %v", spec, err)
	}
	return out
}

func (h *harness) queue(days int) api.Queue {
	h.t.Helper()
	q, err := h.client.Queue(context.Background(), days, "")
	if err != nil {
		h.t.Fatalf("queue: %v", err)
	}
	return q
}

func apiCode(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return fmt.Sprint(err)
}

// TestQueueConcurrentCreatesGetDistinctSlots: many `post --queue` at once,
// through the real local API, each get a slot of their own, and together
// they fill the first slots with no gap.
func TestQueueConcurrentCreatesGetDistinctSlots(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.addSlots("daily 09:00,12:00,18:00", "Europe/Paris")
	const n = 40
	var wg sync.WaitGroup
	got := make([]time.Time, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			var p api.Post
			errs[i] = h.call(http.MethodPost, api.PathPosts, api.CreatePost{Text: fmt.Sprintf("queued %d İ 東京 🎉", i), Queue: true}, &p)
			if p.ScheduledAt != nil {
				got[i] = *p.ScheduledAt
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	slices.SortFunc(got, func(a, b time.Time) int { return a.Compare(b) })
	q := h.queue(14)
	for i := range got {
		if i > 0 && got[i].Equal(got[i-1]) {
			t.Fatalf("two queued posts at %v", got[i])
		}
		if !q.Slots[i].At.Equal(got[i]) || q.Slots[i].PostID == nil {
			t.Fatalf("slot %d at %v (post %v); post at %v: want the first %d slots filled in order", i, q.Slots[i].At, q.Slots[i].PostID, got[i], n)
		}
	}
	if q.Slots[n].PostID != nil {
		t.Errorf("slot %d holds post %d, want free", n, *q.Slots[n].PostID)
	}
}

// TestQueueFreesOnCancelAndDelete: cancelling or deleting a queued post
// frees its slot, and nothing else moves; the next queued post (or the
// cancelled one queued again) takes the earliest free slot.
func TestQueueFreesOnCancelAndDelete(t *testing.T) {
	h := newHarness(t)
	h.start()
	// t0 is Friday 2026-11-27 09:00 UTC: slots from Friday 13:30 on.
	h.addSlots("mon-fri 09:00,13:30", "UTC")
	var ps []api.Post
	for i := range 4 {
		ps = append(ps, h.create(api.CreatePost{Text: fmt.Sprintf("post %d", i), Queue: true}))
	}
	want := []string{"Fri 11-27 13:30", "Mon 11-30 09:00", "Mon 11-30 13:30", "Tue 12-01 09:00"}
	for i, p := range ps {
		if got := p.ScheduledAt.UTC().Format("Mon 01-02 15:04"); got != want[i] {
			t.Errorf("post %d at %s, want %s", i, got, want[i])
		}
	}
	var cancelled api.Post
	if err := h.call(http.MethodPost, "/v1/posts/"+fmt.Sprint(ps[1].ID)+"/cancel", struct{}{}, &cancelled); err != nil {
		t.Fatal(err)
	}
	if err := h.call(http.MethodDelete, "/v1/posts/"+fmt.Sprint(ps[2].ID), nil, nil); err != nil {
		t.Fatal(err)
	}
	q := h.queue(7)
	holders := map[string]*int64{}
	for _, s := range q.Slots {
		holders[s.At.UTC().Format("Mon 01-02 15:04")] = s.PostID
	}
	if p := holders[want[1]]; p != nil {
		t.Errorf("cancelled post's slot holds post %d, want free", *p)
	}
	if p := holders[want[2]]; p != nil {
		t.Errorf("deleted post's slot holds post %d, want free", *p)
	}
	for _, i := range []int{0, 3} {
		if p := holders[want[i]]; p == nil || *p != ps[i].ID {
			t.Errorf("slot %s: holder %v, want post %d unmoved", want[i], p, ps[i].ID)
		}
	}
	// The cancelled draft queued again takes the earliest free slot, its
	// old one; a new post then takes the next.
	var again api.Post
	if err := h.call(http.MethodPatch, "/v1/posts/"+fmt.Sprint(ps[1].ID), api.EditPost{Queue: true}, &again); err != nil {
		t.Fatal(err)
	}
	if again.Status != api.StatusScheduled || again.ScheduledAt.UTC().Format("Mon 01-02 15:04") != want[1] {
		t.Errorf("edit --queue: %s at %v, want scheduled at %s", again.Status, again.ScheduledAt, want[1])
	}
	next := h.create(api.CreatePost{Text: "new", Queue: true})
	if got := next.ScheduledAt.UTC().Format("Mon 01-02 15:04"); got != want[2] {
		t.Errorf("new post at %s, want the freed %s", got, want[2])
	}
	// Queueing a queued post again keeps its slot: its own counts as free.
	if err := h.call(http.MethodPatch, "/v1/posts/"+fmt.Sprint(ps[3].ID), api.EditPost{Queue: true}, &again); err != nil {
		t.Fatal(err)
	}
	if !again.ScheduledAt.Equal(*ps[3].ScheduledAt) {
		t.Errorf("re-queued post moved from %v to %v", ps[3].ScheduledAt, again.ScheduledAt)
	}
}

// TestQueueRefusals: no slots, queue with a time, a bad spec, a bad zone:
// one clear error each, and nothing stored.
func TestQueueRefusals(t *testing.T) {
	h := newHarness(t)
	h.start()
	err := h.call(http.MethodPost, api.PathPosts, api.CreatePost{Text: "x", Queue: true}, nil)
	if apiCode(err) != api.CodeBadRequest || !strings.Contains(err.Error(), "psnd slots add") {
		t.Errorf("queue without slots: %v, want bad_request naming psnd slots add", err)
	}
	// A create that says no time names every way to say one, queue too.
	err = h.call(http.MethodPost, api.PathPosts, api.CreatePost{Text: "x"}, nil)
	if apiCode(err) != api.CodeBadRequest || !strings.Contains(err.Error(), "queue") {
		t.Errorf("create without a time: %v, want bad_request naming queue", err)
	}
	at := t0.Add(time.Hour)
	for _, req := range []api.CreatePost{{Text: "x", Queue: true, At: &at}, {Text: "x", Queue: true, Now: true}, {Text: "x", Queue: true, Draft: true}} {
		if err := h.call(http.MethodPost, api.PathPosts, req, nil); apiCode(err) != api.CodeBadRequest {
			t.Errorf("queue with another time %+v: %v, want bad_request", req, err)
		}
	}
	for _, body := range []api.AddSlots{{Spec: "funday 09:00"}, {Spec: "mon 25:00"}, {Spec: "mon 09:00", Zone: "Mars/Olympus"}, {Spec: "mon 09:00", Account: "nobody"}} {
		_, err := h.client.AddSlots(context.Background(), body)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("add %+v: %v, want one line of error", body, err)
		}
	}
	if ss, err := h.client.Slots(context.Background(), ""); err != nil || len(ss) != 0 {
		t.Errorf("slots after refusals: %v, %v; want none", ss, err)
	}
	if n := h.postCount(); n != 0 {
		t.Errorf("%d posts stored", n)
	}
	h.addSlots("sat,sun 10:00", "")
	if _, err := h.client.RemoveSlot(context.Background(), 99); apiCode(err) != api.CodeNotFound {
		t.Errorf("remove slot 99: %v, want not_found", err)
	}
}

// TestQueueFull: once every slot up to the two-year horizon holds a post,
// a queued create is refused, saying so, and nothing is stored.
func TestQueueFull(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.addSlots("wed 12:00", "UTC")
	n := 0
	for ; n < 200; n++ {
		err := h.call(http.MethodPost, api.PathPosts, api.CreatePost{Text: fmt.Sprintf("weekly %d", n), Queue: true}, nil)
		if err != nil {
			if apiCode(err) != api.CodeConflict || !strings.Contains(err.Error(), "every queue slot of @alice in the next 2 years is taken") {
				t.Fatalf("create %d: %v, want conflict saying the queue is full", n, err)
			}
			break
		}
	}
	if n < 104 || n > 105 {
		t.Errorf("%d posts queued before the queue was full, want 104 or 105 (two years of Wednesdays)", n)
	}
	if c := h.postCount(); c != n {
		t.Errorf("%d posts stored, want %d", c, n)
	}
}

// TestImportQueue: queued items take the account's free slots in file
// order, after a slot taken explicitly in the same batch; a dry run says
// which slot each would take and honours the slots earlier batches were
// given (reserved); the store takes them again.
func TestImportQueue(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.addSlots("daily 10:00", "UTC")
	day := func(d int) time.Time { return time.Date(2026, 11, 27+d, 10, 0, 0, 0, time.UTC) }
	first := day(0)
	items := []api.ImportItem{
		{Source: "/w/a.md", ContentHash: "a", Text: "a 東京", Queue: true},
		{Source: "/w/b.md", ContentHash: "b", Text: "b", At: &first}, // takes today's slot explicitly
		{Source: "/w/c.md", ContentHash: "c", Text: "c", Queue: true},
	}
	dry := h.importBatch(api.ImportRequest{DryRun: true, Items: items, Reserved: []api.ImportReserved{{At: day(1)}}})
	if dry.Invalid != 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	if a, c := dry.Items[0].ScheduledAt, dry.Items[2].ScheduledAt; a == nil || c == nil || !a.Equal(day(2)) || !c.Equal(day(3)) {
		t.Errorf("dry run slots %v, %v; want %v and %v (today's taken by b, tomorrow's reserved)", a, c, day(2), day(3))
	}
	res := h.importBatch(api.ImportRequest{Items: items})
	if res.Invalid != 0 {
		t.Fatalf("import: %+v", res)
	}
	if a, c := res.Items[0].ScheduledAt, res.Items[2].ScheduledAt; a == nil || c == nil || !a.Equal(day(1)) || !c.Equal(day(2)) {
		t.Errorf("stored slots %v, %v; want %v and %v", a, c, day(1), day(2))
	}
	var p api.Post
	if err := h.call(http.MethodGet, "/v1/posts/"+fmt.Sprint(res.Items[0].ID), nil, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != api.StatusScheduled || !p.ScheduledAt.Equal(day(1)) {
		t.Errorf("post a: %s at %v", p.Status, p.ScheduledAt)
	}
	// A changed item already in the queue keeps its slot.
	items[0].ContentHash, items[0].Text = "a2", "a changed"
	res = h.importBatch(api.ImportRequest{Items: items[:1]})
	if res.Items[0].Status != api.ImportUpdated || res.Items[0].ScheduledAt != nil {
		t.Errorf("re-import: %+v", res.Items[0])
	}
	if err := h.call(http.MethodGet, "/v1/posts/"+fmt.Sprint(res.Items[0].ID), nil, &p); err != nil || !p.ScheduledAt.Equal(day(1)) {
		t.Errorf("changed item moved to %v (%v)", p.ScheduledAt, err)
	}
	// queue with at is invalid; an account without slots is invalid; the
	// batch stores nothing.
	n := h.postCount()
	res = h.importBatch(api.ImportRequest{Items: []api.ImportItem{
		{Source: "/w/d.md", ContentHash: "d", Text: "d", Queue: true, At: &first},
		{Source: "/w/e.md", ContentHash: "e", Text: "e", Queue: true},
	}})
	if res.Invalid != 1 || !strings.Contains(res.Items[0].Error, "queue goes alone") || res.Items[1].Status != api.ImportCreated {
		t.Errorf("verdicts: %+v", res.Items)
	}
	if h.postCount() != n {
		t.Errorf("posts stored from an invalid batch")
	}
}

// tickingClock is the harness's clock, moved a minute forward by every
// reading while ticking: time passes between an import's check and its
// store (media are copied in between, which can take long).
type tickingClock struct {
	sleepingClock
	ticking *atomic.Bool
}

func (c tickingClock) Now() time.Time {
	now := c.sleepingClock.Now()
	if c.ticking.Load() {
		c.Advance(time.Minute)
	}
	return now
}

// TestImportQueueTakesSlotsAfterStoreTime: the slots an import's queued
// items take at store time come after the time they are stored, not
// after the time the batch was checked: a slot that passed in between
// would put the post in the past, published at once.
func TestImportQueueTakesSlotsAfterStoreTime(t *testing.T) {
	var ticking atomic.Bool
	h := newHarness(t, func(h *harness) { h.cfg.Clock = tickingClock{sleepingClock{h.clock}, &ticking} })
	h.start()
	h.addSlots("daily 09:01", "UTC") // t0 is 09:00
	ticking.Store(true)
	res := h.importBatch(api.ImportRequest{Items: []api.ImportItem{{Source: "/w/a.md", ContentHash: "a", Text: "a 東京", Queue: true}}})
	ticking.Store(false)
	if res.Invalid != 0 || res.Items[0].ID == 0 {
		t.Fatalf("import: %+v", res)
	}
	var p api.Post
	if err := h.call(http.MethodGet, "/v1/posts/"+fmt.Sprint(res.Items[0].ID), nil, &p); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(24*time.Hour + time.Minute); p.ScheduledAt == nil || !p.ScheduledAt.Equal(want) {
		t.Errorf("queued at %v, want %v: today's 09:01 had passed when the post was stored", p.ScheduledAt, want)
	}
}

// TestQueueCreateTakesSlotAfterStoreTime: post --queue takes the slot
// after the time the post is stored, not the time the request came in:
// its media are copied in between (a video can take a while), and a slot
// passing meanwhile would put the post in the past.
func TestQueueCreateTakesSlotAfterStoreTime(t *testing.T) {
	var ticking atomic.Bool
	h := newHarness(t, func(h *harness) { h.cfg.Clock = tickingClock{sleepingClock{h.clock}, &ticking} })
	h.start()
	h.addSlots("daily 09:01", "UTC") // t0 is 09:00
	ticking.Store(true)
	p := h.create(api.CreatePost{Text: "queued İ 🎉", Queue: true})
	ticking.Store(false)
	if want := t0.Add(24*time.Hour + time.Minute); p.ScheduledAt == nil || !p.ScheduledAt.Equal(want) {
		t.Errorf("queued at %v, want %v: today's 09:01 had passed when the post was stored", p.ScheduledAt, want)
	}
}
