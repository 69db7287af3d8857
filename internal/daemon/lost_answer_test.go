package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/publishing"
	"github.com/psnd/psnd/internal/sqlstore"
)

// Regression tests for answers X never sent (issue 9): the lookup that
// follows must find the tweet however many posts came after it, whatever
// the script of its text, and a failed lookup is not a failed create.

// manyCreates lifts the fake's 100-per-15-minutes create limit: these tests
// publish more than that at one fake instant.
// The lookup's window and first page as internal/publishing sets them
// (reconcileSlack, reconcileFirstPage), seen here from X's side.
const (
	reconcileSlack     = 5 * time.Minute
	reconcileFirstPage = 5
)

var manyCreates = fakex.Options{RateLimits: map[string]int{"POST /2/tweets": 100000}}

// publishOthers publishes n single posts of the same account and waits for
// them: more tweets newer than a lost one than any fixed page count reads.
func publishOthers(h *harness, n int) {
	h.t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = h.create(api.CreatePost{Text: fmt.Sprintf("other post %d, şimdi 東京 🚀 https://example.org/p/%d", i, i), Now: true}).ID
	}
	for _, id := range ids {
		h.waitPost(id, isStatus("published"))
	}
}

// assertOnceOnX checks that every tweet of the post is on X exactly once
// (by text) and recorded with X's id.
func assertOnceOnX(t *testing.T, h *harness, got api.Post, texts []string) {
	t.Helper()
	if got.Status != "published" {
		t.Fatalf("status %s (%s), want published", got.Status, reason(got))
	}
	byText := map[string][]string{}
	for _, tw := range h.x.Tweets() {
		if !tw.Deleted {
			byText[tw.Posted] = append(byText[tw.Posted], tw.ID)
		}
	}
	for i, text := range texts {
		ids := byText[text]
		if len(ids) != 1 {
			t.Fatalf("tweet %d %q is on X %d times", i, text, len(ids))
		}
		if got.Tweets[i].PlatformPostID == nil || *got.Tweets[i].PlatformPostID != ids[0] {
			t.Fatalf("tweet %d recorded as %v, X has %s", i, got.Tweets[i].PlatformPostID, ids[0])
		}
	}
	if len(got.PlatformPostIDs) != len(texts) {
		t.Fatalf("platform_post_ids %v, want %d ids", got.PlatformPostIDs, len(texts))
	}
}

func TestLostAnswerFoundAfterMoreThan100NewerPosts(t *testing.T) {
	h := newHarnessX(t, manyCreates)
	h.start()
	texts := []string{"Thread: the first answer is lost https://Example.com/Start", "second tweet", "third tweet"}
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Tweets: texts, Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	publishOthers(h, 101)
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
	assertOnceOnX(t, h, got, texts)
	// The lookup is bounded by time (from just before the send mark), not
	// by ids, and starts with a small page.
	lookups := 0
	for _, r := range h.x.Requests() {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.Path, "/tweets") {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		start, err := time.Parse(time.RFC3339, q.Get("start_time"))
		if err != nil || start.After(t0) || start.Before(t0.Add(-reconcileSlack)) || q.Get("since_id") != "" {
			t.Errorf("lookup %s: want start_time just before the send mark, no since_id", r.Query)
		}
		if lookups == 0 && q.Get("max_results") != strconv.Itoa(reconcileFirstPage) {
			t.Errorf("first lookup page %s", r.Query)
		}
		lookups++
	}
	if lookups < 2 {
		t.Errorf("%d timeline requests: the lookup did not page", lookups)
	}
}

// TestRetryFindsTweetAnOlderPsndLostTrackOf: an older psnd cleared the send
// mark when X answered "duplicate content" and failed the thread, with its
// first tweet on X unrecorded and more than 100 posts since. `psnd retry`
// must find that tweet, not fail again.
func TestRetryFindsTweetAnOlderPsndLostTrackOf(t *testing.T) {
	h := newHarnessX(t, manyCreates)
	h.start()
	texts := []string{"İlk tweet: cevap kayboldu https://Example.com/Yol", "ikinci", "üçüncü"}
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Tweets: texts, Now: true})
	h.waitPost(p.ID, isStatus("retry"))
	setOldFailure(t, h, p.ID)
	h.clock.Advance(time.Hour)
	publishOthers(h, 101)
	h.clock.Advance(time.Hour)
	if err := h.call(http.MethodPost, fmt.Sprintf("/v1/posts/%d/retry", p.ID), struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	got := h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
	assertOnceOnX(t, h, got, texts)
}

// setOldFailure leaves a post as psnd before issue 9 did after a duplicate
// answer it could not explain: failed, send marks cleared.
func setOldFailure(t *testing.T, h *harness, id int64) {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), h.cfg.Env.DBPath(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec(`UPDATE posts SET status = 'failed', sub_status = '', next_retry_at = NULL,
		fail_reason = 'You are not allowed to create a Tweet with duplicate content.', send_started_at = NULL
		WHERE id = ? OR parent_post_id = ?`, id, id); err != nil {
		t.Fatal(err)
	}
}

