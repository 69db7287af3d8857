package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// A post is claimed claimLead before it is due: the alarm is set that much
// earlier, a wake-up before then claims nothing, and one within the lead
// claims and publishes it.
func TestClaimsJustBeforeDue(t *testing.T) {
	// Without pre-flight, whose instant would come first.
	h := newHarness(t, func(h *harness) { h.cfg.Env.Preflight = 0 })
	h.start()
	at := t0.Add(time.Hour)
	p := h.create(api.CreatePost{Text: "on the hour", At: &at})
	if next := h.waitArm(); !next.Equal(at) {
		t.Fatalf("next due %v, want %v", next, at)
	}
	h.alarm.mu.Lock()
	armed := h.alarm.at
	h.alarm.mu.Unlock()
	if want := at.Add(-claimLead); !armed.Equal(want) {
		t.Fatalf("alarm set for %v, want %v (a lead before the due time)", armed, want)
	}
	h.clock.Set(at.Add(-2 * claimLead))
	h.alarm.Fire()
	h.waitArm()
	if got := h.waitPost(p.ID, isStatus("scheduled")); got.Status != "scheduled" || len(h.creates()) != 0 {
		t.Fatalf("claimed %v before the lead: %+v", claimLead, got)
	}
	h.clock.Set(at.Add(-claimLead / 2))
	h.alarm.Fire()
	h.waitPost(p.ID, isStatus("published"))
	if n := len(h.creates()); n != 1 {
		t.Fatalf("%d creates, want 1", n)
	}
}

// The store claims a post only when it is due by the bound given.
func TestClaimDueBy(t *testing.T) {
	h := newHarness(t)
	s := openStore(t, h.cfg)
	defer s.Close()
	ctx := context.Background()
	at := t0.Add(time.Minute)
	var p *post.Post
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &at,
			Tweets: []sqlstore.NewTweet{{Text: "x"}}}, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ref := sqlstore.DueRef{ID: p.ID, RunID: p.RunID, DueAt: at}
	now := at.Add(-claimLead)
	claim := func(dueBy time.Time) error {
		return s.Update(ctx, func(tx *sqlstore.Tx) error {
			_, err := tx.ClaimDueBy(ref, "me", now, dueBy, now.Add(time.Minute))
			return err
		})
	}
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.Claim(ref, "me", now, now.Add(time.Minute))
		return err
	}); !errors.Is(err, sqlstore.ErrStale) {
		t.Fatalf("claim before due: %v, want ErrStale", err)
	}
	if err := claim(at.Add(-time.Millisecond)); !errors.Is(err, sqlstore.ErrStale) {
		t.Fatalf("claim due by a moment too early: %v, want ErrStale", err)
	}
	if err := claim(at); err != nil {
		t.Fatalf("claim due by its time: %v", err)
	}
}

// On the real clock and alarm, nothing reaches X before it is due, though
// posts are claimed a lead early.
func TestNeverPublishedEarly(t *testing.T) {
	const n = 20
	lx := newLatenessX(t, n)
	base := time.Now().Add(time.Second).Truncate(time.Millisecond)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * 7 * time.Millisecond) }
	seedAndStart(t, lx, n, at)
	lx.wait(t, 30*time.Second)
	for i, got := range lx.arrivals(t) {
		if got.Before(at(i)) {
			t.Errorf("post %d reached X %v before it was due", i, at(i).Sub(got))
		}
	}
}
