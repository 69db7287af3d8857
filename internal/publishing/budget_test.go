package publishing

import (
	"context"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/pricing"
)

func TestPostCost(t *testing.T) {
	prices := pricing.Default
	prices.MediaUpload = 0.01
	th := &post.Post{Tweets: []post.Tweet{
		{Text: "İstanbul 東京 🪁", PlatformPostID: "111"}, // already on X: not counted again
		{Text: "read https://example.com/Ⱥ", Media: []post.Media{{}, {}}},
		{Text: "שלום example.org"},
		{Text: "no link, 凧"},
	}}
	// Two creates with a URL, one without, two uploads.
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if got, want := PostCost(th, prices, now), prices.Cost(1, 2, 2, 0); got != want || got != 0.435 {
		t.Errorf("PostCost = %v, want %v (0.435)", got, want)
	}
	// Media pre-flight uploaded, still good at the due time, is not paid
	// again; an id about to expire is.
	good, soon := now.Add(time.Hour), now.Add(time.Minute)
	th.Tweets[1].Media[0] = post.Media{XMediaID: "m1", MediaExpiresAt: &good}
	th.Tweets[1].Media[1] = post.Media{XMediaID: "m2", MediaExpiresAt: &soon}
	if got, want := PostCost(th, prices, now), prices.Cost(1, 2, 1, 0); got != want {
		t.Errorf("PostCost with one upload done = %v, want %v", got, want)
	}
}

// TestBudgetAdmitsUpToTheExactCrossing: sums of binary fractions must not
// hold the post that brings the month exactly to the budget.
func TestBudgetAdmitsUpToTheExactCrossing(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	b := NewBudget(0.3, pricing.Default, nil, nil)
	b.month = "2026-11"
	for i := range 20 { // 20 × 0.015 = 0.3, not 0.30000000000000004
		if ok, reason := b.admit(int64(i+1), 0.015, false, now); !ok {
			t.Fatalf("post %d of 20 held: %s", i+1, reason)
		}
	}
	ok, reason := b.admit(21, 0.015, false, now)
	if ok {
		t.Fatal("the 21st post was admitted past the budget")
	}
	want := "held by the monthly budget of $0.3 (PSN_MONTHLY_BUDGET): this month's estimated X cost is $0.3 and this post costs $0.015; raise the budget, or it goes out when the month turns (2026-12-01 00:00 UTC)"
	if reason != want {
		t.Errorf("reason\n got %q\nwant %q", reason, want)
	}
	// A thread already part-way is finished whatever the budget says.
	if ok, _ := b.admit(22, 0.2, true, now); !ok {
		t.Error("a started thread was held")
	}
	// A released reservation makes room again.
	b.release(22)
	b.release(1)
	if ok, _ := b.admit(23, 0.015, false, now); !ok {
		t.Error("no room after a release")
	}
	if nextMonth(time.Date(2026, 12, 31, 23, 0, 0, 0, time.FixedZone("x", -5*3600))) != time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC) {
		t.Error("nextMonth must use the UTC month")
	}
}

type nopCounter struct{}

func (nopCounter) CountXRequest(context.Context, string, time.Time, string, int) error { return nil }
func (nopCounter) RecordUserCap(context.Context, string, int, int, time.Time, time.Time) error {
	return nil
}

// TestBudgetReadsDoNotEatACreatesReservation: the reads of a lookup
// (reconciliation) are spent money of their own; they used to be taken
// off the post's reserved create too, so the month looked $0.01 cheaper
// than it was while the create was pending, and a post that did not fit
// was let out.
func TestBudgetReadsDoNotEatACreatesReservation(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	b := NewBudget(0.035, pricing.Default, nopCounter{}, nil)
	b.month = "2026-11"
	if ok, reason := b.admit(1, 0.015, false, now); !ok {
		t.Fatal(reason)
	}
	// Post 1's lookup read 10 posts ($0.01) before its create.
	if err := b.countFor(context.Background(), 1, "a", now, "read", 10); err != nil {
		t.Fatal(err)
	}
	// $0.01 read + $0.015 still to come + $0.015 = $0.04 > $0.035.
	if ok, _ := b.admit(2, 0.015, false, now); ok {
		t.Fatal("a post past the budget was admitted while another's create was pending")
	}
	// The create itself turns the reservation into spent money.
	if err := b.countFor(context.Background(), 1, "a", now, "post", 1); err != nil {
		t.Fatal(err)
	}
	if got := b.Estimate(); got != 0.025 {
		t.Errorf("estimate %v, want 0.025", got)
	}
	if r := b.reserved[1]; r != 0 {
		t.Errorf("post 1 still reserves %d units after its create", r)
	}
}

// A post dearer than the whole budget never fits, however the month
// turns: its reason must not promise that it goes out then.
func TestBudgetReasonForAPostDearerThanTheBudget(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	b := NewBudget(0.1, pricing.Default, nopCounter{}, nil)
	b.month = "2026-11"
	ok, reason := b.admit(1, 0.2, false, now)
	if ok {
		t.Fatal("a $0.20 post was admitted under a $0.10 budget")
	}
	want := "held by the monthly budget of $0.1 (PSN_MONTHLY_BUDGET): this post alone costs $0.2, more than the whole budget; it goes out only when the budget is raised"
	if reason != want {
		t.Errorf("reason\n got %q\nwant %q", reason, want)
	}
}
