package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
)

// Issue 14 items 1 and 2: every request psnd sends to X is counted per
// account, month and kind, durably, and GET /v1/usage reports the counts,
// the estimated cost and the 24-hour cap X reported last.

func (h *harness) usage(month string) api.Usage {
	h.t.Helper()
	var u api.Usage
	path := api.PathUsage
	if month != "" {
		path += "?month=" + month
	}
	if err := h.call(http.MethodGet, path, nil, &u); err != nil {
		h.t.Fatalf("usage: %v", err)
	}
	return u
}

// xRequests counts the requests the fake X received (answered or not)
// whose method and path match.
func xRequests(h *harness, method, pathSuffix string) int {
	n := 0
	for _, r := range h.x.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, pathSuffix) {
			n++
		}
	}
	return n
}

func TestUsageCountsEveryRequestSentToX(t *testing.T) {
	h := newHarnessX(t, fakex.Options{UserDailyTweetLimit: 50})
	h.start()
	published := func(req api.CreatePost) {
		t.Helper()
		p := h.create(req)
		if got := h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" }); got.Status != "published" {
			t.Fatalf("post %q: %s (%s)", req.Text, got.Status, reason(got))
		}
	}
	published(api.CreatePost{Text: "İlk gönderi, no link 東京 🚀", Now: true})
	published(api.CreatePost{Text: "read this: https://example.com/Ⱥ", Now: true})
	published(api.CreatePost{Text: "a picture", Now: true,
		Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "A red dot"}}})

	// A create whose answer is lost: X has the post; psnd looks it up
	// (a read) at the retry and records it instead of posting again.
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Text: "كان الجواب مفقودًا", Now: true})
	got := h.waitPost(p.ID, isStatus("retry"))
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	if got = h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" }); got.Status != "published" {
		t.Fatalf("lost answer: %s (%s)", got.Status, reason(got))
	}

	u := h.usage("")
	if u.Month != "2026-11" || len(u.Accounts) != 1 {
		t.Fatalf("usage %+v", u)
	}
	a := u.Accounts[0]
	creates := xRequests(h, http.MethodPost, "/2/tweets")
	if creates != 4 {
		t.Fatalf("X received %d creates, want 4", creates)
	}
	if a.Account != "alice" || a.Posts != 3 || a.PostsWithURL != 1 || a.MediaUploads != 1 {
		t.Errorf("counts %+v, want 3 posts (the lost answer once), 1 with a URL, 1 media upload", a)
	}
	if want := xRequests(h, http.MethodGet, "/tweets"); want < 1 || a.ReadRequests != want {
		t.Errorf("read_requests %d, X received %d timeline lookups", a.ReadRequests, want)
	}
	// The lookup returns the posts of its window: the four on X at most.
	if a.Reads < 1 || a.Reads > 4 {
		t.Errorf("reads %d, want the posts the lookup returned (1..4)", a.Reads)
	}
	if a.OtherRequests != 1 { // the alt text
		t.Errorf("other_requests %d, want 1 (alt text)", a.OtherRequests)
	}
	wantCost := 3*0.015 + 0.20 + float64(a.Reads)*0.001
	if math.Abs(a.CostUSD-wantCost) > 1e-9 {
		t.Errorf("cost %v, want %v", a.CostUSD, wantCost)
	}
	// The cap as of the last answer X sent: the third create's (the
	// fourth's answer was lost).
	if a.User24hLimit == nil || *a.User24hLimit != 50 || a.User24hRemaining == nil || *a.User24hRemaining != 47 || a.User24hReset == nil {
		t.Errorf("24-hour cap %s, want 47/50 with a reset", jsonOf(a))
	}
	if u.Prices.Post != 0.015 || u.Prices.PostWithURL != 0.20 || u.Prices.Read != 0.001 || u.Prices.AsOf == "" || u.Prices.Source == "" {
		t.Errorf("prices %+v", u.Prices)
	}

	// Counts are in the database: a restart keeps them.
	h.stop()
	h.start()
	if again := h.usage("2026-11"); again.Accounts[0].Posts != a.Posts || again.Accounts[0].PostsWithURL != 1 ||
		again.Accounts[0].Reads != a.Reads || again.Accounts[0].User24hLimit == nil {
		t.Errorf("after a restart %s, before %s", jsonOf(again.Accounts[0]), jsonOf(a))
	}
	// Another month has none.
	if other := h.usage("2026-10"); other.Accounts[0].Posts != 0 || other.Accounts[0].CostUSD != 0 {
		t.Errorf("2026-10: %+v", other.Accounts[0])
	}
}

func TestUsagePriceOverrideAndBadInput(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.create(api.CreatePost{Text: "https://example.org and ünïcödé", Now: true})
	h.waitPost(p.ID, isStatus("published"))
	prices := filepath.Join(h.cfg.Env.Home, "prices.json")
	if err := os.WriteFile(prices, []byte(`{"post_with_url_usd": 0.5, "as_of": "2026-11-01", "source": "my contract"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	u := h.usage("")
	if a := u.Accounts[0]; a.PostsWithURL != 1 || a.CostUSD != 0.5 {
		t.Errorf("with the override: %+v", a)
	}
	if u.Prices.PostWithURL != 0.5 || u.Prices.Post != 0.015 || u.Prices.AsOf != "2026-11-01" || u.Prices.Source != "my contract" {
		t.Errorf("prices %+v", u.Prices)
	}
	for _, bad := range []string{`{"post_usd": -1}`, `{"posts_usd": 1}`, `not json`} {
		os.WriteFile(prices, []byte(bad), 0o600)
		err := h.call(http.MethodGet, api.PathUsage, nil, nil)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.CodeBadRequest || !strings.Contains(ae.Message, "prices.json") {
			t.Errorf("prices.json %s: %v, want bad_request naming the file", bad, err)
		}
	}
	os.Remove(prices)
	for _, m := range []string{"2026-13", "2026-1", "26-11", "2026-11-01"} {
		err := h.call(http.MethodGet, api.PathUsage+"?month="+m, nil, nil)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
			t.Errorf("month %s: %v, want bad_request", m, err)
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A 24-hour cap spent before a restart still holds posts back after it
// (issue 14 item 5): the cap X reported is stored, and the rate gate starts
// from it instead of probing X for a 429.
func TestSpentDailyCapHoldsPostsAcrossRestart(t *testing.T) {
	h := newHarnessX(t, fakex.Options{UserDailyTweetLimit: 2})
	h.start()
	for i := range 2 {
		p := h.create(api.CreatePost{Text: fmt.Sprintf("before the restart %d ⏳", i), Now: true})
		h.waitPost(p.ID, isStatus("published"))
	}
	h.stop()
	h.start()
	p := h.create(api.CreatePost{Text: "after the restart", Now: true})
	got := h.waitPost(p.ID, func(p api.Post) bool { return sub(p) == "rate_limited" })
	reset := t0.Add(24 * time.Hour)
	if got.NextRetryAt == nil || !got.NextRetryAt.Equal(reset.Add(time.Second)) {
		t.Fatalf("next attempt %v, want the cap's reset %v", got.NextRetryAt, reset)
	}
	if st := h.createStatuses(); st[http.StatusCreated] != 2 || st[http.StatusTooManyRequests] != 0 {
		t.Fatalf("creates by status %v: want 2 × 201 and no 429", st)
	}
	if a := h.usage("").Accounts[0]; a.Posts != 2 || *a.User24hRemaining != 0 {
		t.Errorf("usage %s", jsonOf(a))
	}
}
