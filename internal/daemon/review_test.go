package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// Regression tests for defects found in review.

func liveTweets(h *harness) []string {
	var live []string
	for _, tw := range h.x.Tweets() {
		if !tw.Deleted {
			live = append(live, tw.Text)
		}
	}
	return live
}

// After a create whose answer was lost, the tweet may be on X: editing,
// cancelling or deleting the post would lose track of it, so they are
// refused until a retry has looked it up.
func TestChangesRefusedWhileSendUnanswered(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Text: "launch is at 9", Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPatch, fmt.Sprintf("/v1/posts/%d", p.ID), api.EditPost{Text: ptr("launch is at 10")}},
		{http.MethodPost, fmt.Sprintf("/v1/posts/%d/cancel", p.ID), struct{}{}},
		{http.MethodDelete, fmt.Sprintf("/v1/posts/%d?remote=true", p.ID), nil},
	} {
		err := h.call(c.method, c.path, c.body, nil)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.CodeConflict || !strings.Contains(ae.Message, "cannot tell yet") {
			t.Errorf("%s %s: %v, want a conflict saying psnd cannot tell yet", c.method, c.path, err)
		}
	}
	// The retry looks the tweet up and records it: one tweet on X.
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	h.waitPost(p.ID, isStatus("published"))
	if live := liveTweets(h); len(live) != 1 || live[0] != "launch is at 9" {
		t.Fatalf("X has %q", live)
	}
}

// A definite refusal clears the send mark: the post may be edited again.
func TestRefusalAllowsEdit(t *testing.T) {
	h := newHarness(t)
	h.start()
	body := `{"title":"Forbidden","detail":"Policy says no.","type":"about:blank","status":403}`
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 403, Body: body})
	p := h.create(api.CreatePost{Text: "first words", Now: true})
	h.waitPost(p.ID, isStatus("failed"))
	if err := h.call(http.MethodPatch, fmt.Sprintf("/v1/posts/%d", p.ID), api.EditPost{Text: ptr("better words")}, nil); err != nil {
		t.Fatalf("edit after a refusal: %v", err)
	}
	// Retrying posts the new text without a (billed) timeline lookup.
	if err := h.call(http.MethodPost, fmt.Sprintf("/v1/posts/%d/retry", p.ID), struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	h.waitPost(p.ID, isStatus("published"))
	if n := timelineReads(h); n != 0 {
		t.Fatalf("%d timeline reads, want 0", n)
	}
}

func timelineReads(h *harness) int {
	n := 0
	for _, r := range h.x.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/tweets") {
			n++
		}
	}
	return n
}

// Two psnd posts with the same text: X refuses the second as a duplicate,
// and the lookup must not adopt the first post's tweet (which also used to
// loop forever on the unique index). The second fails with X's message.
func TestDuplicateOfAnotherPostFails(t *testing.T) {
	h := newHarness(t)
	h.start()
	a := h.create(api.CreatePost{Text: "same words", Now: true})
	h.waitPost(a.ID, isStatus("published"))
	b := h.create(api.CreatePost{Text: "same words", Now: true})
	got := h.waitPost(b.ID, func(p api.Post) bool { return p.Status == "failed" || p.Status == "retry" })
	if got.Status != "failed" || !strings.Contains(reason(got), "duplicate") || len(got.PlatformPostIDs) != 0 {
		t.Fatalf("second post: %s %q ids %v", got.Status, reason(got), got.PlatformPostIDs)
	}
}

