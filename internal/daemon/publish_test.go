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
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

func ptr[T any](v T) *T { return &v }

func TestPostNowPublishesOnce(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.create(api.CreatePost{Text: "hello world", Now: true})
	got := h.waitPost(p.ID, isStatus("published"))
	if got.Tweets[0].PlatformPostID == nil || got.PublishedAt == nil || len(got.PlatformPostIDs) != 1 {
		t.Fatalf("published post lacks ids: %+v", got)
	}
	c := h.creates()
	if len(c) != 1 || c[0].TweetID != *got.Tweets[0].PlatformPostID || c[0].UserID != testUser {
		t.Fatalf("creates at X = %+v", c)
	}
}

func TestScheduledPostWaitsForItsTime(t *testing.T) {
	h := newHarness(t)
	h.start()
	at := t0.Add(90 * time.Minute)
	p := h.create(api.CreatePost{Text: "later", At: &at})
	if next := h.waitArm(); !next.Equal(at) {
		t.Fatalf("armed for %v, want %v", next, at)
	}
	// A wake-up before the time (e.g. a spurious alarm) publishes nothing.
	h.advance(89 * time.Minute)
	h.waitArm()
	if n := len(h.creates()); n != 0 {
		t.Fatalf("%d creates before the scheduled time", n)
	}
	h.advance(time.Minute)
	h.waitPost(p.ID, isStatus("published"))
	if n := len(h.creates()); n != 1 {
		t.Fatalf("%d creates, want 1", n)
	}
}

func TestOrderingAndSameInstant(t *testing.T) {
	h := newHarness(t)
	h.start()
	// Three posts at distinct times, created out of order, and 40 posts due
	// at the same instant.
	var ids []int64
	for _, m := range []int{30, 10, 20} {
		at := t0.Add(time.Duration(m) * time.Minute)
		ids = append(ids, h.create(api.CreatePost{Text: fmt.Sprintf("at +%dm", m), At: &at}).ID)
	}
	same := t0.Add(time.Hour)
	var sameIDs []int64
	for i := range 40 {
		sameIDs = append(sameIDs, h.create(api.CreatePost{Text: fmt.Sprintf("same instant %d", i), At: &same}).ID)
	}
	h.drainArms()
	for _, m := range []int{10, 20, 30} {
		h.clock.Set(t0.Add(time.Duration(m) * time.Minute))
		h.alarm.Fire()
		want := fmt.Sprintf("at +%dm", m)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && !posted(h, want) {
			time.Sleep(time.Millisecond)
		}
		c := h.creates()
		if len(c) == 0 || !posted(h, want) {
			t.Fatalf("%q not posted at +%dm", want, m)
		}
	}
	texts := tweetTexts(h)
	if strings.Join(texts, "|") != "at +10m|at +20m|at +30m" {
		t.Fatalf("order = %v", texts)
	}
	h.clock.Set(same)
	h.alarm.Fire()
	for _, id := range sameIDs {
		h.waitPost(id, isStatus("published"))
	}
	if n := len(h.creates()); n != 43 {
		t.Fatalf("%d creates, want 43 (each post once)", n)
	}
	_ = ids
}

func posted(h *harness, text string) bool {
	for _, s := range tweetTexts(h) {
		if s == text {
			return true
		}
	}
	return false
}

func tweetTexts(h *harness) []string {
	var out []string
	for _, tw := range h.x.Tweets() {
		out = append(out, tw.Text)
	}
	return out
}

func TestThreadPostedAsReplyChain(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.create(api.CreatePost{Tweets: lines(5, "part %d of the thread"), Now: true})
	got := h.waitPost(p.ID, isStatus("published"))
	c := h.creates()
	if len(c) != 5 {
		t.Fatalf("%d creates, want 5", len(c))
	}
	for i, r := range c {
		if i == 0 && r.ReplyTo != "" {
			t.Errorf("first tweet is a reply to %s", r.ReplyTo)
		}
		if i > 0 && r.ReplyTo != c[i-1].TweetID {
			t.Errorf("tweet %d replies to %s, want %s", i, r.ReplyTo, c[i-1].TweetID)
		}
		if *got.Tweets[i].PlatformPostID != r.TweetID || got.PlatformPostIDs[i] != r.TweetID {
			t.Errorf("tweet %d id recorded %v, X has %s", i, got.Tweets[i].PlatformPostID, r.TweetID)
		}
	}
}

