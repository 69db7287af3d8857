package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/slots"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/sqlstore/sqlstoretest"
)

// listStore is a store holding 100,000 posts (sqlstoretest.ListSpec),
// seeded once per test binary and removed by TestMain.
var listStore struct {
	once sync.Once
	dir  string
	s    *sqlstore.Store
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if listStore.s != nil {
		listStore.s.Close()
	}
	if listStore.dir != "" {
		os.RemoveAll(listStore.dir)
	}
	os.Exit(code)
}

func list100k(b *testing.B) *sqlstore.Store {
	b.Helper()
	listStore.once.Do(func() {
		listStore.dir, listStore.err = os.MkdirTemp("", "psnd-sqlstore-bench-")
		if listStore.err != nil {
			return
		}
		path := filepath.Join(listStore.dir, "psn.db")
		ctx := context.Background()
		if listStore.err = sqlstoretest.SeedFile(ctx, path, sqlstoretest.ListSpec(100_000)); listStore.err != nil {
			return
		}
		listStore.s, listStore.err = sqlstore.Open(ctx, path, sqlstore.Options{})
	})
	if listStore.err != nil {
		b.Fatal(listStore.err)
	}
	return listStore.s
}

// BenchmarkListPosts is the store's part of `psnd list` over 100,000 posts
// (120,000 tweet rows): the query and building the posts, no JSON.
func BenchmarkListPosts(b *testing.B) {
	s := list100k(b)
	for _, c := range []struct {
		name string
		f    sqlstore.ListFilter
	}{
		{"all", sqlstore.ListFilter{}},
		{"failed", sqlstore.ListFilter{Status: post.StatusFailed}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				if err := s.View(context.Background(), func(tx *sqlstore.Tx) error {
					ps, err := tx.ListPosts(c.f)
					n = len(ps)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "posts")
		})
	}
}

// BenchmarkListPage is the store's part of the paged list over 100,000
// posts: one page of 20 (a part of `psnd list`'s default view, or a
// completion), and a walk of every post in pages of 256 (what the daemon
// streams for `psnd list --json`).
func BenchmarkListPage(b *testing.B) {
	s := list100k(b)
	walk := func(q sqlstore.ListQuery, page int, all bool) int {
		n := 0
		var after *sqlstore.ListCursor
		for {
			var more bool
			if err := s.View(context.Background(), func(tx *sqlstore.Tx) error {
				ps, last, m, err := tx.ListPage(q, after, page)
				n += len(ps)
				after, more = &last, m
				return err
			}); err != nil {
				b.Fatal(err)
			}
			if !more || !all {
				return n
			}
		}
	}
	for _, c := range []struct {
		name string
		q    sqlstore.ListQuery
		page int
		all  bool
	}{
		{"page20-scheduled", sqlstore.ListQuery{Statuses: []post.Status{post.StatusScheduled}}, 20, false},
		{"page20-published", sqlstore.ListQuery{Statuses: []post.Status{post.StatusDraft, post.StatusPublished}}, 20, false},
		{"walk-all", sqlstore.ListQuery{}, 256, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = walk(c.q, c.page, c.all)
			}
			b.ReportMetric(float64(n), "posts")
		})
	}
}

// BenchmarkQueue is the store's part of the queue over 100,000 posts (the
// scheduled ones a year ahead, a minute apart) with ten slots a day:
// `psnd queue` (the week's posts in slots), one `post --queue` (a picker
// and its first slot), and an import of 5,000 queued items (one picker,
// 5,000 slots).
func BenchmarkQueue(b *testing.B) {
	s := list100k(b)
	ctx := context.Background()
	spec, err := slots.ParseSpec("daily 09:00,10:00,11:00,12:00,13:00,14:00,15:00,16:00,17:00,18:00")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.AddSlots(sqlstoretest.Account.ID, spec, "Europe/Paris", now)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	picks := func(n int) func(tx *sqlstore.Tx) error {
		return func(tx *sqlstore.Tx) error {
			pk, err := tx.NewSlotPicker(sqlstoretest.Account.ID, now, 0)
			if err != nil {
				return err
			}
			for range n {
				if _, err := pk.Next(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	for _, c := range []struct {
		name string
		fn   func(tx *sqlstore.Tx) error
	}{
		{"view-week", func(tx *sqlstore.Tx) error {
			_, err := tx.SlotPosts("", now, now.Add(7*24*time.Hour))
			return err
		}},
		{"next", picks(1)},
		{"import-5000", picks(5000)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.View(ctx, c.fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// scheduledStore is a migrated store holding n scheduled posts; it is
// closed when the benchmark ends.
func scheduledStore(b *testing.B, n int) *sqlstore.Store {
	b.Helper()
	ctx := context.Background()
	s, err := sqlstoretest.Open(ctx, filepath.Join(b.TempDir(), "psn.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := sqlstoretest.SeedPosts(ctx, s, sqlstoretest.Spec{Posts: n}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkNextPreflight is the pre-flight look-up of every scheduler
// round over 10,000 scheduled posts, all already pre-flighted (the steady
// state of a daemon with a full queue): nothing is left to check, which
// must not cost a visit to each post.
func BenchmarkNextPreflight(b *testing.B) {
	ctx := context.Background()
	s := scheduledStore(b, 10_000)
	if _, err := s.DB().ExecContext(ctx, `UPDATE posts SET preflight_run_id = run_id`); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.View(ctx, func(tx *sqlstore.Tx) error {
			_, ok, err := tx.NextPreflight()
			if ok {
				b.Fatal("a post is left to pre-flight")
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreatePreflighted is what a scheduled post costs to write
// into the indexes: 100 scheduled posts created in one transaction, each
// then pre-flighted, over 10,000 scheduled posts already there. (The
// pre-flight indexes of migration 00019 take each post in at its create
// and out at its check.)
func BenchmarkCreatePreflighted(b *testing.B) {
	ctx := context.Background()
	s := scheduledStore(b, 10_000)
	now := time.Now()
	for b.Loop() {
		if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
			for i := range 100 {
				at := now.Add(time.Duration(i) * time.Second)
				p, err := tx.CreatePost(sqlstore.NewPost{AccountID: sqlstoretest.Account.ID, Status: post.StatusScheduled,
					ScheduledAt: &at, Tweets: []sqlstore.NewTweet{{Text: sqlstoretest.DefaultText(i, 0)}}}, now)
				if err != nil {
					return err
				}
				if _, err := tx.SetPreflight(p.ID, p.RunID, "", now); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHealthCounts is the three counts GET /v1/health makes (failed
// in the last day, at risk, held by the budget) over 100,000 posts: every
// psnd command asks the health first, for its one-line notice.
func BenchmarkHealthCounts(b *testing.B) {
	s := list100k(b)
	ctx := context.Background()
	since := time.Now().Add(-24 * time.Hour)
	for b.Loop() {
		if err := s.View(ctx, func(tx *sqlstore.Tx) error {
			if _, err := tx.CountFailedSince(since); err != nil {
				return err
			}
			if _, err := tx.CountAtRisk(); err != nil {
				return err
			}
			_, err := tx.CountHeldOverBudget()
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
