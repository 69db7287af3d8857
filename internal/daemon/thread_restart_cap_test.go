package daemon

import (
	"net/http"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
)

// TestThreadPartWayRestartWithCapSpent: a thread stops part-way on X (a
// 503), other posts then spend X's 24-hour cap, and the daemon restarts.
// The restarted daemon knows the cap is spent (recorded before the
// restart): the thread waits for the reset without sending X a create, then
// finishes from its checkpoint, each tweet once, each a reply to the one
// before.
func TestThreadPartWayRestartWithCapSpent(t *testing.T) {
	h := newHarnessX(t, fakex.Options{UserDailyTweetLimit: 3})
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Skip: 1, Kind: fakex.FaultStatus, Status: http.StatusServiceUnavailable})
	th := h.create(api.CreatePost{Tweets: []string{"restart thread 1 İ", "restart thread 2 東京", "restart thread 3 🪁"}, Now: true})
	got := h.waitPost(th.ID, isStatus(api.StatusRetry))
	if len(got.PlatformPostIDs) != 1 {
		t.Fatalf("thread has %d tweets on X, want 1 before the 503", len(got.PlatformPostIDs))
	}
	var others []int64
	for _, text := range []string{"other one", "other two"} {
		p := h.create(api.CreatePost{Text: text, Now: true})
		h.waitPost(p.ID, isStatus(api.StatusPublished))
		others = append(others, p.ID)
	}

	h.stop()
	h.clock.Set(t0.Add(10 * time.Minute)) // past the thread's retry time
	h.drainArms()
	h.start()
	got = h.waitPost(th.ID, func(p api.Post) bool { return sub(p) == "rate_limited" || p.Status == api.StatusPublished })
	reset := t0.Add(24 * time.Hour)
	if got.Status != api.StatusRetry || got.NextRetryAt == nil || !got.NextRetryAt.Equal(reset.Add(time.Second)) {
		t.Fatalf("after the restart: %s/%s next %v, want rate_limited until %v", got.Status, sub(got), got.NextRetryAt, reset)
	}
	if st := h.createStatuses(); st[http.StatusTooManyRequests] != 0 {
		t.Fatalf("creates by status %v: the restarted daemon asked X past its spent cap", st)
	}
	h.drainArms()
	h.alarm.Fire()
	h.drive(append(others, th.ID))
	got = h.get(th.ID)
	if got.Status != api.StatusPublished || len(got.PlatformPostIDs) != 3 {
		t.Fatalf("thread %s with ids %v", got.Status, got.PlatformPostIDs)
	}
	prev := ""
	for i, id := range got.PlatformPostIDs {
		var tw *fakex.Tweet
		for _, x := range h.x.Tweets() {
			if x.ID == id {
				tw = &x
			}
		}
		if tw == nil || tw.ReplyToID != prev {
			t.Fatalf("tweet %d (%s) on X: %+v, want a reply to %q", i, id, tw, prev)
		}
		prev = id
	}
	if n := len(h.x.Tweets()); n != 5 {
		t.Fatalf("%d tweets on X, want 5", n)
	}
}
