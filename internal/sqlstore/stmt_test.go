package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// Queries are prepared once and reused by every transaction, on every
// pooled connection, including concurrent readers and a writer.
func TestPreparedStatementsReused(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, now)
	}); err != nil {
		t.Fatal(err)
	}
	create := func(i int) int64 {
		at := now.Add(time.Duration(i+1) * time.Hour)
		var id int64
		if err := s.Update(ctx, func(tx *Tx) error {
			p, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at,
				Tweets: []NewTweet{{Text: fmt.Sprintf("post %d", i)}}}, now)
			if err == nil {
				id = p.ID
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := create(0)
	ids := []int64{first}
	prepared := len(s.stmts)
	if prepared == 0 {
		t.Fatal("no statement was prepared")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				err := s.View(ctx, func(tx *Tx) error {
					p, err := tx.GetPost(first)
					if err == nil && p.Tweets[0].Text != "post 0" {
						err = fmt.Errorf("read %q", p.Tweets[0].Text)
					}
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("reader %d/%d: %w", w, i, err)
					return
				}
			}
		})
	}
	for i := 1; i < 20; i++ {
		ids = append(ids, create(i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Same texts, same statements: the cache does not grow with use.
	if got := len(s.stmts); got != prepared {
		t.Errorf("%d prepared statements after reuse, want %d", got, prepared)
	}
	var n int
	if err := s.View(ctx, func(tx *Tx) error {
		ps, err := tx.ListPosts(ListFilter{})
		n = len(ps)
		return err
	}); err != nil || n != len(ids) {
		t.Fatalf("listed %d posts (%v), want %d", n, err, len(ids))
	}
}

// A statement that cannot be prepared fails the call, not later ones.
func TestPreparedStatementError(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	err := s.View(ctx, func(tx *Tx) error {
		var n int
		return tx.queryRow(`SELECT count(*) FROM no_such_table`).Scan(&n)
	})
	if err == nil {
		t.Fatal("query of a missing table succeeded")
	}
	if _, ok := s.stmts[`SELECT count(*) FROM no_such_table`]; ok {
		t.Error("a failed statement was cached")
	}
	if err := s.View(ctx, func(tx *Tx) error {
		_, err := tx.GetPost(1)
		return err
	}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a failed statement: %v, want ErrNotFound", err)
	}
}

// Idle connections stay open, so a burst of transactions does not reopen
// (and re-run the pragmas of) a connection for each one.
func TestPoolKeepsIdleConnections(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	read := func(tx *Tx) error {
		_, err := tx.GetPost(1)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	// The first use of a query prepares it on the pool, which takes a
	// connection of its own; do that once before measuring.
	if err := s.View(ctx, read); err != nil {
		t.Fatal(err)
	}
	before := s.db.Stats().MaxIdleClosed
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 6 {
		wg.Go(func() {
			<-start
			_ = s.View(ctx, func(tx *Tx) error {
				time.Sleep(20 * time.Millisecond) // hold the connection so several open
				return read(tx)
			})
		})
	}
	close(start)
	wg.Wait()
	st := s.db.Stats()
	if n := st.MaxIdleClosed - before; n != 0 {
		t.Errorf("%d connections closed for lack of idle slots", n)
	}
	if st.Idle < 2 {
		t.Errorf("%d idle connections kept, want several", st.Idle)
	}
}
