package daemon

// Benchmarks for issue 5's performance goals, reported in BENCHMARKS.md
// (run them with `make bench`). They use the real clock, the real
// wall-clock alarm (timerfd on Linux), a real SQLite file and the fake X
// over loopback HTTP with no added latency.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore/sqlstoretest"
)

// benchDaemon is an in-process daemon on the real clock and alarm.
type benchDaemon struct {
	home   string
	cfg    Config
	cancel context.CancelFunc
	done   chan error
}

func benchHome(b testing.TB) string {
	b.Helper()
	dir, err := os.MkdirTemp("/tmp", "psnd-b-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	home := filepath.Join(dir, "h")
	if err := os.Mkdir(home, 0o700); err != nil {
		b.Fatal(err)
	}
	return home
}

func benchConfig(b testing.TB, home string) Config {
	b.Helper()
	env, err := config.Load(func(k string) string {
		if k == "PSN_HOME" {
			return home
		}
		return ""
	}, "linux")
	if err != nil {
		b.Fatal(err)
	}
	return Config{Env: env, Version: "bench", Keyring: &secrets.Memory{}}
}

// startBenchDaemon runs Run(cfg) until b ends (or stop is called).
func startBenchDaemon(b testing.TB, cfg Config) *benchDaemon {
	b.Helper()
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	d := &benchDaemon{home: cfg.Env.Home, cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- Run(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-d.done:
		cancel()
		b.Fatalf("daemon did not start: %v", err)
	}
	b.Cleanup(d.stop)
	return d
}

func (d *benchDaemon) stop() {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	<-d.done
}

// latenessX is the fake X over loopback HTTP, counting creates so a
// benchmark can wait for the last one without polling the request log.
type latenessX struct {
	x       *fakex.Server
	srv     *httptest.Server
	creates atomic.Int64
	want    int64
	done    chan struct{}
	once    sync.Once
}

func newLatenessX(b testing.TB, want int) *latenessX {
	b.Helper()
	// No validator and no rate limit: the fake adds nothing but its own
	// handling time.
	x := fakex.New(fakex.Options{RateLimits: map[string]int{"POST /2/tweets": 1 << 30}})
	x.AddUser(fakex.User{ID: sqlstoretest.Account.ID, Username: sqlstoretest.Account.Username, Name: "Alice"})
	lx := &latenessX{x: x, want: int64(want), done: make(chan struct{})}
	lx.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.ServeHTTP(w, r)
		if r.Method == http.MethodPost && r.URL.Path == "/2/tweets" && lx.creates.Add(1) == lx.want {
			lx.once.Do(func() { close(lx.done) })
		}
	}))
	b.Cleanup(lx.srv.Close)
	return lx
}

func (lx *latenessX) wait(b testing.TB, timeout time.Duration) {
	b.Helper()
	select {
	case <-lx.done:
	case <-time.After(timeout):
		b.Fatalf("only %d of %d creates reached the fake X in %v", lx.creates.Load(), lx.want, timeout)
	}
}

// arrivals maps post index (from the text "lateness N") to the time its
// create request reached the fake X (the request log's timestamp, taken on
// the real clock as the fake starts handling the request).
func (lx *latenessX) arrivals(b testing.TB) map[int]time.Time {
	b.Helper()
	text := map[string]string{}
	for _, t := range lx.x.Tweets() {
		text[t.ID] = t.Posted
	}
	out := map[int]time.Time{}
	for _, r := range lx.x.Requests() {
		if r.Method != http.MethodPost || r.Path != "/2/tweets" || r.TweetID == "" {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(text[r.TweetID], "lateness "))
		if err != nil {
			b.Fatalf("unexpected tweet %q", text[r.TweetID])
		}
		if _, dup := out[i]; dup {
			b.Fatalf("post %d created twice", i)
		}
		out[i] = r.Time
	}
	return out
}

func latenessText(i, _ int) string { return fmt.Sprintf("lateness %d", i) }

// seedAndStart seeds n scheduled posts (post i at at(i)) into a fresh home
// and starts a daemon publishing to lx on the real clock and alarm.
func seedAndStart(b testing.TB, lx *latenessX, n int, at func(int) time.Time) *benchDaemon {
	b.Helper()
	ctx := context.Background()
	home := benchHome(b)
	cfg := benchConfig(b, home)
	s, err := sqlstoretest.Open(ctx, cfg.Env.DBPath())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sqlstoretest.SeedPosts(ctx, s, sqlstoretest.Spec{Posts: n, At: at, Text: latenessText}); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	cfg.Env.APIURL = lx.srv.URL
	cfg.XHTTPClient = lx.srv.Client()
	cfg.Tokens = &fakeTokens{x: lx.x, tok: map[string]string{}}
	return startBenchDaemon(b, cfg)
}