func TestTransientErrorsRetryThreeTimesThenFail(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 4, Kind: fakex.FaultStatus, Status: 503})
	p := h.create(api.CreatePost{Text: "flaky", Now: true})
	wantDelays := []time.Duration{20 * time.Second, 80 * time.Second, 320 * time.Second}
	for i, d := range wantDelays {
		got := h.waitPost(p.ID, isStatus("retry"))
		if sub(got) != fmt.Sprintf("retry_%d", i+1) {
			t.Fatalf("attempt %d: sub_status %q", i+1, sub(got))
		}
		want := h.clock.Now().Add(d)
		if got.NextRetryAt == nil || !got.NextRetryAt.Equal(want) {
			t.Fatalf("retry %d at %v, want %v", i+1, got.NextRetryAt, want)
		}
		h.clock.Set(want)
		h.alarm.Fire()
		h.waitPost(p.ID, func(p api.Post) bool { return sub(p) != fmt.Sprintf("retry_%d", i+1) })
	}
	got := h.waitPost(p.ID, isStatus("failed"))
	if !strings.Contains(reason(got), "gave up after 3 retries") || !strings.Contains(reason(got), "503") {
		t.Fatalf("fail reason %q", reason(got))
	}
	if n := len(h.creates()); n != 0 {
		t.Fatalf("%d tweets created", n)
	}
}

func TestRetryAfterTransientSucceeds(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 500})
	p := h.create(api.CreatePost{Text: "second time lucky", Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, isStatus("published"))
	if sub(got) != "" || reason(got) != "" {
		t.Fatalf("published post keeps sub %q reason %q", sub(got), reason(got))
	}
}

func TestRateLimitWaitsUntilReset(t *testing.T) {
	h := newHarness(t)
	h.start()
	reset := t0.Add(7 * time.Minute)
	hdr := http.Header{}
	hdr.Set("x-rate-limit-limit", "100")
	hdr.Set("x-rate-limit-remaining", "0")
	hdr.Set("x-rate-limit-reset", fmt.Sprint(reset.Unix()))
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 429, Header: hdr})
	p := h.create(api.CreatePost{Text: "busy", Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	if sub(got) != "rate_limited" || got.NextRetryAt == nil || got.NextRetryAt.Before(reset) || got.NextRetryAt.After(reset.Add(2*time.Second)) {
		t.Fatalf("after 429: sub %q next %v, want rate_limited at %v", sub(got), got.NextRetryAt, reset)
	}
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	h.waitPost(p.ID, isStatus("published"))
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultRevokeToken})
	p := h.create(api.CreatePost{Text: "token trouble", Now: true})
	h.waitPost(p.ID, isStatus("published"))
	if h.tokens.forced != 1 {
		t.Fatalf("forced refreshes = %d, want 1", h.tokens.forced)
	}
}

func TestPermanentErrorFailsAtOnceWithXMessage(t *testing.T) {
	h := newHarness(t)
	h.start()
	body := `{"title":"Forbidden","detail":"You are not permitted to reply to this conversation.","type":"about:blank","status":403}`
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 403, Body: body})
	p := h.create(api.CreatePost{Text: "refused", Now: true})
	got := h.waitPost(p.ID, isStatus("failed"))
	if !strings.Contains(reason(got), "not permitted to reply") || sub(got) != "" {
		t.Fatalf("reason %q sub %q", reason(got), sub(got))
	}
}

