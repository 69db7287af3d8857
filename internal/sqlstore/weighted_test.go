package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/tweettext"
)

// Texts whose weighted length differs from their rune count: CJK counts 2,
// a URL 23, an emoji sequence 2.
var weightedTexts = []string{"東京 İstanbul Ⱥ", "see https://example.com/a/very/long/path?x=1 now", "👩‍👩‍👧 عربي", ""}

func checkWeighted(t *testing.T, s *Store, what string) {
	t.Helper()
	err := s.View(context.Background(), func(tx *Tx) error {
		ps, _, _, err := tx.ListPage(ListQuery{}, nil, 100)
		if err != nil {
			return err
		}
		n := 0
		for _, p := range ps {
			for _, tw := range p.Tweets {
				n++
				want := tweettext.WeightedLength(tw.Text)
				if tw.Text != "" && want == 0 || tw.WeightedLength != want {
					t.Errorf("%s: post %d tweet %d %q: weighted length %d, want %d", what, p.ID, tw.Position, tw.Text, tw.WeightedLength, want)
				}
			}
		}
		if n == 0 {
			return fmt.Errorf("no tweets listed")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestWeightedLengthStored: the store counts a tweet's weighted length
// when its text is written (create, edit of a thread) and counts the rows
// that a database from before migration 00011 holds when migrating.
func TestWeightedLengthStored(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	// Rows written by a daemon before 00011.
	s := openTemp(t)
	if err := s.MigrateDownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, now)
	}); err != nil {
		t.Fatal(err)
	}
	ts := fmtTime(now)
	for i, text := range weightedTexts {
		res, err := s.db.Exec(`INSERT INTO posts (account_id, thread_position, content, status, run_id, created_at, updated_at)
			VALUES ('1', 0, ?, 'draft', 'r', ?, ?)`, text, ts, ts)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := res.LastInsertId()
		if _, err := s.db.Exec(`INSERT INTO posts (account_id, parent_post_id, thread_position, content, status, run_id, created_at, updated_at)
			VALUES ('1', ?, 1, ?, 'draft', 'r', ?, ?)`, root, weightedTexts[(i+1)%len(weightedTexts)], ts, ts); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var nulls int
	if err := s.db.QueryRow(`SELECT count(*) FROM posts WHERE weighted_length IS NULL`).Scan(&nulls); err != nil {
		t.Fatal(err)
	}
	if nulls != 0 {
		t.Errorf("%d rows left uncounted after migrating", nulls)
	}
	checkWeighted(t, s, "migrated")

	// Written now: created, then its thread edited.
	var id int64
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.InsertPost(&post.Post{AccountID: "1", Status: post.StatusDraft, RunID: "r2", CreatedAt: now, UpdatedAt: now,
			Tweets: []post.Tweet{{Text: weightedTexts[0]}, {Position: 1, Text: weightedTexts[1], Status: post.StatusDraft}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checkWeighted(t, s, "created")
	err = s.Update(ctx, func(tx *Tx) error {
		_, err := tx.UpdatePost(id, PostUpdate{Tweets: []NewTweet{{Text: weightedTexts[2]}, {Text: weightedTexts[1]}, {Text: "ok"}}}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checkWeighted(t, s, "edited")
}