// TestLostAnswerNonASCIIText: lower-casing changes the byte length of Ⱥ
// and İ; the comparison once sliced the original text at offsets found in
// the lower-cased one (a panic, a crash loop, or a tweet psnd did not
// recognise as its own).
func TestLostAnswerNonASCIIText(t *testing.T) {
	for _, text := range []string{
		"ȺȺȺȺ https://example.com",
		"İstanbul'da buluşalım https://Example.com/Yol",
		"fish & chips <3 at Ⱥ https://EXAMPLE.com/ı?q=İ and example.org",
	} {
		t.Run(text, func(t *testing.T) {
			h := newHarness(t)
			h.start()
			h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
			p := h.create(api.CreatePost{Text: text, Now: true})
			got := h.waitPost(p.ID, isStatus("retry"))
			h.clock.Set(*got.NextRetryAt)
			h.alarm.Fire()
			got = h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
			assertOnceOnX(t, h, got, []string{text})
			if len(h.creates()) != 1 {
				t.Fatalf("%d creates answered, want 1", len(h.creates()))
			}
		})
	}
}

// TestLookupFailuresDoNotBurnRetries: X's timeline answers 503 more often
// than the retry limit allows creates to fail; the post is only waiting to
// learn whether its tweet landed, and must end published, once.
func TestLookupFailuresDoNotBurnRetries(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	h.x.Inject(fakex.Fault{Method: http.MethodGet, Path: "/2/users/*/tweets", Times: 5, Kind: fakex.FaultStatus, Status: 503})
	text := "lookups fail for a while"
	p := h.create(api.CreatePost{Text: text, Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	last := *got.NextRetryAt
	lookups := 0
	for got.Status != "published" {
		if got.Status == "failed" {
			t.Fatalf("failed after %d failed lookups: %s", lookups, reason(got))
		}
		if lookups > 0 && sub(got) != "retry_1" {
			t.Fatalf("after %d failed lookups sub_status %q, want retry_1 still", lookups, sub(got))
		}
		if lookups > 10 {
			t.Fatalf("still waiting after %d lookups: %+v", lookups, got)
		}
		h.clock.Set(last)
		h.alarm.Fire()
		got = h.waitPost(p.ID, func(p api.Post) bool {
			return p.Status == "published" || p.Status == "failed" ||
				(p.Status == "retry" && p.NextRetryAt != nil && !p.NextRetryAt.Equal(last))
		})
		if got.NextRetryAt != nil {
			last = *got.NextRetryAt
		}
		lookups++
	}
	assertOnceOnX(t, h, got, []string{text})
}

// panicTokens panics when asked for a token: a stand-in for any bug in a
// publish attempt.
type panicTokens struct{ publishing.TokenSource }

func (panicTokens) Token(context.Context, string) (string, error) { panic("boom in token source") }

// TestPanicFailsPostNotDaemon: a panic while publishing fails that post with
// a reason; the daemon keeps serving.
func TestPanicFailsPostNotDaemon(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Tokens = panicTokens{h.tokens} })
	h.start()
	p := h.create(api.CreatePost{Text: "this one hits a bug", Now: true})
	got := h.waitPost(p.ID, isStatus("failed"))
	if !strings.Contains(reason(got), "internal error") || !strings.Contains(reason(got), "boom") {
		t.Fatalf("fail reason %q", reason(got))
	}
	var health map[string]any
	if err := h.call(http.MethodGet, api.PathHealth, nil, &health); err != nil {
		t.Fatalf("daemon gone after a publish panic: %v", err)
	}
}

// X bills owned reads per post returned, so the lookup asks for as few
// as it may (X's minimum, 5), and inside a thread only for what came
// after the tweet before: the lost answer of a long thread's last tweet
// costs one read, not the whole thread.
func TestLostAnswerLookupReadsFew(t *testing.T) {
	h := newHarness(t)
	h.start()
	texts := lines(8, "thread tweet %d: ünïcödé 東京")
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Skip: 7, Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Tweets: texts, Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
	assertOnceOnX(t, h, got, texts)
	if u := h.usage("").Accounts[0]; u.ReadRequests != 1 || u.Reads != 1 {
		t.Errorf("lookup read %d posts in %d requests, want 1 in 1", u.Reads, u.ReadRequests)
	}
}

// TestResumedThreadLookupReadsFew: a thread stopped after its first tweet
// and resumed days later with `psnd retry`, whose next answer is then
// lost, is looked up from just before that send. The tweet before is a
// lower bound too, but a days-old one: since_id on it would read (and X
// would bill) every post of the days between.
func TestResumedThreadLookupReadsFew(t *testing.T) {
	h := newHarnessX(t, manyCreates)
	h.start()
	texts := []string{"resumed thread, part one: 東京 İstanbul", "resumed thread, part two: مرحبا 🪁"}
	body := `{"title":"Forbidden","detail":"Policy says no.","type":"about:blank","status":403}`
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Skip: 1, Times: 1, Kind: fakex.FaultStatus, Status: 403, Body: body})
	p := h.create(api.CreatePost{Tweets: texts, Now: true})
	if got := h.waitPost(p.ID, isStatus("failed")); sub(got) != "thread_partial" {
		t.Fatalf("after the refusal: %s (%s)", sub(got), reason(got))
	}
	// The user posts on, and retries the thread three days later.
	publishOthers(h, 30)
	h.clock.Set(h.clock.Now().Add(72 * time.Hour))
	before := h.usage("").Accounts[0]
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	if err := h.call(http.MethodPost, fmt.Sprintf("/v1/posts/%d/retry", p.ID), struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	got := h.waitPost(p.ID, isStatus("retry"))
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
	assertOnceOnX(t, h, got, texts)
	after := h.usage("").Accounts[0]
	if reads := after.Reads - before.Reads; reads > reconcileFirstPage {
		t.Errorf("the lookup read %d posts (the %d of the days between), want at most one page of %d", reads, 30, reconcileFirstPage)
	}
}