func TestThreadPartialFailureResumesOnRetry(t *testing.T) {
	h := newHarness(t)
	h.start()
	body := `{"title":"Forbidden","detail":"Policy says no.","type":"about:blank","status":403}`
	// Tweets 1 and 2 go through, tweet 3 is refused once.
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Skip: 2, Times: 1, Kind: fakex.FaultStatus, Status: 403, Body: body})
	p := h.create(api.CreatePost{Tweets: lines(5, "thread tweet %d"), Now: true})
	got := h.waitPost(p.ID, isStatus("failed"))
	if sub(got) != "thread_partial" || len(got.PlatformPostIDs) != 2 || !strings.Contains(reason(got), "tweet 3/5") {
		t.Fatalf("after failure: sub %q ids %v reason %q", sub(got), got.PlatformPostIDs, reason(got))
	}
	// Text of a partly published thread cannot change.
	err := h.call(http.MethodPatch, fmt.Sprintf("/v1/posts/%d", p.ID), api.EditPost{Text: ptr("new")}, nil)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeConflict {
		t.Fatalf("edit partial thread: %v", err)
	}
	if err := h.call(http.MethodPost, fmt.Sprintf("/v1/posts/%d/retry", p.ID), struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	got = h.waitPost(p.ID, isStatus("published"))
	c := h.creates()
	if len(c) != 5 {
		t.Fatalf("%d creates, want exactly 5", len(c))
	}
	for i := 1; i < 5; i++ {
		if c[i].ReplyTo != c[i-1].TweetID {
			t.Fatalf("chain broken at %d: %+v", i, c)
		}
	}
	if sub(got) != "" {
		t.Fatalf("sub_status %q after success", sub(got))
	}
}

func TestCommitThenDropIsReconciledNotReposted(t *testing.T) {
	h := newHarness(t)
	h.start()
	// X creates tweet 2 of 3 but the answer never arrives.
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Skip: 1, Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Tweets: lines(3, "dropped answer %d"), Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	if sub(got) != "retry_1" {
		t.Fatalf("sub %q", sub(got))
	}
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, isStatus("published"))
	c := h.creates()
	if len(c) != 3 {
		t.Fatalf("%d tweets on X, want 3 (no duplicate)", len(c))
	}
	for i := range 3 {
		if *got.Tweets[i].PlatformPostID != c[i].TweetID {
			t.Fatalf("tweet %d recorded %s, X has %s", i, *got.Tweets[i].PlatformPostID, c[i].TweetID)
		}
	}
}

func TestDuplicateAnswerRecordsExistingTweet(t *testing.T) {
	h := newHarness(t)
	h.start()
	// The answer to the first create is lost, and so is psnd's memory of
	// sending it (the send mark is cleared by hand): the retry meets X's
	// duplicate-content refusal and must find the tweet instead of failing.
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Text: "only once please", Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	clearSendMarks(t, h, p.ID)
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, isStatus("published"))
	c := h.creates()
	if len(c) != 1 || *got.Tweets[0].PlatformPostID != c[0].TweetID {
		t.Fatalf("creates %+v, recorded %v", c, got.Tweets[0].PlatformPostID)
	}
}

func clearSendMarks(t *testing.T, h *harness, id int64) {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), h.cfg.Env.DBPath(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec(`UPDATE posts SET send_started_at = NULL WHERE id = ? OR parent_post_id = ?`, id, id); err != nil {
		t.Fatal(err)
	}
}

func TestDuplicateOfOlderPostFails(t *testing.T) {
	h := newHarness(t)
	h.start()
	// The user posted the same text by hand two hours ago: that tweet is not
	// ours, so psnd reports X's refusal instead of claiming it.
	first := h.create(api.CreatePost{Text: "same words", Now: true})
	h.waitPost(first.ID, isStatus("published"))
	h.clock.Advance(2 * time.Hour)
	p := h.create(api.CreatePost{Text: "same words", Now: true})
	if len(p.Warnings) == 0 {
		t.Errorf("no near-duplicate warning")
	}
	got := h.waitPost(p.ID, isStatus("failed"))
	if !strings.Contains(reason(got), "duplicate") {
		t.Fatalf("reason %q", reason(got))
	}
}

