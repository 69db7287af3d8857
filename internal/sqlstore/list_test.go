package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// listOracle is the order ListPosts promises, as the SQL it used to run.
const listOracle = `SELECT r.id FROM posts r WHERE r.parent_post_id IS NULL AND (?1 = '' OR r.status = ?1)
	ORDER BY CASE r.status WHEN 'failed' THEN 0 WHEN 'retry' THEN 1 WHEN 'publishing' THEN 2
			WHEN 'scheduled' THEN 3 WHEN 'draft' THEN 4 ELSE 5 END,
		(CASE WHEN r.status = 'published' THEN NULL ELSE r.scheduled_at END) IS NULL,
		CASE WHEN r.status = 'published' THEN NULL ELSE r.scheduled_at END,
		r.published_at DESC, r.id`

// ListPosts orders posts as the oracle does — ties in times, missing times,
// every status — and gives each its own tweets (in position order) and
// media, with or without a status filter.
func TestListPostsOrderAndContent(t *testing.T) {
	s := openTemp(t)
	mustAccount(t, s)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	// Few distinct times, so that ties are common.
	someTime := func() any {
		if rng.IntN(5) == 0 {
			return nil
		}
		return fmtTime(base.Add(time.Duration(rng.IntN(6)) * time.Hour))
	}
	statuses := []post.Status{post.StatusDraft, post.StatusScheduled, post.StatusPublishing, post.StatusPublished, post.StatusFailed, post.StatusRetry}
	type want struct {
		texts []string
		media map[int]int // position -> media count
	}
	wants := map[int64]want{}
	xid := 5000
	err := s.Update(ctx, func(tx *Tx) error {
		for i := range 300 {
			st := statuses[rng.IntN(len(statuses))]
			sched := someTime()
			if st == post.StatusScheduled && sched == nil {
				sched = fmtTime(base)
			}
			pub := someTime()
			n := 1 + rng.IntN(3)*rng.IntN(2) // mostly single posts, some threads
			w := want{media: map[int]int{}}
			var root int64
			for pos := range n {
				var parent, platform any
				if pos > 0 {
					parent = root
				}
				if st == post.StatusPublished {
					xid++
					platform = fmt.Sprint(xid)
				}
				text := fmt.Sprintf("post %d tweet %d", i, pos)
				res, err := tx.exec(`INSERT INTO posts (account_id, parent_post_id, thread_position, content, status,
						scheduled_at, published_at, platform_post_id, run_id, created_at, updated_at)
					VALUES ('1', ?, ?, ?, ?, ?, ?, ?, 'r', ?, ?)`,
					parent, pos, text, string(st), sched, pub, platform, fmtTime(base), fmtTime(base))
				if err != nil {
					return err
				}
				id, _ := res.LastInsertId()
				if pos == 0 {
					root = id
				}
				w.texts = append(w.texts, text)
				if rng.IntN(4) == 0 {
					k := 1 + rng.IntN(2)
					for m := range k {
						if _, err := tx.exec(`INSERT INTO media (post_id, position, path, sha256, mime_type, size_bytes, created_at)
							VALUES (?, ?, ?, 'x', 'image/png', 1, ?)`, id, m, fmt.Sprintf("/m/%d-%d.png", id, m), fmtTime(base)); err != nil {
							return err
						}
					}
					w.media[pos] = k
				}
			}
			wants[root] = w
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range append([]post.Status{""}, statuses...) {
		var got []*post.Post
		var order []int64
		err := s.View(ctx, func(tx *Tx) error {
			var err error
			if got, err = tx.ListPosts(ListFilter{Status: st}); err != nil {
				return err
			}
			rows, err := tx.tx.Query(listOracle, string(st))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				order = append(order, id)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, p := range got {
			ids = append(ids, p.ID)
			w := wants[p.ID]
			var texts []string
			for i, tw := range p.Tweets {
				texts = append(texts, tw.Text)
				if tw.Position != i || len(tw.Media) != w.media[i] {
					t.Errorf("status %q: post %d tweet %d: position %d, %d media, want %d", st, p.ID, i, tw.Position, len(tw.Media), w.media[i])
				}
			}
			if !slices.Equal(texts, w.texts) {
				t.Errorf("status %q: post %d tweets %q, want %q", st, p.ID, texts, w.texts)
			}
		}
		if !slices.Equal(ids, order) {
			t.Errorf("status %q: order\n%v\nwant\n%v", st, ids, order)
		}
	}
	// Limit keeps the first posts of the full order.
	err = s.View(ctx, func(tx *Tx) error {
		all, err := tx.ListPosts(ListFilter{})
		if err != nil {
			return err
		}
		some, err := tx.ListPosts(ListFilter{Limit: 7})
		if err != nil {
			return err
		}
		if len(some) != 7 || some[6].ID != all[6].ID {
			t.Errorf("limit 7: %d posts", len(some))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