// delete --yes fences the post first: a retry due during the deletion can
// no longer publish more of the thread.
func TestDeleteFencedAgainstRetry(t *testing.T) {
	h := newHarness(t)
	h.start()
	// Tweet 1 lands, tweet 2 is rate limited (a definite refusal): the
	// thread waits for the reset with one tweet on X.
	hdr := http.Header{}
	hdr.Set("x-rate-limit-limit", "100")
	hdr.Set("x-rate-limit-remaining", "0")
	hdr.Set("x-rate-limit-reset", fmt.Sprint(t0.Add(10*time.Minute).Unix()))
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Skip: 1, Times: 1, Kind: fakex.FaultStatus, Status: 429, Header: hdr})
	p := h.create(api.CreatePost{Tweets: lines(3, "thread part %d"), Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	// Slow X's delete answers so the retry falls due in the middle.
	h.x.Inject(fakex.Fault{Method: http.MethodDelete, Path: "/2/tweets/*", Times: -1, Delay: 300 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- h.call(http.MethodDelete, fmt.Sprintf("/v1/posts/%d?remote=true", p.ID), nil, nil) }()
	// Once the deletion reached X, fire the retry's alarm.
	deadline := time.Now().Add(10 * time.Second)
	for !sawDelete(h) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	h.drainArms()
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	if err := <-done; err != nil {
		t.Fatalf("delete: %v", err)
	}
	if live := liveTweets(h); len(live) != 0 {
		t.Fatalf("tweets left on X after delete: %q", live)
	}
}

func sawDelete(h *harness) bool {
	for _, r := range h.x.Requests() {
		if r.Method == http.MethodDelete {
			return true
		}
	}
	return false
}

// A 401 on the media upload refreshes the token once, as on the create.
func TestUnauthorizedOnUploadRefreshes(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/media/upload", Times: 1, Kind: fakex.FaultRevokeToken})
	src := writePNG(t, t.TempDir())
	p := h.create(api.CreatePost{Text: "pic", Now: true, Media: []api.MediaInput{{Path: src}}})
	got := h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
	if got.Status != "published" || h.tokens.forced != 1 {
		t.Fatalf("status %s, forced refreshes %d, reason %q", got.Status, h.tokens.forced, reason(got))
	}
}

// The three-retry limit counts transient failures even when a rate limit
// comes in between (the sub-status alone used to forget the count).
func TestRetryLimitSurvivesRateLimit(t *testing.T) {
	h := newHarness(t)
	h.start()
	hdr := http.Header{}
	hdr.Set("x-rate-limit-limit", "100")
	hdr.Set("x-rate-limit-remaining", "0")
	hdr.Set("x-rate-limit-reset", fmt.Sprint(t0.Add(time.Hour).Unix()))
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 503})
	// Faults apply in turn: each takes the requests the earlier ones left.
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 429, Header: hdr})
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 3, Kind: fakex.FaultStatus, Status: 503})
	p := h.create(api.CreatePost{Text: "unlucky", Now: true})
	want := []string{"retry_1", "rate_limited", "retry_2", "retry_3"}
	for _, w := range want {
		got := h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "retry" && sub(p) == w })
		h.clock.Set(*got.NextRetryAt)
		h.alarm.Fire()
	}
	got := h.waitPost(p.ID, isStatus("failed"))
	if !strings.Contains(reason(got), "gave up after 3 retries") {
		t.Fatalf("reason %q", reason(got))
	}
}

// A post whose lease lapsed with no live publish behind it is due again,
// whoever held the lease; one a live publish holds is never claimed.
func TestLapsedLeaseIsDueAgain(t *testing.T) {
	h := newHarness(t)
	s := openStore(t, h.cfg)
	defer s.Close()
	ctx := context.Background()
	var p *post.Post
	err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &t0,
			Tweets: []sqlstore.NewTweet{{Text: "x"}}}, t0)
		if err != nil {
			return err
		}
		_, err = tx.Claim(sqlstore.DueRef{ID: p.ID, RunID: p.RunID}, "this-daemon", t0, t0.Add(time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *sqlstore.Tx) error {
		due, err := tx.DueAt(nil, t0.Add(30*time.Second), 10)
		if err != nil || len(due) != 0 {
			return fmt.Errorf("due before the lease lapsed: %v %v", due, err)
		}
		due, err = tx.DueAt(nil, t0.Add(2*time.Minute), 10)
		if err != nil || len(due) != 1 {
			return fmt.Errorf("lapsed lease not due: %v %v", due, err)
		}
		due, err = tx.DueAt([]int64{p.ID}, t0.Add(2*time.Minute), 10)
		if err != nil || len(due) != 0 {
			return fmt.Errorf("busy post listed as due: %v %v", due, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
