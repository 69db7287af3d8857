package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

func createDraft(s *Store, text string) error {
	return s.Update(context.Background(), func(tx *Tx) error {
		_, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusDraft, Tweets: []NewTweet{{Text: text}}}, time.Now())
		return err
	})
}

func countPosts(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.View(context.Background(), func(tx *Tx) error {
		ps, err := tx.ListPosts(ListFilter{})
		n = len(ps)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRefusedOnceFileGone deletes, or replaces, the database file under an
// open store: writes and reads must be refused with ErrDatabaseGone (not
// "succeed" into a file nobody will see again, nor read another file), no
// new connection may make an empty database at the path, and the data can
// still be copied out.
func TestRefusedOnceFileGone(t *testing.T) {
	for _, tc := range []struct {
		name    string
		removed bool
		do      func(path string) error
	}{
		{"deleted", true, os.Remove},
		{"replaced", false, func(path string) error {
			other := filepath.Join(filepath.Dir(path), "other.db")
			if err := os.WriteFile(other, nil, 0o600); err != nil {
				return err
			}
			return os.Rename(other, path)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			ctx := context.Background()
			mustAccount(t, s)
			if err := createDraft(s, "before: İstanbul'da 春"); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckFile(); err != nil {
				t.Fatalf("CheckFile on an intact file: %v", err)
			}
			if err := tc.do(s.Path()); err != nil {
				t.Fatal(err)
			}
			err := createDraft(s, "after")
			var gone *DatabaseGoneError
			if !errors.Is(err, ErrDatabaseGone) || !errors.As(err, &gone) || gone.Removed != tc.removed || gone.Path != s.Path() {
				t.Fatalf("write after the file was %s: err = %v, want DatabaseGoneError{Removed: %v}", tc.name, err, tc.removed)
			}
			if !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), "restart psnd") {
				t.Errorf("message %q does not say what happened and what to do", err)
			}
			if err := s.View(ctx, func(*Tx) error { return nil }); !errors.Is(err, ErrDatabaseGone) {
				t.Errorf("read after the file was %s: err = %v, want ErrDatabaseGone", tc.name, err)
			}
			// The pool opens new connections under load: none may create
			// a database where the file was deleted.
			var conns []*sql.Conn
			for range 12 {
				if c, err := s.DB().Conn(ctx); err == nil {
					c.PingContext(ctx)
					conns = append(conns, c)
				}
			}
			for _, c := range conns {
				c.Close()
			}
			if fi, err := os.Stat(s.Path()); tc.removed && err == nil {
				t.Errorf("a new connection created %s (%d bytes)", s.Path(), fi.Size())
			}
			cp := filepath.Join(t.TempDir(), "rescued.db")
			if err := s.SaveCopy(ctx, cp); err != nil {
				t.Fatal(err)
			}
			c, err := Open(ctx, cp, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if n := countPosts(t, c); n != 1 {
				t.Errorf("the copy holds %d posts, want the 1 written before", n)
			}
		})
	}
}

func TestCheckPresentNeedsMarker(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "psn.db")
	if err := CheckPresent(db); err != nil {
		t.Fatalf("new directory: %v", err)
	}
	s, err := Open(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := CheckPresent(db); err != nil {
		t.Fatalf("database without marker: %v", err)
	}
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := MarkInitialized(db, created); err != nil {
		t.Fatal(err)
	}
	if err := MarkInitialized(db, created.Add(time.Hour)); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := CheckPresent(db); err != nil {
		t.Fatalf("database with marker: %v", err)
	}
	for _, tc := range []struct {
		name string
		make func() error
		want string
	}{
		{"missing", func() error { return os.Remove(db) }, "is missing"},
		{"empty", func() error { return os.WriteFile(db, nil, 0o600) }, "is empty"},
	} {
		if err := tc.make(); err != nil {
			t.Fatal(err)
		}
		err := CheckPresent(db)
		if !errors.Is(err, ErrDatabaseMissing) {
			t.Fatalf("%s: err = %v, want ErrDatabaseMissing", tc.name, err)
		}
		for _, part := range []string{tc.want, "2026-03-01", "Restore psn.db", "remove " + InitializedPath(db)} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: %q lacks %q", tc.name, err, part)
			}
		}
	}
	os.Remove(InitializedPath(db))
	if err := CheckPresent(db); err != nil {
		t.Fatalf("marker removed to start afresh: %v", err)
	}
}
