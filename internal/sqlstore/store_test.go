package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "psn.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenPragmasAndModes(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	checks := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "10000"}
	for p, want := range checks {
		// Several connections: pragmas must hold on every pooled connection.
		for range 3 {
			var got string
			if err := s.db.QueryRowContext(ctx, "PRAGMA "+p).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", p, got, want)
			}
		}
	}
	// Write something so the WAL and SHM files exist, then check modes.
	if err := s.Update(ctx, func(tx *Tx) error { return tx.SetTimezone("Europe/Paris", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(s.Path() + suffix)
		if err != nil {
			t.Fatalf("stat %s: %v", suffix, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(s.Path()+suffix), fi.Mode().Perm())
		}
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "psn.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) < 3 {
		t.Fatalf("applied %v, want at least 3 migrations", applied)
	}
	cur, known, err := s.SchemaVersion(ctx)
	if err != nil || cur != known {
		t.Fatalf("version %d/%d err %v", cur, known, err)
	}
	if err := s.MigrateDownTo(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('posts','accounts','media','oauth_tokens','settings')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d tables left after migrating down", n)
	}
	reapplied, err := s.Migrate(ctx)
	if err != nil || len(reapplied) != len(applied) {
		t.Fatalf("re-applied %v (want %v), err %v", reapplied, applied, err)
	}
	again, err := s.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v err %v", again, err)
	}
}

// TestSchemaColumns pins the columns SPEC §2 names.
func TestSchemaColumns(t *testing.T) {
	s := openTemp(t)
	want := map[string][]string{
		"accounts":     {"id", "username", "display_name", "subscription_type"},
		"oauth_tokens": {"account_id", "access_token_enc", "refresh_token_enc", "expires_at", "scopes", "metadata"},
		"posts": {"id", "account_id", "parent_post_id", "thread_position", "content", "status", "sub_status",
			"scheduled_at", "published_at", "fail_reason", "platform_post_id", "run_id",
			"attempts", "next_retry_at", "lease_owner", "lease_expires_at"},
		"media":    {"post_id", "path", "sha256", "mime_type", "size_bytes", "alt_text", "x_media_id", "x_media_expires_at"},
		"settings": {"timezone", "default_account_id", "x_client_id", "x_client_secret_enc"},
	}
	for table, cols := range want {
		rows, err := s.db.Query(`SELECT name FROM pragma_table_xinfo(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for rows.Next() {
			var name string
			rows.Scan(&name)
			have[name] = true
		}
		rows.Close()
		for _, c := range cols {
			if !have[c] {
				t.Errorf("%s lacks column %s", table, c)
			}
		}
	}
}

func TestStatusConstraintsMirrorGo(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	mustAccount(t, s)
	var id int64
	if err := s.Update(ctx, func(tx *Tx) error {
		p, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusDraft, Tweets: []NewTweet{{Text: "x"}}}, now)
		id = p.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	set := func(col, val string) error {
		_, err := s.db.Exec(`UPDATE posts SET `+col+` = ?, scheduled_at = '2030-01-01T00:00:00.000Z', platform_post_id = '9' WHERE id = ?`, val, id)
		return mapErr(err)
	}
	for _, st := range post.Statuses {
		if err := set("status", string(st)); err != nil {
			t.Errorf("status %s refused: %v", st, err)
		}
	}
	for _, st := range post.SubStatuses {
		if err := set("sub_status", string(st)); err != nil {
			t.Errorf("sub_status %s refused: %v", st, err)
		}
	}
	if err := set("status", "bogus"); !errors.Is(err, ErrConstraint) {
		t.Errorf("bogus status: err = %v, want ErrConstraint", err)
	}
	if err := set("sub_status", "retry_4"); !errors.Is(err, ErrConstraint) {
		t.Errorf("bogus sub_status: err = %v, want ErrConstraint", err)
	}
}

func mustAccount(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx *Tx) error {
		return tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateGetListPosts(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	mustAccount(t, s)
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	at := now.Add(time.Hour)
	var thread, draft *post.Post
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		thread, err = tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at,
			Tweets: []NewTweet{{Text: "one", Media: []post.Media{{Path: "/m/a.png", SHA256: "ab", MimeType: "image/png", Size: 3, AltText: "alt"}}}, {Text: "two"}, {Text: "three"}}}, now)
		if err != nil {
			return err
		}
		draft, err = tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusDraft, Tweets: []NewTweet{{Text: "draft"}}}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(thread.Tweets) != 3 || thread.Tweets[2].Text != "three" || thread.Tweets[2].Position != 2 {
		t.Fatalf("thread = %+v", thread)
	}
	if thread.Account != "alice" || !thread.ScheduledAt.Equal(at) || thread.RunID == "" {
		t.Fatalf("thread root = %+v", thread)
	}
	if m := thread.Tweets[0].Media; len(m) != 1 || m[0].AltText != "alt" {
		t.Fatalf("media = %+v", m)
	}
	err = s.View(ctx, func(tx *Tx) error {
		all, err := tx.ListPosts(ListFilter{})
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].ID != thread.ID || all[1].ID != draft.ID || len(all[0].Tweets) != 3 {
			t.Errorf("list = %+v", all)
		}
		drafts, err := tx.ListPosts(ListFilter{Status: post.StatusDraft})
		if err != nil {
			return err
		}
		if len(drafts) != 1 || drafts[0].ID != draft.ID {
			t.Errorf("drafts = %+v", drafts)
		}
		// A child row's id is not a post id.
		if _, err := tx.GetPost(thread.Tweets[1].RowID); !errors.Is(err, ErrNotFound) {
			t.Errorf("get child: err = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNonSQLiteUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "psn.db")
	content := []byte(strings.Repeat("this is not a database\n", 200))
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path, Options{})
	if !errors.Is(err, ErrNotADatabase) {
		t.Fatalf("err = %v, want ErrNotADatabase", err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, content) {
		t.Fatal("non-SQLite file was modified")
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("%s created next to a refused file", suffix)
		}
	}
}

func TestMigrateRefusesNewerSchemaUnchanged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "psn.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Pretend a newer psnd applied migration 999.
	if _, err := s.db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(path)

	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Migrate(ctx)
	s.Close()
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "999") {
		t.Fatalf("err = %v, want ErrSchemaTooNew naming 999", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("database modified although migration was refused")
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	s := openTemp(t)
	err := s.Update(context.Background(), func(tx *Tx) error {
		_, err := tx.CreatePost(NewPost{AccountID: "nobody", Status: post.StatusDraft, Tweets: []NewTweet{{Text: "x"}}}, time.Now())
		return err
	})
	if !errors.Is(err, ErrConstraint) {
		t.Fatalf("err = %v, want ErrConstraint (foreign key)", err)
	}
}

func TestFirstAccountIsDefault(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, now); err != nil {
			return err
		}
		return tx.UpsertAccount(post.Account{ID: "2", Username: "bob"}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(ctx, func(tx *Tx) error {
		a, err := tx.Account("")
		if err != nil || a.Username != "alice" {
			t.Errorf("default = %+v, %v", a, err)
		}
		b, err := tx.Account("@BOB")
		if err != nil || b.ID != "2" {
			t.Errorf("lookup bob = %+v, %v", b, err)
		}
		return nil
	})
}
