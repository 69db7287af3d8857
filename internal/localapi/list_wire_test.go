package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/sqlstore/sqlstoretest"
)

func migratedStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, err := sqlstoretest.Open(context.Background(), filepath.Join(t.TempDir(), "psn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// getOK is the body of GET path from h, failing the test unless it is 200.
func getOK(t *testing.T, h http.Handler, path string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://psnd"+path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func staleWireForms(t *testing.T, st *sqlstore.Store) int {
	t.Helper()
	var n int
	if err := st.View(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		n, err = tx.CountStaleWire()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// A list answers the same bytes whether it reads the posts' stored wire
// forms, their columns (too many stale: just seeded) or a mix, and each
// post in it is byte for byte what GET /v1/posts/{id} answers for it —
// the upload progress, which only the daemon's memory holds, included.
func TestListWireFormsAsWritten(t *testing.T) {
	ctx := context.Background()
	st := migratedStore(t)
	base := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	texts := []string{"İstanbul'da Ⱥ ⱥ", "日本語のテキスト", "שלום עולם مرحبا", "emoji 👩‍👩‍👧 🇫🇷", `quote " <b>&</b> \u2028`, "https://t.co/abc @bob #tag"}
	if _, err := sqlstoretest.SeedPosts(ctx, st, sqlstoretest.Spec{
		Posts: 2500, ThreadEvery: 7, ThreadLen: 3, Status: sqlstoretest.Mix,
		At:   func(i int) time.Time { return base.Add(time.Duration(i%50) * time.Hour) },
		Text: func(i, pos int) string { return fmt.Sprintf("%s %d/%d", texts[(i+pos)%len(texts)], i, pos) },
	}); err != nil {
		t.Fatal(err)
	}
	var withMedia *post.Post
	if err := st.Update(ctx, func(tx *sqlstore.Tx) error {
		at := base.Add(time.Hour)
		var err error
		withMedia, err = tx.CreatePost(sqlstore.NewPost{AccountID: sqlstoretest.Account.ID, Status: post.StatusScheduled, ScheduledAt: &at,
			Tweets: []sqlstore.NewTweet{{Text: "pictures"}, {Text: "more", Media: []post.Media{
				{Path: "/m/a b.png", SHA256: "x", MimeType: "image/png", Size: 12, AltText: "a cat, İ"},
				{Path: "/m/c.gif", SHA256: "y", MimeType: "image/gif", Size: 3}}}}}, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Store: st, DataDir: t.TempDir()})
	h := s.Handler()
	get := func(path string) []byte { t.Helper(); return getOK(t, h, path) }
	// Each post of a list is what the post's own GET answers.
	checkEach := func(list []byte) {
		t.Helper()
		var items []json.RawMessage
		if err := json.Unmarshal(list, &items); err != nil {
			t.Fatal(err)
		}
		if len(items) != 2501 {
			t.Fatalf("%d posts listed, want 2501", len(items))
		}
		for _, it := range items {
			var p struct{ ID int64 }
			if err := json.Unmarshal(it, &p); err != nil {
				t.Fatal(err)
			}
			one := bytes.TrimSuffix(get(fmt.Sprintf("%s/%d", api.PathPosts, p.ID)), []byte("\n"))
			if !bytes.Equal(it, one) {
				t.Fatalf("post %d listed as\n%s\nits own GET:\n%s", p.ID, it, one)
			}
		}
	}
	// Too many stale to merge: every post read from its columns.
	if n := staleWireForms(t, st); n != 2501 {
		t.Fatalf("%d stale after seeding, want 2501", n)
	}
	fromColumns := get(api.PathPosts)
	checkEach(fromColumns)

	s.mem.release() // what the daemon runs when the API goes quiet
	if n := staleWireForms(t, st); n != 0 {
		t.Fatalf("%d stale after the release", n)
	}
	if stored := get(api.PathPosts); !bytes.Equal(stored, fromColumns) {
		t.Fatal("the list from stored forms differs from the list read from columns")
	}
	// Pages walked by cursor list the same posts.
	var all []json.RawMessage
	if err := json.Unmarshal(fromColumns, &all); err != nil {
		t.Fatal(err)
	}
	var walked []json.RawMessage
	for path := api.PathPosts + "?limit=333"; ; {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://psnd"+path, nil))
		var page []json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		walked = append(walked, page...)
		c := rec.Header().Get(api.NextCursorHeader)
		if c == "" {
			break
		}
		path = api.PathPosts + "?limit=333&cursor=" + c
	}
	if len(walked) != len(all) {
		t.Fatalf("pages gave %d posts, the list %d", len(walked), len(all))
	}
	for i := range all {
		if !bytes.Equal(walked[i], all[i]) {
			t.Fatalf("page item %d differs:\n%s\n%s", i, walked[i], all[i])
		}
	}

	// A few posts change: those are merged in from their columns.
	if err := st.Update(ctx, func(tx *sqlstore.Tx) error {
		for _, id := range []int64{3, 500, 1200, withMedia.ID} {
			if _, err := tx.CancelPost(id, time.Now()); err != nil && id == withMedia.ID {
				return err
			}
		}
		return tx.UpsertAccount(post.Account{ID: sqlstoretest.Account.ID, Username: "alice_İ"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if n := staleWireForms(t, st); n != 2501 {
		t.Fatalf("renaming the account left %d of its 2501 posts stale", n)
	}
	s.fillWire()
	if err := st.Update(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.UpdatePost(withMedia.ID, sqlstore.PostUpdate{Tweets: []sqlstore.NewTweet{{Text: "pictures, edited"}, {Text: "more",
			Media: []post.Media{{Path: "/m/d.png", SHA256: "z", MimeType: "image/png", Size: 9, AltText: "new"}}}}}, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := staleWireForms(t, st); n != 1 {
		t.Fatalf("%d stale after one edit, want 1", n)
	}
	s.SetUpload(withMedia.ID, 5, 15)
	s.SetUpload(1, 1, 2)
	mixed := get(api.PathPosts)
	checkEach(mixed)
	if !bytes.Contains(mixed, []byte(`"upload":{"sent":1,"total":2}}`)) || !bytes.Contains(mixed, []byte(`"upload":{"sent":5,"total":15}}`)) {
		t.Error("the uploads in progress are not in the list")
	}
	// Every form stored and in runs (migration 00021): a list reads the
	// runs, but post by post while uploads run, to show their progress.
	s.fillWire()
	var runs int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM post_wire_run WHERE n > 0`).Scan(&runs); err != nil || runs == 0 {
		t.Fatalf("no runs of forms after a fill (%d, %v)", runs, err)
	}
	inRuns := get(api.PathPosts)
	checkEach(inRuns)
	if !bytes.Contains(inRuns, []byte(`"upload":{"sent":1,"total":2}}`)) || !bytes.Contains(inRuns, []byte(`"upload":{"sent":5,"total":15}}`)) {
		t.Error("the uploads in progress are not in a list read with runs stored")
	}
	s.SetUpload(withMedia.ID, 15, 15)
	s.SetUpload(1, 2, 2)
	checkEach(get(api.PathPosts))
}

// The forms another psnd stored — one whose list JSON differs, after an
// upgrade or a downgrade — are not served: at start the daemon finds them
// in another format and has every post encoded again, and lists, before
// and after that, are what this psnd's GET of each post answers.
func TestListServesNoFormOfAnotherEncoding(t *testing.T) {
	ctx := context.Background()
	st := migratedStore(t)
	base := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	if _, err := sqlstoretest.SeedPosts(ctx, st, sqlstoretest.Spec{
		Posts: 40, ThreadEvery: 5, ThreadLen: 2, Status: sqlstoretest.Mix,
		At: func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) },
	}); err != nil {
		t.Fatal(err)
	}
	// Another psnd's encoding: a field this one does not write.
	other := func(p *post.Post) []byte {
		w := wirePost(p)
		return append(bytes.TrimSuffix(appendPostJSON(nil, &w), []byte("}")), `,"from_another_psnd":true}`...)
	}
	if err := st.Update(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.FillWire(1000, other)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Store: st, DataDir: t.TempDir()})
	t.Cleanup(func() { <-s.Drain() }) // before the store closes: no fill after
	s.Start(ctx)
	h := s.Handler()
	get := func(path string) []byte { t.Helper(); return getOK(t, h, path) }
	check := func(when string) {
		t.Helper()
		var items []json.RawMessage
		if err := json.Unmarshal(get(api.PathPosts), &items); err != nil {
			t.Fatal(err)
		}
		if len(items) != 40 {
			t.Fatalf("%s: %d posts listed, want 40", when, len(items))
		}
		for _, it := range items {
			var p struct{ ID int64 }
			if err := json.Unmarshal(it, &p); err != nil {
				t.Fatal(err)
			}
			one := bytes.TrimSuffix(get(fmt.Sprintf("%s/%d", api.PathPosts, p.ID)), []byte("\n"))
			if !bytes.Equal(it, one) {
				t.Fatalf("%s: post %d listed as\n%s\nits own GET:\n%s", when, p.ID, it, one)
			}
		}
	}
	check("after start")
	s.fillWire()
	if n := staleWireForms(t, st); n != 0 {
		t.Fatalf("%d stale after a fill", n)
	}
	check("after a fill")

	// A start of the same psnd keeps what it stored.
	s.useWireFormat(ctx)
	if n := staleWireForms(t, st); n != 0 {
		t.Fatalf("a start in the same format left %d posts stale", n)
	}
}

// With the database file gone the daemon logs that once (CheckDB), not
// again each time the API goes quiet and it would store wire forms.
func TestFillWireQuietWhenDatabaseGone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "psn.db")
	st, err := sqlstore.Open(ctx, path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	s := New(Config{Store: st, DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	s.fillWire()
	s.fillWire()
	if logged.Len() != 0 {
		t.Errorf("fills with the database gone logged:\n%s", logged.String())
	}
}
