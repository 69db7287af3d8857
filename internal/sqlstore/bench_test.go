package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/psnd/psnd/internal/post"
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
