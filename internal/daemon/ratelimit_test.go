package daemon

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/sqlstore"
)

// drive runs the daemon on the fake clock until every post in ids is
// published: whenever nothing is being published, it moves the clock to
// the next due time and fires the alarm, as the kernel would.
func (h *harness) drive(ids []int64) {
	h.t.Helper()
	s, err := sqlstore.Open(context.Background(), h.cfg.Env.DBPath(), sqlstore.Options{ReadOnly: true})
	if err != nil {
		h.t.Fatal(err)
	}
	defer s.Close()
	for range 10000 {
		h.waitArm()
		var publishing, published int
		var next time.Time
		err := s.View(context.Background(), func(tx *sqlstore.Tx) error {
			for _, id := range ids {
				p, err := tx.GetPost(id)
				if err != nil {
					return err
				}
				switch p.Status {
				case "publishing":
					publishing++
				case "published":
					published++
				}
			}
			ref, ok, err := tx.NextDue(nil)
			if ok {
				next = ref.DueAt
			}
			return err
		})
		if err != nil {
			h.t.Fatal(err)
		}
		if published == len(ids) {
			return
		}
		if publishing > 0 {
			continue // its end kicks the scheduler: another round comes
		}
		if next.After(h.clock.Now()) {
			h.clock.Set(next)
		}
		h.alarm.Fire()
	}
	h.t.Fatal("posts never all published")
}

func (h *harness) createStatuses() map[int]int {
	out := map[int]int{}
	for _, r := range h.x.Requests() {
		if r.Method == http.MethodPost && r.Path == "/2/tweets" {
			out[r.Status]++
		}
	}
	return out
}

// Twenty posts due together on a 5-per-20 s limit used to retry all at
// each reset (15, then 10, then 5 answers of 429). Now each window sends
// what X allows, earliest due first, and the rest wait without asking X.
func TestRateLimitNoHerd(t *testing.T) {
	h := newHarnessX(t, fakex.Options{RateLimits: map[string]int{fakex.EndpointCreateTweet: 5}, RateWindow: 20 * time.Second})
	h.start()
	at := t0.Add(time.Minute)
	var ids []int64
	for i := range 20 {
		// Created out of order: due order is the time chosen, then creation.
		sched := at.Add(time.Duration(19-i) * time.Millisecond)
		if i%2 == 0 {
			sched = at
		}
		ids = append(ids, h.create(api.CreatePost{Text: fmt.Sprintf("herd %02d İ 🐦‍🔥", i), At: &sched}).ID)
	}
	dueOrder := append([]int64(nil), ids...)
	sort.SliceStable(dueOrder, func(a, b int) bool {
		ai, bi := indexOf(ids, dueOrder[a]), indexOf(ids, dueOrder[b])
		sa, sb := schedOf(ai, at), schedOf(bi, at)
		if !sa.Equal(sb) {
			return sa.Before(sb)
		}
		return dueOrder[a] < dueOrder[b]
	})

	// After the first window: five sent, the rest wait visibly.
	h.drainArms()
	h.clock.Set(at.Add(19 * time.Millisecond))
	h.alarm.Fire()
	waiting := h.waitPost(dueOrder[19], func(p api.Post) bool { return sub(p) == "rate_limited" })
	reset := at.Add(20 * time.Second).Truncate(time.Second) // the window starts at its first create
	if waiting.Status != "retry" || waiting.NextRetryAt == nil || !waiting.NextRetryAt.Equal(reset.Add(time.Second)) ||
		!strings.Contains(reason(waiting), reset.UTC().Format(time.RFC3339)) {
		t.Fatalf("waiting post: %s/%s next %v reason %q; want retry/rate_limited until %v", waiting.Status, sub(waiting), waiting.NextRetryAt, reason(waiting), reset)
	}

	h.drive(ids)
	st := h.createStatuses()
	if st[http.StatusCreated] != 20 || st[http.StatusTooManyRequests] != 0 || len(st) != 1 {
		t.Fatalf("creates by status %v: want 20 × 201 and no 429", st)
	}
	// Published in due order: each window's five are the earliest due.
	when := map[string]time.Time{}
	for _, r := range h.creates() {
		when[r.TweetID] = r.Time
	}
	var prev time.Time
	var windows []string
	for i, id := range dueOrder {
		var p api.Post
		if err := h.call(http.MethodGet, fmt.Sprintf("/v1/posts/%d", id), nil, &p); err != nil {
			t.Fatal(err)
		}
		sent := when[*p.Tweets[0].PlatformPostID]
		if sent.Before(prev) {
			t.Fatalf("post %d (due #%d) sent at %v, before an earlier-due post (%v)", id, i, sent, prev)
		}
		if !sent.Equal(prev) {
			windows = append(windows, sent.Sub(at).String())
		}
		prev = sent
	}
	t.Logf("windows (since due): %v", windows)
	if len(windows) != 4 {
		t.Fatalf("sent at %v: want four windows of five", windows)
	}
}

