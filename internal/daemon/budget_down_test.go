package daemon

import (
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// TestBudgetMonthTurnedWhileDown: a post held by the budget, with media
// pre-flight never uploaded for it (nothing is prepared for a held post),
// goes out at the first start after the UTC month turned while the daemon
// was down, once, with its media uploaded then.
func TestBudgetMonthTurnedWhileDown(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute), func(h *harness) { h.cfg.Env.Budget = "0.2" })
	h.start()
	h.login()
	a := h.create(api.CreatePost{Text: "read https://example.com/東京", Now: true}) // $0.20: the whole budget
	if a = h.waitPost(a.ID, settled); a.Status != api.StatusPublished {
		t.Fatalf("first: %s/%s (%s)", a.Status, sub(a), reason(a))
	}
	due := t0.Add(time.Hour)
	b := h.create(api.CreatePost{Text: "kite İ", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir())}}})
	h.clock.Set(due)
	h.alarm.Fire()
	if b = h.waitPost(b.ID, settled); !b.HeldByBudget() {
		t.Fatalf("second: %s/%s (%s)", b.Status, sub(b), reason(b))
	}
	h.stop()
	h.clock.Set(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)) // the laptop was off over the turn
	h.drainArms()
	h.start()
	if b = h.waitPost(b.ID, done); b.Status != api.StatusPublished {
		t.Fatalf("after the turn: %s/%s (%s)", b.Status, sub(b), reason(b))
	}
	if n := len(h.creates()); n != 2 {
		t.Fatalf("%d creates, want 2", n)
	}
	tw := h.x.Tweets()
	if len(tw[1].MediaIDs) != 1 {
		t.Fatalf("held post went out with media %v", tw[1].MediaIDs)
	}
}
