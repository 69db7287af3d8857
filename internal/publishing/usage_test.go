package publishing

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// refusingCounter cannot write a count (a full disk, say).
type refusingCounter struct{ tries int }

func (c *refusingCounter) CountXRequest(context.Context, string, time.Time, string, int) error {
	c.tries++
	return errors.New("database or disk is full")
}

func (c *refusingCounter) RecordUserCap(context.Context, string, int, int, time.Time, time.Time) error {
	return nil
}

// A request whose count cannot be written is not sent: X never sees an
// uncounted request, and the post waits for a retry like any request that
// never left.
func TestUncountableRequestIsNotSent(t *testing.T) {
	h := newRig(t)
	ctx := context.Background()
	claimed, xc := h.claimed(t, "Ⱥ count first https://example.com")
	counter := &refusingCounter{}
	p := &publisher{store: h.store, counter: counter, clock: h.clock, x: xc, tokens: h.tokens, owner: "this-daemon",
		lease: 5 * time.Minute, log: testLogger(t), rand: func() float64 { return 0 }, gate: newRateGate(nil),
		changed: func(int64) {}, progress: func(int64, int64, int64) {},
		sleep: func(context.Context, time.Duration) error { return nil }}
	p.publish(ctx, claimed, t0)
	var got *post.Post
	if err := h.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		got, err = tx.GetPost(claimed.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if counter.tries != 1 || len(h.x.Requests()) != 0 {
		t.Fatalf("%d count attempts, X received %d requests: want one attempt and nothing sent", counter.tries, len(h.x.Requests()))
	}
	if got.Status != post.StatusRetry || got.SubStatus != post.RetrySub(1) {
		t.Fatalf("status %s/%s (%s), want retry_1", got.Status, got.SubStatus, got.FailReason)
	}
}