func TestCancelAndEditBeforePublish(t *testing.T) {
	h := newHarness(t)
	h.start()
	at := t0.Add(time.Hour)
	p := h.create(api.CreatePost{Text: "cancel me", At: &at})
	var c api.Post
	if err := h.call(http.MethodPost, fmt.Sprintf("/v1/posts/%d/cancel", p.ID), struct{}{}, &c); err != nil {
		t.Fatal(err)
	}
	if c.Status != "draft" || c.Tweets[0].Text != "cancel me" || c.RunID == p.RunID {
		t.Fatalf("cancelled = %+v", c)
	}
	q := h.create(api.CreatePost{Text: "edit me", At: &at})
	later := t0.Add(2 * time.Hour)
	var e api.Post
	if err := h.call(http.MethodPatch, fmt.Sprintf("/v1/posts/%d", q.ID), api.EditPost{Text: ptr("edited text"), At: &later}, &e); err != nil {
		t.Fatal(err)
	}
	h.drainArms()
	h.advance(time.Hour)
	if next := h.waitArm(); !next.Equal(later) {
		t.Fatalf("armed for %v after edit, want %v", next, later)
	}
	if n := len(h.creates()); n != 0 {
		t.Fatalf("%d creates: cancelled or moved post published", n)
	}
	h.advance(time.Hour)
	h.waitPost(q.ID, isStatus("published"))
	if texts := tweetTexts(h); len(texts) != 1 || texts[0] != "edited text" {
		t.Fatalf("X has %v", texts)
	}
	// A stale client (old run_id) is refused.
	err := h.call(http.MethodPatch, fmt.Sprintf("/v1/posts/%d", p.ID), api.EditPost{Text: ptr("x"), RunID: p.RunID}, nil)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeConflict {
		t.Fatalf("stale edit: %v", err)
	}
}

// TestEditRacesPublish: an edit either lands before the claim (and the
// claim with the old run_id fails) or is refused once publishing started.
func TestEditRacesPublish(t *testing.T) {
	h := newHarness(t)
	s := openStore(t, h.cfg)
	defer s.Close()
	ctx := context.Background()
	at := t0
	var p *post.Post
	err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &at,
			Tweets: []sqlstore.NewTweet{{Text: "v1"}}}, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	stale := sqlstore.DueRef{ID: p.ID, RunID: p.RunID}
	// Edit first: the scheduler's view is stale and its claim is refused.
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.UpdatePost(p.ID, sqlstore.PostUpdate{Tweets: []sqlstore.NewTweet{{Text: "v2"}}}, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.Claim(stale, "me", t0, t0.Add(time.Minute))
		return err
	})
	if !errors.Is(err, sqlstore.ErrStale) {
		t.Fatalf("claim with stale run_id: %v", err)
	}
	// Claim with the current run_id, then edit: refused.
	var cur *post.Post
	s.View(ctx, func(tx *sqlstore.Tx) error { cur, err = tx.GetPost(p.ID); return err })
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.Claim(sqlstore.DueRef{ID: p.ID, RunID: cur.RunID}, "me", t0, t0.Add(time.Minute))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []func(tx *sqlstore.Tx) error{
		func(tx *sqlstore.Tx) error {
			_, err := tx.UpdatePost(p.ID, sqlstore.PostUpdate{Tweets: []sqlstore.NewTweet{{Text: "v3"}}}, t0)
			return err
		},
		func(tx *sqlstore.Tx) error { _, err := tx.CancelPost(p.ID, t0); return err },
		func(tx *sqlstore.Tx) error { _, err := tx.PrepareDelete(p.ID, t0); return err },
	} {
		if err := s.Update(ctx, op); !errors.Is(err, sqlstore.ErrNotEditable) || !strings.Contains(err.Error(), "being published") {
			t.Fatalf("change during publish: %v", err)
		}
	}
}

