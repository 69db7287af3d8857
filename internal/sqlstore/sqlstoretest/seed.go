// Package sqlstoretest fills a psnd database with many posts quickly, for
// benchmarks (list over 100,000 posts, an idle daemon with 10,000 scheduled
// posts, bursts of posts due at one instant). It is imported only from
// _test.go files.
//
// Posts are written with plain INSERTs in one transaction rather than
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
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("seed: begin: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO posts
		(account_id, parent_post_id, thread_position, content, status, sub_status, scheduled_at, published_at,
		 fail_reason, platform_post_id, run_id, attempts, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("seed: prepare: %w", err)
	}
	defer ins.Close()
	created := fmtTime(time.Now())
	xid := int64(1_800_000_000_000_000_000)
	for i := range sp.Posts {
		st := sp.Status(i)
		n := 1
		if sp.ThreadEvery > 0 && sp.ThreadLen > 1 && i%sp.ThreadEvery == 0 {
			n = sp.ThreadLen
		}
		var sched, pub any
		if st != post.StatusDraft {
			sched = fmtTime(sp.At(i))
		}
		if st == post.StatusPublished {
			pub = sched
		}
		var rootID int64
		for pos := range n {
			var parent, platform, published any
			if pos > 0 {
				parent = rootID
			}
			rowStatus := st
			sub, reason := "", ""
			attempts := 0
			if st == post.StatusPublished {
				xid++
				platform = fmt.Sprint(xid)
				published = pub
				attempts = 1
			}
			if st == post.StatusFailed && pos == 0 {
				reason = "X refused the post: You are not allowed to create a Tweet with duplicate content."
				attempts = 1
			}
			res, err := ins.ExecContext(ctx, Account.ID, parent, pos, sp.Text(i, pos), string(rowStatus), sub, sched,
				published, reason, platform, fmt.Sprintf("seed-%d", i), attempts, created, created)
			if err != nil {
				return nil, fmt.Errorf("seed: insert: %w", err)
			}
			if pos == 0 {
				if rootID, err = res.LastInsertId(); err != nil {
					return nil, err
				}
			}
		}
		ids = append(ids, rootID)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("seed: commit: %w", err)
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

// fmtTime matches the store's fixed-width UTC text encoding.
func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

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
