package daemon

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/publishing"
)

// Issue 14 item 3: PSN_MONTHLY_BUDGET holds a post that would take the
// month's estimated cost past it, through the real local API, scheduler
// and publisher against the spec-validating fake X.

type recordingNotifier struct {
	mu sync.Mutex
	n  []publishing.Notice
}

func (r *recordingNotifier) Notify(n publishing.Notice) {
	r.mu.Lock()
	r.n = append(r.n, n)
	r.mu.Unlock()
}

func (r *recordingNotifier) overBudget(id int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := 0
	for _, n := range r.n {
		if n.Kind == publishing.NoticeOverBudget && n.PostID == id {
			c++
		}
	}
	return c
}

// done: published or failed, not merely held (a post held before a raise
// is settled at once, before the daemon has looked at it again).
func done(p api.Post) bool { return p.Status == api.StatusPublished || p.Status == api.StatusFailed }

func settled(p api.Post) bool {
	return p.Status == api.StatusPublished || p.Status == api.StatusFailed || p.HeldByBudget()
}

// bringBudget runs a request the way a psnd command run with
// PSN_MONTHLY_BUDGET=v does: the value rides on its header.
func (h *harness) bringBudget(v string) api.Health {
	h.t.Helper()
	h.client.Budget = v
	defer func() { h.client.Budget = "" }()
	var hl api.Health
	if err := h.call(http.MethodGet, api.PathHealth, nil, &hl); err != nil {
		h.t.Fatal(err)
	}
	return hl
}

func TestBudgetHoldsAtTheCrossingAndLetsGoWhenRaised(t *testing.T) {
	notes := &recordingNotifier{}
	h := newHarness(t, func(h *harness) {
		h.cfg.Env.Budget = "0.03" // two plain posts at $0.015
		h.cfg.hooks.notifier = notes
	})
	h.start()
	post := func(text string) api.Post {
		t.Helper()
		p := h.create(api.CreatePost{Text: text, Now: true})
		return h.waitPost(p.ID, settled)
	}
	for _, text := range []string{"İlk gönderi 🪁", "東京の二つ目"} {
		if p := post(text); p.Status != api.StatusPublished {
			t.Fatalf("%q within the budget: %s/%s (%s)", text, p.Status, sub(p), reason(p))
		}
	}
	// The month is now exactly at the budget: the third is held, not sent.
	c := post("ثالث — one too many")
	if !c.HeldByBudget() {
		t.Fatalf("third post: %s/%s, want scheduled/over_budget", c.Status, sub(c))
	}
	want := "held by the monthly budget of $0.03 (PSN_MONTHLY_BUDGET): this month's estimated X cost is $0.03 and this post costs $0.015"
	if !strings.HasPrefix(reason(c), want) || !strings.Contains(reason(c), "2026-12-01 00:00 UTC") {
		t.Errorf("reason %q\nwant it to start %q and name the month's turn", reason(c), want)
	}
	if n := len(h.creates()); n != 2 {
		t.Fatalf("X got %d creates, want 2", n)
	}
	if n := notes.overBudget(c.ID); n != 1 {
		t.Errorf("%d notices for the held post, want 1", n)
	}
	hl := h.bringBudget("")
	if hl.HeldOverBudget != 1 || hl.BudgetUSD == nil || *hl.BudgetUSD != 0.03 {
		t.Errorf("health: held %d, budget %v", hl.HeldOverBudget, hl.BudgetUSD)
	}
	u := h.usage("")
	if u.BudgetUSD == nil || *u.BudgetUSD != 0.03 || u.CostUSD != 0.03 || u.HeldOverBudget != 1 {
		t.Errorf("usage: budget %v, cost %v, held %d", u.BudgetUSD, u.CostUSD, u.HeldOverBudget)
	}

	// retry (like --now) on the held post: looked at again, still held,
	// nothing sent, no second notice.
	var r api.Post
	if err := h.call(http.MethodPost, fmt.Sprintf("/v1/posts/%d/retry", c.ID), nil, &r); err != nil {
		t.Fatal(err)
	}
	r = h.waitPost(c.ID, settled)
	if !r.HeldByBudget() || len(h.creates()) != 2 || notes.overBudget(c.ID) != 1 {
		t.Errorf("retry of a held post: %s/%s, %d creates, %d notices", r.Status, sub(r), len(h.creates()), notes.overBudget(c.ID))
	}

	// A raise too small keeps it held; the daemon keeps the value.
	h.bringBudget("0.04")
	if p := h.waitPost(c.ID, func(p api.Post) bool { return strings.Contains(reason(p), "$0.04") }); !p.HeldByBudget() {
		t.Fatalf("after a raise to $0.04: %s/%s (%s)", p.Status, sub(p), reason(p))
	}

	// Restart without the variable: the last value a command gave stays in
	// force, and the post stays held.
	h.stop()
	h.cfg.Env.Budget = ""
	h.drainArms()
	h.start()
	if p := h.waitPost(c.ID, settled); !p.HeldByBudget() {
		t.Fatalf("after a restart: %s/%s", p.Status, sub(p))
	}
	if u := h.usage(""); u.BudgetUSD == nil || *u.BudgetUSD != 0.04 {
		t.Fatalf("after a restart the budget is %v, want the last one given, 0.04", u.BudgetUSD)
	}
	if len(h.creates()) != 2 {
		t.Fatal("a restart sent the held post")
	}

	// A command brings a budget that fits it: it goes out.
	h.bringBudget("$0.045")
	if p := h.waitPost(c.ID, done); p.Status != api.StatusPublished {
		t.Fatalf("after the raise to $0.045: %s/%s (%s)", p.Status, sub(p), reason(p))
	}
	if n := len(h.creates()); n != 3 {
		t.Fatalf("X got %d creates, want 3", n)
	}

	// A thread is judged whole: $0.045 of room buys a 3-tweet thread, not
	// $0.03 of it.
	h.bringBudget("0.075")
	th := h.create(api.CreatePost{Tweets: []string{"thread 1 İ", "thread 2 Ⱥ", "thread 3 🪁"}, Now: true})
	if th = h.waitPost(th.ID, settled); !th.HeldByBudget() || !strings.Contains(reason(th), "this post costs $0.045") {
		t.Fatalf("thread over the budget: %s/%s (%s)", th.Status, sub(th), reason(th))
	}
	if n := len(h.creates()); n != 3 {
		t.Fatalf("a thread that cannot finish was started: %d creates", n)
	}
	h.bringBudget("0.09")
	if th = h.waitPost(th.ID, done); th.Status != api.StatusPublished || len(th.PlatformPostIDs) != 3 {
		t.Fatalf("thread within the budget: %s/%s (%s)", th.Status, sub(th), reason(th))
	}

	// "none" removes the budget.
	h.bringBudget("none")
	if p := post("no budget now"); p.Status != api.StatusPublished {
		t.Fatalf("without a budget: %s/%s (%s)", p.Status, sub(p), reason(p))
	}
	if u := h.usage(""); u.BudgetUSD != nil {
		t.Errorf("budget %v after none", *u.BudgetUSD)
	}
}

