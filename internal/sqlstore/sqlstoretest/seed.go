// Package sqlstoretest fills a psnd database with many posts quickly, for
// benchmarks (list over 100,000 posts, an idle daemon with 10,000 scheduled
// posts, bursts of posts due at one instant). It is imported only from
// _test.go files.
//
// Posts are written with Tx.InsertPost in one transaction rather than
// through Tx.CreatePost, which reads every post back and would make seeding
// 100,000 posts take longer than the measurement.
package sqlstoretest

import (
	"context"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// Account is the account every seeded post belongs to.
var Account = post.Account{ID: "1001", Username: "alice", DisplayName: "Alice"}

// Spec says what to seed.
type Spec struct {
	// Posts is how many posts (root rows) to add.
	Posts int
	// ThreadEvery makes every ThreadEvery-th post a thread of ThreadLen
	// tweets (0: none).
	ThreadEvery, ThreadLen int
	// Status picks post i's status; nil means scheduled.
	Status func(i int) post.Status
	// At is post i's scheduled time (for scheduled posts, and kept on
	// published and failed ones).
	At func(i int) time.Time
	// Text is tweet pos of post i; nil gives a realistic ~150-character
	// text with a URL, a mention and a hashtag.
	Text func(i, pos int) string
}

// Mix is the status mix of a long-used database: mostly published, some
// scheduled, a few drafts and failures.
func Mix(i int) post.Status {
	switch r := i % 100; {
	case r < 70:
		return post.StatusPublished
	case r < 90:
		return post.StatusScheduled
	case r < 98:
		return post.StatusDraft
	default:
		return post.StatusFailed
	}
}

// DefaultText is a tweet of typical length.
func DefaultText(i, pos int) string {
	return fmt.Sprintf("Post %d part %d: notes on scheduling posts that go out on time, once — see https://example.com/p/%d @bob #golang", i, pos, i)
}

// SeedAccount connects Account (idempotent).
func SeedAccount(ctx context.Context, s *sqlstore.Store) error {
	return s.Update(ctx, func(tx *sqlstore.Tx) error { return tx.UpsertAccount(Account, time.Now()) })
}

// SeedPosts adds the posts sp describes to a migrated store, in one
// transaction, and returns the root ids in order.
func SeedPosts(ctx context.Context, s *sqlstore.Store, sp Spec) ([]int64, error) {
	if err := SeedAccount(ctx, s); err != nil {
		return nil, err
	}
	if sp.Status == nil {
		sp.Status = func(int) post.Status { return post.StatusScheduled }
	}
	if sp.Text == nil {
		sp.Text = DefaultText
	}
	if sp.At == nil {
		base := time.Now().Add(365 * 24 * time.Hour).UTC().Truncate(time.Millisecond)
		sp.At = func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	}
	ids := make([]int64, 0, sp.Posts)
	created := time.Now()
	xid := int64(1_800_000_000_000_000_000)
	err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		for i := range sp.Posts {
			st := sp.Status(i)
			n := 1
			if sp.ThreadEvery > 0 && sp.ThreadLen > 1 && i%sp.ThreadEvery == 0 {
				n = sp.ThreadLen
			}
			p := &post.Post{AccountID: Account.ID, Status: st, RunID: fmt.Sprintf("seed-%d", i),
				CreatedAt: created, UpdatedAt: created}
			if st != post.StatusDraft {
				at := sp.At(i)
				p.ScheduledAt = &at
			}
			switch st {
			case post.StatusPublished:
				p.PublishedAt, p.Attempts = p.ScheduledAt, 1
			case post.StatusFailed:
				p.FailReason = "X refused the post: You are not allowed to create a Tweet with duplicate content."
				p.Attempts = 1
			}
			for pos := range n {
				tw := post.Tweet{Position: pos, Text: sp.Text(i, pos), Status: st}
				if st == post.StatusPublished {
					xid++
					tw.PlatformPostID, tw.PublishedAt = fmt.Sprint(xid), p.PublishedAt
				}
				p.Tweets = append(p.Tweets, tw)
			}
			id, err := tx.InsertPost(p)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return ids, nil
}

// Open creates (or opens) and migrates the database at path.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	s, err := sqlstore.Open(ctx, path, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ListSpec is the database `psnd list` is measured over: n posts with the
// Mix of statuses, every 10th a thread of 3 tweets (n=100,000 gives 120,000
// tweet rows). Published and failed posts are spread over the past, one
// minute apart; scheduled posts lie a year or more ahead, so a daemon
// opened on it has nothing due.
func ListSpec(n int) Spec {
	now := time.Now().UTC().Truncate(time.Minute)
	past, future := now.Add(-time.Duration(n)*time.Minute), now.Add(365*24*time.Hour)
	return Spec{Posts: n, ThreadEvery: 10, ThreadLen: 3, Status: Mix,
		At: func(i int) time.Time {
			if Mix(i) == post.StatusScheduled {
				return future.Add(time.Duration(i) * time.Minute)
			}
			return past.Add(time.Duration(i) * time.Minute)
		}}
}

// SeedFile creates the database at path, migrates it and seeds it.
func SeedFile(ctx context.Context, path string, sp Spec) error {
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	_, err = SeedPosts(ctx, s, sp)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}
