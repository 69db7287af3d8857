package publishing

import (
	"context"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/xapi"
)

// panickyX panics in the create's answer once X has made the tweet, as a
// bug in reading an answer would.
type panickyX struct{ XClient }

func (x panickyX) CreateTweet(ctx context.Context, token string, r xapi.CreateTweetRequest) (xapi.Tweet, xapi.RateLimit, error) {
	x.XClient.CreateTweet(ctx, token, r)
	panic("cannot read X's answer")
}

// TestPanicInCreateReturnsReservation: a publish that panics after its
// create was sent (the post fails, the daemon runs on) gives its rate
// reservation back. Before, the create stayed in flight for ever: it was
// the account's first, so its probe never had an answer, and every later
// post of the account waited for one until the daemon restarted.
func TestPanicInCreateReturnsReservation(t *testing.T) {
	h := newRig(t)
	claimed, xc := h.claimed(t, "first of the day İ")
	gate := newRateGate(nil)
	p := &publisher{store: h.store, clock: h.clock, x: panickyX{xc}, tokens: h.tokens, owner: "this-daemon",
		lease: 5 * time.Minute, log: testLogger(t), rand: func() float64 { return 0 }, gate: gate,
		changed: func(int64) {}, progress: func(int64, int64, int64) {}, notifier: &recordingNotifier{},
		sleep: func(context.Context, time.Duration) error { return nil }}
	if d, _ := gate.admit(testUser, claimed.ID, t0, 1); d != sendNow {
		t.Fatalf("first post: decision %d, want sendNow", d)
	}
	p.publishSafely(context.Background(), claimed, t0)
	if got := h.get(t, claimed.ID); got.Status != post.StatusFailed {
		t.Fatalf("after the panic: %s, want failed", got.Status)
	}
	if w := gate.waiting(t0); len(w) != 0 {
		t.Fatalf("accounts waiting for an answer after the panic: %v, want none", w)
	}
	if d, _ := gate.admit(testUser, claimed.ID+1, t0, 1); d != sendNow {
		t.Fatalf("next post of the account: decision %d, want sendNow", d)
	}
}
