package daemon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/oauth/oauthtest"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore/sqlstoretest"
)

// xLatency is the delay the X-like fake adds before it handles a create:
// roughly a round trip to X and its own work.
const xLatency = 50 * time.Millisecond

// BenchmarkPublishBurstRealTokens is the 1,000-posts-due-at-once goal as a
// user meets it: each op is a fresh daemon whose access token comes from
// the database (sealed with the data key, read and decrypted by the real
// token source, as after `psnd auth login`), publishing to the fake X
// over loopback HTTP, through the daemon's own HTTP client, with
// xLatency per create and X's rate-limit headers
// on every answer (a limit high enough not to refuse: the headers are
// parsed, the burst is not throttled). all-ms is when the last create
// was answered after the due instant; cpu-ms the whole process's CPU per
// burst.
//
// default runs the daemon's default workers (defaultWorkers, 128);
// workers16 and workers64 show what the worker count alone changes when
// each create waits xLatency (16 was the default before).
func BenchmarkPublishBurstRealTokens(b *testing.B) {
	b.Run("default", func(b *testing.B) { burstRealTokens(b, 0) })
	b.Run("workers16", func(b *testing.B) { burstRealTokens(b, 16) })
	b.Run("workers64", func(b *testing.B) { burstRealTokens(b, 64) })
}

func burstRealTokens(b *testing.B, workers int) {
	const n = 1000
	var all []time.Duration
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		x := fakex.New(fakex.Options{RateLimits: map[string]int{"POST /2/tweets": 100_000}})
		user := fakex.User{ID: sqlstoretest.Account.ID, Username: sqlstoretest.Account.Username, Name: "Alice"}
		x.AddUser(user)
		var answered atomic.Int64
		var lastAnswer atomic.Int64
		done := make(chan struct{})
		var once sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			create := r.Method == http.MethodPost && r.URL.Path == "/2/tweets"
			if create {
				time.Sleep(xLatency)
			}
			x.ServeHTTP(w, r)
			if create {
				lastAnswer.Store(time.Now().UnixNano())
				if answered.Add(1) == n {
					once.Do(func() { close(done) })
				}
			}
		}))
		ctx := context.Background()
		home := benchHome(b)
		cfg := benchConfig(b, home)
		s, err := sqlstoretest.Open(ctx, cfg.Env.DBPath())
		if err != nil {
			b.Fatal(err)
		}
		id, _ := secrets.EntryID(home)
		key, _, err := secrets.LoadOrCreateKey(ctx, cfg.Keyring, id)
		if err != nil {
			b.Fatal(err)
		}
		oauthtest.SeedLogin(b, s, key, x, user, "bench-client")
		due := time.Now().Add(2 * time.Second).Truncate(time.Millisecond)
		if _, err := sqlstoretest.SeedPosts(ctx, s, sqlstoretest.Spec{Posts: n, At: func(int) time.Time { return due }, Text: latenessText}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		cfg.Env.APIURL = srv.URL
		// XHTTPClient stays nil: the daemon's own X client, as a user
		// has it (srv.Client()'s transport would keep 2 idle connections
		// and dial again for most creates).
		cfg.Workers = workers
		d := startBenchDaemon(b, cfg)
		if time.Now().After(due) {
			b.Fatalf("daemon started after the burst was due; raise the lead time")
		}
		cpu0 := processCPU()
		b.StartTimer()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			b.Fatalf("only %d of %d creates answered", answered.Load(), n)
		}
		b.StopTimer()
		cpu += processCPU() - cpu0
		all = append(all, time.Duration(lastAnswer.Load()-due.UnixNano()))
		d.stop()
		srv.Close()
		for _, r := range x.Requests() {
			if r.Method == http.MethodPost && r.Path == "/2/tweets" && r.Status >= 300 {
				b.Fatalf("a create was refused: %d", r.Status)
			}
		}
	}
	slices.Sort(all)
	b.ReportMetric(ms(all[len(all)/2]), "all-ms")
	b.ReportMetric(ms(all[len(all)-1]), "worst-all-ms")
	b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms")
}