func schedOf(i int, at time.Time) time.Time {
	if i%2 == 0 {
		return at
	}
	return at.Add(time.Duration(19-i) * time.Millisecond)
}

func indexOf(ids []int64, id int64) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// X's 24-hour user cap (x-user-limit-24hour-*) holds posts back the same
// way: what the cap allows is sent, the rest wait for its reset unsent.
func TestUserDailyCapHoldsPostsUntilItsReset(t *testing.T) {
	h := newHarnessX(t, fakex.Options{UserDailyTweetLimit: 3})
	h.start()
	var ids []int64
	for i := range 5 {
		ids = append(ids, h.create(api.CreatePost{Text: fmt.Sprintf("capped %d", i), Now: true}).ID)
	}
	// Earliest due first: the first three go out, the last two wait.
	for _, id := range ids[:3] {
		h.waitPost(id, isStatus("published"))
	}
	h.waitPost(ids[3], func(p api.Post) bool { return sub(p) == "rate_limited" })
	last := h.waitPost(ids[4], func(p api.Post) bool { return sub(p) == "rate_limited" })
	if st := h.createStatuses(); st[http.StatusCreated] != 3 || st[http.StatusTooManyRequests] != 0 {
		t.Fatalf("creates by status %v: want 3 × 201 and no 429 before the cap's reset", st)
	}
	reset := t0.Add(24 * time.Hour)
	if last.Status != "retry" || last.NextRetryAt == nil || !last.NextRetryAt.Equal(reset.Add(time.Second)) {
		t.Fatalf("last post %s/%s next %v: want rate_limited until the 24-hour reset %v", last.Status, sub(last), last.NextRetryAt, reset)
	}
	h.drive(ids)
	if st := h.createStatuses(); st[http.StatusCreated] != 5 || st[http.StatusTooManyRequests] != 0 {
		t.Fatalf("creates by status %v: want 5 × 201 and no 429", st)
	}
}

// A thread needing more creates than X's 24-hour cap has left waits
// whole for the cap's reset: it used to send what the cap allowed and sit
// half-published, thread_partial, for up to a day.
func TestThreadWaitsWholeForTheDailyCap(t *testing.T) {
	h := newHarnessX(t, fakex.Options{UserDailyTweetLimit: 3})
	h.start()
	first := h.create(api.CreatePost{Text: "one of three today", Now: true})
	h.waitPost(first.ID, isStatus("published"))
	th := h.create(api.CreatePost{Tweets: []string{"thread İ 1", "thread 東京 2", "thread 🪁 3"}, Now: true})
	got := h.waitPost(th.ID, func(p api.Post) bool { return sub(p) == "rate_limited" || p.Status == "published" })
	if st := h.createStatuses(); st[http.StatusCreated] != 1 || len(got.PlatformPostIDs) != 0 {
		t.Fatalf("creates by status %v, thread %s/%s with %d tweets on X: want it to wait whole, unsent",
			st, got.Status, sub(got), len(got.PlatformPostIDs))
	}
	reset := t0.Add(24 * time.Hour)
	if got.NextRetryAt == nil || !got.NextRetryAt.Equal(reset.Add(time.Second)) {
		t.Fatalf("thread waits until %v, want the cap's reset %v", got.NextRetryAt, reset)
	}
	h.drive([]int64{first.ID, th.ID})
	if st := h.createStatuses(); st[http.StatusCreated] != 4 || st[http.StatusTooManyRequests] != 0 {
		t.Fatalf("creates by status %v: want 4 × 201 and no 429", st)
	}
}