// TestBudgetMonthTurnReleasesHeldPosts: a held post goes out when the UTC
// month turns; the scheduler arms its alarm for that instant instead of
// polling.
func TestBudgetMonthTurnReleasesHeldPosts(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Env.Budget = "0.2" })
	h.start()
	a := h.create(api.CreatePost{Text: "read https://example.com/İ", Now: true}) // $0.20: exactly the budget
	if a = h.waitPost(a.ID, settled); a.Status != api.StatusPublished {
		t.Fatalf("first: %s/%s (%s)", a.Status, sub(a), reason(a))
	}
	b := h.create(api.CreatePost{Text: "東京 no link", Now: true})
	if b = h.waitPost(b.ID, settled); !b.HeldByBudget() {
		t.Fatalf("second: %s/%s (%s)", b.Status, sub(b), reason(b))
	}
	turn := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	deadline := time.Now().Add(20 * time.Second)
	for {
		h.alarm.mu.Lock()
		at := h.alarm.at
		h.alarm.mu.Unlock()
		if at.Equal(turn) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarm armed for %v, want the month's turn %v", at, turn)
		}
		h.waitArm()
	}
	// Just before the turn nothing moves.
	h.clock.Set(turn.Add(-time.Second))
	h.alarm.Fire()
	h.waitArm()
	if p := h.waitPost(b.ID, settled); !p.HeldByBudget() {
		t.Fatalf("before the turn: %s/%s", p.Status, sub(p))
	}
	h.clock.Set(turn)
	h.alarm.Fire()
	if p := h.waitPost(b.ID, func(p api.Post) bool { return p.Status == api.StatusPublished }); p.PublishedAt == nil || p.PublishedAt.Before(turn) {
		t.Fatalf("after the turn: %+v", p)
	}
	// November's counts stay November's: the new month starts afresh.
	if u := h.usage("2026-11"); u.CostUSD != 0.2 {
		t.Errorf("November's cost %v, want 0.2", u.CostUSD)
	}
	if u := h.usage("2026-12"); u.Accounts[0].Posts == 0 {
		t.Errorf("December counted nothing: %+v", u.Accounts)
	}
	_ = context.Background
}