func TestCatchUpAfterDowntimeAndStaleLease(t *testing.T) {
	h := newHarness(t)
	s := openStore(t, h.cfg)
	ctx := context.Background()
	past := t0.Add(-3 * time.Hour)
	var missed, inflight *post.Post
	err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		var err error
		// Due while the daemon was down (or the laptop asleep).
		missed, err = tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &past,
			Tweets: []sqlstore.NewTweet{{Text: "missed while asleep"}}}, past)
		if err != nil {
			return err
		}
		// Claimed by a daemon that died mid-publish; its lease has not
		// even expired yet.
		inflight, err = tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &past,
			Tweets: []sqlstore.NewTweet{{Text: "left in flight"}}}, past)
		if err != nil {
			return err
		}
		_, err = tx.Claim(sqlstore.DueRef{ID: inflight.ID, RunID: inflight.RunID}, "dead-daemon", t0, t0.Add(time.Hour))
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitPost(missed.ID, isStatus("published"))
	h.waitPost(inflight.ID, isStatus("published"))
	if n := len(h.creates()); n != 2 {
		t.Fatalf("%d creates, want 2", n)
	}
}

func TestNeedsReauthFailsWithInstructions(t *testing.T) {
	h := newHarness(t)
	h.tokens.failErr = fmt.Errorf("refresh token rejected: %w", oauth.ErrNeedsReauth)
	h.start()
	p := h.create(api.CreatePost{Text: "no token", Now: true})
	got := h.waitPost(p.ID, isStatus("failed"))
	if !strings.Contains(reason(got), "psnd auth login") {
		t.Fatalf("reason %q", reason(got))
	}
}

func TestCreateRejectsBadInputLeavingNothing(t *testing.T) {
	h := newHarness(t)
	h.start()
	past := t0.Add(-2 * time.Hour)
	cases := []struct {
		req  api.CreatePost
		code string
		msg  string
	}{
		{api.CreatePost{Text: strings.Repeat("a", 281), Now: true}, api.CodeInvalidText, "281/280"},
		{api.CreatePost{Text: "   ", Now: true}, api.CodeInvalidText, ""},
		{api.CreatePost{Text: "x", At: &past}, api.CodeBadRequest, "in the past"},
		{api.CreatePost{Text: "x"}, api.CodeBadRequest, "when"},
		{api.CreatePost{Text: "x", Now: true, Account: "bob"}, api.CodeNotFound, "bob"},
		{api.CreatePost{Text: "x", Now: true, Media: []api.MediaInput{{Path: "/nonexistent.png"}}}, api.CodeBadRequest, "nonexistent"},
	}
	for _, c := range cases {
		err := h.call(http.MethodPost, "/v1/posts", c.req, nil)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != c.code || !strings.Contains(ae.Message, c.msg) {
			t.Errorf("%+v: err = %v, want %s containing %q", c.req, err, c.code, c.msg)
		}
	}
	var all []api.Post
	if err := h.call(http.MethodGet, "/v1/posts", nil, &all); err != nil || len(all) != 0 {
		t.Fatalf("posts after refusals: %v %v", all, err)
	}
}

func TestAutoSplitThreadWithNumbering(t *testing.T) {
	h := newHarness(t)
	h.start()
	text := strings.Repeat("A sentence about kites and rivers. ", 25) + "\n---\nAn explicit last tweet."
	p := h.create(api.CreatePost{Text: text, Thread: true, Number: true, Now: true})
	n := len(p.Tweets)
	if n < 4 {
		t.Fatalf("%d tweets", n)
	}
	for i, tw := range p.Tweets {
		if tw.WeightedLength > 280 || !strings.HasSuffix(tw.Text, fmt.Sprintf(" %d/%d", i+1, n)) {
			t.Errorf("tweet %d: %q (%d)", i+1, tw.Text, tw.WeightedLength)
		}
	}
	if !strings.HasPrefix(p.Tweets[n-1].Text, "An explicit last tweet.") {
		t.Errorf("explicit split point lost: %q", p.Tweets[n-1].Text)
	}
	h.waitPost(p.ID, isStatus("published"))
	if c := h.creates(); len(c) != n {
		t.Fatalf("%d creates for %d tweets", len(c), n)
	}
	// Without --thread, a part too long for one tweet is refused.
	err := h.call(http.MethodPost, "/v1/posts", api.CreatePost{Text: strings.Repeat("long ", 70), Now: true}, nil)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeInvalidText || !strings.Contains(ae.Message, "349/280") || !strings.Contains(ae.Message, "--thread") {
		t.Fatalf("long single post: %v", err)
	}
}