// BenchmarkPublishLateness measures scheduled instant → create request at
// the fake X. ns/op is the mean lateness; p50/p99/max are reported in ms.
//
// single: b.N posts due at distinct instants 25 ms apart, one daemon.
// burst1000: each op is a fresh daemon with 1,000 posts due at the same
// millisecond; "all-ms" is when the last of the 1,000 arrived, "cpu-ms" the
// CPU the whole process used per burst.
func BenchmarkPublishLateness(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		const gap = 25 * time.Millisecond
		lx := newLatenessX(b, b.N)
		base := time.Now().Add(time.Second).Truncate(time.Millisecond)
		at := func(i int) time.Time { return base.Add(time.Duration(i) * gap) }
		seedAndStart(b, lx, b.N, at)
		if time.Now().After(base) {
			b.Fatalf("daemon started after the first post was due; raise the lead time")
		}
		lx.wait(b, time.Duration(b.N)*gap+30*time.Second)
		var late []time.Duration
		for i, t := range lx.arrivals(b) {
			late = append(late, t.Sub(at(i)))
		}
		reportLateness(b, late)
	})
	b.Run("burst1000", func(b *testing.B) {
		const n = 1000
		var late, all []time.Duration
		var cpu time.Duration
		for range b.N {
			b.StopTimer()
			lx := newLatenessX(b, n)
			due := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
			d := seedAndStart(b, lx, n, func(int) time.Time { return due })
			if time.Now().After(due) {
				b.Fatalf("daemon started after the burst was due; raise the lead time")
			}
			cpu0 := processCPU()
			b.StartTimer()
			lx.wait(b, time.Minute)
			b.StopTimer()
			cpu += processCPU() - cpu0
			var last time.Duration
			for _, t := range lx.arrivals(b) {
				l := t.Sub(due)
				late = append(late, l)
				last = max(last, l)
			}
			all = append(all, last)
			d.stop()
		}
		reportLateness(b, late)
		slices.Sort(all)
		b.ReportMetric(ms(all[len(all)/2]), "all-ms")
		// CPU of the whole test process (daemon, fake X, HTTP on both
		// sides) per burst: steadier than wall time on a shared machine.
		b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms")
	})
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func reportLateness(b *testing.B, late []time.Duration) {
	if len(late) == 0 {
		b.Fatal("no lateness samples")
	}
	slices.Sort(late)
	if late[0] < 0 {
		b.Errorf("a post reached X %v before it was due", -late[0])
	}
	var sum time.Duration
	for _, l := range late {
		sum += l
	}
	q := func(p float64) time.Duration { return late[min(len(late)-1, int(p*float64(len(late))))] }
	b.ReportMetric(float64(sum)/float64(len(late)), "ns/op")
	b.ReportMetric(ms(q(0.50)), "p50-ms")
	b.ReportMetric(ms(q(0.99)), "p99-ms")
	b.ReportMetric(ms(late[len(late)-1]), "max-ms")
	b.ReportMetric(ms(late[0]), "min-ms")
}

// listTemplate is the bytes of a database with 100,000 posts
// (sqlstoretest.ListSpec), seeded once per test binary and written out for
// each benchmark that needs it.
var listTemplate struct {
	once sync.Once
	db   []byte
	err  error
}

const listPosts = 100_000

func listDB(b testing.TB, dst string) {
	b.Helper()
	listTemplate.once.Do(func() {
		dir, err := os.MkdirTemp("", "psnd-list-template-")
		if err != nil {
			listTemplate.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "psn.db")
		if listTemplate.err = sqlstoretest.SeedFile(context.Background(), path, sqlstoretest.ListSpec(listPosts)); listTemplate.err == nil {
			listTemplate.db, listTemplate.err = os.ReadFile(path)
		}
	})
	if listTemplate.err != nil {
		b.Fatal(listTemplate.err)
	}
	if err := os.WriteFile(dst, listTemplate.db, 0o600); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListPostsAPI is GET /v1/posts (what `psnd list --json` asks)
// over 100,000 posts, through the daemon's Unix socket; the body is read
// and discarded, so the allocations are the daemon's (handler, query,
// JSON) plus a small constant for the client.
//
// stored is the daemon as a user meets it: every post's wire form stored
// (migration 00017; the daemon stores them within seconds of going quiet).
// columns is the list right after 100,000 posts arrived at once (an import,
// a database just migrated): every post stale, so each is read from its
// columns and encoded, as before the stored forms.
func BenchmarkListPostsAPI(b *testing.B) {
	b.Run("stored", func(b *testing.B) { benchListPostsAPI(b, true) })
	b.Run("columns", func(b *testing.B) { benchListPostsAPI(b, false) })
}

func benchListPostsAPI(b *testing.B, stored bool) {
	home := benchHome(b)
	cfg := benchConfig(b, home)
	cfg.Env.APIURL = "http://127.0.0.1:1" // nothing is due; never reach a real X
	listDB(b, cfg.Env.DBPath())
	startBenchDaemon(b, cfg)
	// A second connection to the database, as sqlite3 would be: to wait
	// for the daemon's own storing of wire forms, and to make them stale.
	db, err := sql.Open("sqlite", "file:"+cfg.Env.DBPath()+"?_pragma=busy_timeout(30000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	settled := func() { sqlstoretest.WaitWireStored(b, cfg.Env.DBPath(), 2*time.Minute) }
	// Each timed list in columns finds every post stale, as after an
	// import of all of them.
	restale := func() {
		settled()
		if !stored {
			if _, err := db.Exec(`BEGIN IMMEDIATE; INSERT INTO post_wire_stale (id) SELECT id FROM post_wire;
				DELETE FROM post_wire; COMMIT`); err != nil {
				b.Fatal(err)
			}
		}
	}
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", cfg.Env.SocketPath())
		},
	}}
	get := func() int64 {
		resp, err := hc.Get("http://psnd" + api.PathPosts)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	size := get() // warm the page cache and the connection
	b.ReportAllocs()
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		restale()
		cpu0 := processCPU()
		b.StartTimer()
		get()
		b.StopTimer()
		cpu += processCPU() - cpu0
	}
	// CPU moves less than wall time on a shared machine; the client's
	// part (reading and discarding the body) is small.
	b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(size)/(1<<20), "MiB/resp")
}