// `psnd usage` re-reads $PSN_HOME/prices.json and calls its cost_usd
// "what the budget is measured against": the budget must then measure
// with the same prices. It used to keep the daemon's start-up prices
// until a SIGHUP, so usage showed the month at the budget while the
// budget let another post out.
func TestBudgetMeasuresWithThePricesUsageShows(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Env.Budget = "0.03" })
	h.start()
	a := h.create(api.CreatePost{Text: "first at $0.015 İ", Now: true})
	if a = h.waitPost(a.ID, settled); a.Status != api.StatusPublished {
		t.Fatalf("first: %s/%s (%s)", a.Status, sub(a), reason(a))
	}
	if err := os.WriteFile(filepath.Join(h.cfg.Env.Home, "prices.json"), []byte(`{"post_usd": 0.02, "as_of": "2026-11-20", "source": "my contract"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if u := h.usage(""); u.CostUSD != 0.02 {
		t.Fatalf("usage cost %v with the new prices, want 0.02", u.CostUSD)
	}
	// $0.02 spent + $0.02 is past $0.03: held, as usage's numbers say.
	b := h.create(api.CreatePost{Text: "second 東京", Now: true})
	if b = h.waitPost(b.ID, settled); !b.HeldByBudget() || !strings.Contains(reason(b), "this post costs $0.02") {
		t.Fatalf("second: %s/%s (%s), want held at the prices usage showed", b.Status, sub(b), reason(b))
	}
}

// failOnce fails the first Token call after it is armed: a publish that
// ends before sending anything (a keyring or network hiccup).
type failOnce struct {
	*fakeTokens
	mu    sync.Mutex
	armed bool
}

func (f *failOnce) Token(ctx context.Context, account string) (string, error) {
	f.mu.Lock()
	armed := f.armed
	f.armed = false
	f.mu.Unlock()
	if armed {
		return "", fmt.Errorf("token endpoint: %w", context.DeadlineExceeded)
	}
	return f.fakeTokens.Token(ctx, account)
}

// A post held because another post's cost was reserved goes out when
// that reservation comes back unspent (its publish ended before sending):
// it used to stay held until the budget changed or the month turned.
func TestBudgetLetsGoWhenAReservationComesBackUnspent(t *testing.T) {
	var ft *failOnce
	h := newHarness(t, func(h *harness) {
		h.cfg.Env.Budget = "0.015" // one plain post
		ft = &failOnce{fakeTokens: h.tokens}
		h.cfg.Tokens = ft
	})
	h.start()
	at := t0.Add(time.Hour)
	a := h.create(api.CreatePost{Text: "first in line İ", At: &at})
	b := h.create(api.CreatePost{Text: "second in line 東京", At: &at})
	h.drainArms()
	ft.mu.Lock()
	ft.armed = true
	ft.mu.Unlock()
	h.clock.Set(at)
	h.alarm.Fire()
	// a was admitted (its $0.015 reserved) and b held; a's publish then
	// ended unsent, so the month has room for b.
	if p := h.waitPost(a.ID, func(p api.Post) bool { return p.Status == api.StatusRetry }); len(h.creates()) != 0 {
		t.Fatalf("a: %s/%s, %d creates", p.Status, sub(p), len(h.creates()))
	}
	if p := h.waitPost(b.ID, done); p.Status != api.StatusPublished {
		t.Fatalf("b after a's reservation came back: %s/%s (%s)", p.Status, sub(p), reason(p))
	}
}

// The command that raises the budget is answered once the held posts
// were looked at: it used to report them still held ("1 post is held by
// the monthly budget of $<the new budget>") because the scheduler let
// them go only after the answer.
func TestBudgetRaiseAnswersAfterHeldPostsAreLetGo(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Env.Budget = "0.015" })
	h.start()
	a := h.create(api.CreatePost{Text: "fits İ", Now: true})
	h.waitPost(a.ID, done)
	for i := range 3 {
		b := h.create(api.CreatePost{Text: fmt.Sprintf("held %d 東京", i), Now: true})
		if b = h.waitPost(b.ID, settled); !b.HeldByBudget() {
			t.Fatalf("post %d: %s/%s", b.ID, b.Status, sub(b))
		}
	}
	if hl := h.bringBudget("1"); hl.HeldOverBudget != 0 {
		t.Fatalf("the raise to $1 answered with %d posts still held", hl.HeldOverBudget)
	}
}

// A raise that leaves room for a held post lets it go even when an older
// held post is still too dear: it used to wait behind that one for the
// month (while a new post of the same cost went straight out), though it
// would not take the month past the budget (SPEC §9).
func TestBudgetRaiseLetsGoWhatFitsBehindADearerHeldPost(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Env.Budget = "0.015" })
	h.start()
	first := h.create(api.CreatePost{Text: "fits İ", Now: true})
	h.waitPost(first.ID, done)
	dear := h.create(api.CreatePost{Text: "dear https://example.com/東京", Now: true})
	if dear = h.waitPost(dear.ID, settled); !dear.HeldByBudget() {
		t.Fatalf("URL post: %s/%s", dear.Status, sub(dear))
	}
	cheap := h.create(api.CreatePost{Text: "cheap 🪁", Now: true})
	if cheap = h.waitPost(cheap.ID, settled); !cheap.HeldByBudget() {
		t.Fatalf("plain post: %s/%s", cheap.Status, sub(cheap))
	}
	h.bringBudget("0.03") // room for the plain post, not the URL one
	if p := h.waitPost(cheap.ID, done); p.Status != api.StatusPublished {
		t.Fatalf("plain post after the raise: %s/%s (%s)", p.Status, sub(p), reason(p))
	}
	if p := h.waitPost(dear.ID, settled); !p.HeldByBudget() {
		t.Fatalf("URL post after the raise: %s/%s", p.Status, sub(p))
	}
}
