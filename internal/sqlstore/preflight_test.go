package sqlstore

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// TestAtRiskListsFirst: a scheduled post pre-flight found at risk lists in
// the attention section (first), also under --status scheduled and across
// pages, and goes back among the scheduled posts once cleared; the
// verdict never changes the status and is refused for an older version.
func TestAtRiskListsFirst(t *testing.T) {
	s := openTemp(t)
	mustAccount(t, s)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var ids []int64
	var risky *post.Post
	if err := s.Update(ctx, func(tx *Tx) error {
		for i := range 3 {
			at := now.Add(time.Duration(i+1) * time.Hour)
			p, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at,
				Tweets: []NewTweet{{Text: "ⱥ post"}}}, now)
			if err != nil {
				return err
			}
			ids = append(ids, p.ID)
			if i == 2 {
				risky = p
			}
		}
		if _, err := tx.SetPreflight(risky.ID, "not-its-run-id", "reason", now); !errors.Is(err, ErrStale) {
			t.Errorf("verdict on an older version: %v", err)
		}
		changed, err := tx.SetPreflight(risky.ID, risky.RunID, "account @alice must log in again: psnd auth login", now)
		if err != nil || !changed {
			t.Errorf("set at risk: %v %v", changed, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	order := func(q ListQuery) []int64 {
		t.Helper()
		var out []int64
		var after *ListCursor
		for {
			var got []*post.Post
			var last ListCursor
			var more bool
			if err := s.View(ctx, func(tx *Tx) error {
				var err error
				got, last, more, err = tx.ListPage(q, after, 1)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for _, p := range got {
				out = append(out, p.ID)
				if p.Status != post.StatusScheduled {
					t.Fatalf("post %d is %s", p.ID, p.Status)
				}
			}
			if !more {
				return out
			}
			after = &last
		}
	}
	want := []int64{ids[2], ids[0], ids[1]}
	for _, q := range []ListQuery{{}, {Statuses: []post.Status{post.StatusScheduled}}} {
		if got := order(q); !equalIDs(got, want) {
			t.Errorf("%+v: order %v, want %v", q, got, want)
		}
	}
	if got := order(ListQuery{Statuses: []post.Status{post.StatusFailed}}); len(got) != 0 {
		t.Errorf("failed lists %v", got)
	}
	var n int
	s.View(ctx, func(tx *Tx) error { n, _ = tx.CountAtRisk(); return nil })
	if n != 1 {
		t.Errorf("at risk count %d", n)
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		_, err := tx.SetPreflight(risky.ID, risky.RunID, "", now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := order(ListQuery{}); !equalIDs(got, ids) {
		t.Errorf("after clearing: %v, want %v", got, ids)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPreflightLeavesBudgetHoldAlone: a post the budget held after
// pre-flight listed it keeps over_budget and its reason; pre-flight's
// verdict on it is refused as stale, so the hold is what the user sees.
func TestPreflightLeavesBudgetHoldAlone(t *testing.T) {
	s := openTemp(t)
	mustAccount(t, s)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	at := now.Add(time.Hour)
	p := scheduledAt(t, s, at, now, []NewTweet{{Text: "東京 budget"}})
	const hold = "held by the monthly budget"
	if _, err := s.DB().Exec("UPDATE posts SET sub_status = 'over_budget', fail_reason = ? WHERE id = ?", hold, p.ID); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx *Tx) error {
		_, err := tx.SetPreflight(p.ID, p.RunID, "account @alice must log in again: psnd auth login", now)
		return err
	})
	if !errors.Is(err, ErrStale) {
		t.Errorf("verdict on a held post: %v, want ErrStale", err)
	}
	var sub, reason string
	if err := s.DB().QueryRow("SELECT sub_status, fail_reason FROM posts WHERE id = ?", p.ID).Scan(&sub, &reason); err != nil {
		t.Fatal(err)
	}
	if sub != string(post.SubOverBudget) || reason != hold {
		t.Errorf("after pre-flight: %q %q, want the budget hold kept", sub, reason)
	}
}

// TestHeldOverBudgetListsFirst: a post the monthly budget holds will not go
// out at its time, so it lists in the attention section like one at risk,
// and goes back among the scheduled posts once released; the stored
// list_rank is the one RankOf computes for every status and sub-status.
func TestHeldOverBudgetListsFirst(t *testing.T) {
	s := openTemp(t)
	mustAccount(t, s)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var ids []int64
	var held DueRef
	list := func() []int64 {
		t.Helper()
		var out []int64
		if err := s.View(ctx, func(tx *Tx) error {
			got, _, _, err := tx.ListPage(ListQuery{Statuses: []post.Status{post.StatusScheduled}}, nil, 10)
			for _, p := range got {
				out = append(out, p.ID)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		for i := range 3 {
			at := now.Add(time.Duration(i+1) * time.Hour)
			p, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at,
				Tweets: []NewTweet{{Text: "東京 https://example.com/" + string(rune('a'+i))}}}, now)
			if err != nil {
				return err
			}
			ids = append(ids, p.ID)
			if i == 2 {
				held = DueRef{ID: p.ID, RunID: p.RunID}
			}
		}
		return tx.HoldOverBudget(held, "held by the monthly budget of $1", now)
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := list(), []int64{ids[2], ids[0], ids[1]}; !equalIDs(got, want) {
		t.Errorf("with post %d held: order %v, want %v", ids[2], got, want)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.ReleaseOverBudget(held, now) }); err != nil {
		t.Fatal(err)
	}
	if got := list(); !equalIDs(got, ids) {
		t.Errorf("released: order %v, want %v", got, ids)
	}

	// The stored list_rank (migration 00016's generated column) is the
	// section RankOf gives, for every pair the schema accepts.
	for _, st := range []post.Status{post.StatusDraft, post.StatusScheduled, post.StatusPublishing, post.StatusPublished,
		post.StatusFailed, post.StatusRetry} {
		for _, sub := range []post.SubStatus{"", post.SubAtRisk, post.SubOverBudget} {
			if _, err := s.db.ExecContext(ctx, `UPDATE posts SET status = ?, sub_status = ? WHERE id = ?`, st, sub, held.ID); err != nil {
				continue // a pair the schema's checks refuse
			}
			var rank int
			if err := s.db.QueryRowContext(ctx, `SELECT list_rank FROM posts WHERE id = ?`, held.ID).Scan(&rank); err != nil {
				t.Fatal(err)
			}
			if want := RankOf(st, sub); rank != want {
				t.Errorf("%s/%q: list_rank %d, RankOf %d", st, sub, rank, want)
			}
		}
	}
}

// TestPreflightMediaSparesSentTweet: the media id pre-flight uploaded is
// not stored for a tweet whose create may have reached X (a send mark):
// the lookup recognises that tweet by the ids the create sent.
func TestPreflightMediaSparesSentTweet(t *testing.T) {
	s := openTemp(t)
	mustAccount(t, s)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	at := now.Add(time.Hour)
	p := scheduledAt(t, s, at, now, []NewTweet{{Media: []post.Media{{Path: "/m/a.png", SHA256: "ab", MimeType: "image/png", Size: 3}}}})
	if _, err := s.DB().Exec("UPDATE media SET x_media_id = 'sent-1' WHERE post_id = ?", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("UPDATE posts SET send_started_at = ? WHERE id = ?", now.Format(time.RFC3339Nano), p.ID); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx *Tx) error {
		return tx.RecordPreflightMedia(p.ID, p.RunID, p.Tweets[0].Media[0].ID, "new-2", &at)
	})
	if !errors.Is(err, ErrStale) {
		t.Errorf("record over a sent tweet's media: %v, want ErrStale", err)
	}
	var xid string
	if err := s.DB().QueryRow("SELECT x_media_id FROM media WHERE post_id = ?", p.ID).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	if xid != "sent-1" {
		t.Errorf("media id %q, want the one the create sent", xid)
	}
}

// scheduledAt stores a post of account "1" scheduled at at, with tweets.
func scheduledAt(t *testing.T, s *Store, at, now time.Time, tweets []NewTweet) *post.Post {
	t.Helper()
	var p *post.Post
	if err := s.Update(context.Background(), func(tx *Tx) error {
		var err error
		p, err = tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at, Tweets: tweets}, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPreflightDueSameAsOneQuery: PreflightDue, two queries on the
// pre-flight indexes (migration 00019), lists what the one query it
// replaced listed, in the same order, whatever the limit: unchecked posts
// (an edited post at risk among them) in due order, ties on the due time
// by id, then the checked posts at risk; never a post held by the budget,
// a checked post not at risk, or one due after by.
func TestPreflightDueSameAsOneQuery(t *testing.T) {
	s := openTemp(t)
	mustAccount(t, s)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if err := s.Update(ctx, func(tx *Tx) error {
		for i := range 40 {
			at := now.Add(time.Duration(i%9) * 10 * time.Minute) // ties on the time
			p, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at,
				Tweets: []NewTweet{{Text: "post"}}}, now)
			if err != nil {
				return err
			}
			switch i % 5 {
			case 1: // checked, fine
				_, err = tx.SetPreflight(p.ID, p.RunID, "", now)
			case 2: // checked, at risk
				_, err = tx.SetPreflight(p.ID, p.RunID, "at risk", now)
			case 3: // at risk, then edited: unchecked again
				if _, err = tx.SetPreflight(p.ID, p.RunID, "at risk", now); err == nil {
					_, err = tx.exec(`UPDATE posts SET run_id = 'edited' WHERE id = ?`, p.ID)
				}
			case 4:
				if i%10 == 4 {
					err = tx.HoldOverBudget(DueRef{ID: p.ID, RunID: p.RunID}, "over budget", now)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The query PreflightDue was before migration 00019.
	const oneQuery = `SELECT id, run_id, account_id, scheduled_at, sub_status, fail_reason,
			preflight_run_id IS run_id AS checked FROM posts
		WHERE parent_post_id IS NULL AND due_at IS NOT NULL AND due_at <= ? AND status = 'scheduled' AND ` + notHeld + `
		  AND (preflight_run_id IS NOT run_id OR sub_status = 'at_risk')
		ORDER BY checked, due_at, scheduled_at, id LIMIT ?`
	for _, by := range []time.Time{now.Add(-time.Minute), now, now.Add(35 * time.Minute), now.Add(2 * time.Hour)} {
		for _, limit := range []int{1, 3, 10, 17, 500, -1} {
			if err := s.View(ctx, func(tx *Tx) error {
				got, err := tx.PreflightDue(by, limit)
				if err != nil {
					return err
				}
				want, err := tx.scanPreflightRefs(nil, oneQuery, fmtTime(by), limit)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("by %s limit %d:\n got  %+v\n want %+v", by.Format(time.TimeOnly), limit, got, want)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
