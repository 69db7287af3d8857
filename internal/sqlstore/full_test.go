package sqlstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// SQLite itself answers SQLITE_FULL (13, "database or disk is full") when a
// write needs a page beyond max_page_count: the same code a full disk gives.
// The store must report it as ErrFull, change nothing, and accept the same
// write once there is room again.
func TestDiskFullMapsToErrFull(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, now)
	}); err != nil {
		t.Fatal(err)
	}
	create := func(text string) func(tx *Tx) error {
		return func(tx *Tx) error {
			_, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusDraft,
				Tweets: []NewTweet{{Text: text}}}, now)
			return err
		}
	}
	// Prepare the statements first: with one connection, preparing one on
	// the pool inside a transaction would wait for itself.
	if err := s.Update(ctx, create("warm-up")); err != nil {
		t.Fatal(err)
	}
	// One connection, so the per-connection limit holds for every write.
	s.db.SetMaxOpenConns(1)
	var pages int
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("İstanbul'da 東京 🐦‍🔥 ", 2000) // needs several new pages
	err := s.Update(ctx, create(big))
	if !errors.Is(err, ErrFull) {
		t.Fatalf("write past max_page_count: err = %v, want ErrFull", err)
	}
	if !strings.Contains(err.Error(), "(13)") {
		t.Errorf("error %q does not keep SQLite's text and code", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM posts").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after the refused write: %d posts (err %v), want 1", n, err)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, create(big)); err != nil {
		t.Fatalf("same write once there is room: %v", err)
	}
}
