package e2e

// Measurements of the real binary for issue 5's and issue 12's performance
// goals, reported in BENCHMARKS.md (`make bench`, `make bench-idle`):
//
//   - BenchmarkListCommand: psnd list commands (--json, the default view,
//     --all, completion) and `psnd show` (one post: the floor every
//     command pays, its health check included) as a subprocess over
//     10,000 and 100,000 posts
//     (the command's wall time, CPU and peak RSS; the daemon's CPU and
//     peak RSS growth per command).
//   - BenchmarkListJSONClientSide: what `psnd list --json` does in its own
//     process (GET /v1/posts, copy the stream to stdout), in process so
//     that -benchmem counts the client's allocations.
//   - BenchmarkDaemonStart: exec to the first health answer at 100k posts.
//   - TestIdleDaemon (only with PSN_BENCH_IDLE=1): `psnd serve` idle,
//     fresh, after 10,000 API creates and after a 100k list.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore/sqlstoretest"
	"github.com/psnd/psnd/internal/testutil"
)

// benchHome is a short data directory (Unix socket limits) removed when tb
// ends.
func benchHome(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("/tmp", "psnd-eb-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	h := filepath.Join(dir, "h")
	if err := os.Mkdir(h, 0o700); err != nil {
		tb.Fatal(err)
	}
	return h
}

// serve starts `psnd serve` and waits until its health endpoint answers
// (not `psnd list`, whose cost would show up in what is measured). extraEnv
// is appended to environ. The daemon is stopped with SIGTERM when tb ends.
func serve(tb testing.TB, h string, environ []string, stderr io.Writer) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(psndBin, "serve")
	cmd.Env = environ
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	c := apiclient.New(filepath.Join(h, "psnd.sock"), "bench")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		hl, err := c.Health(ctx)
		cancel()
		if err == nil && hl.Status == api.HealthOK {
			return cmd
		}
		select {
		case <-exited:
			tb.Fatalf("daemon exited before it was ready")
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("daemon not ready after 30s")
	return nil
}

// listHome is a data directory whose database holds n posts
// (sqlstoretest.ListSpec) and a daemon serving it, with X pointed at an
// address that answers nothing (nothing is due).
func listHome(b *testing.B, n int) (h string, environ []string, pid int) {
	b.Helper()
	h = benchHome(b)
	if err := sqlstoretest.SeedFile(context.Background(), filepath.Join(h, "psn.db"), sqlstoretest.ListSpec(n)); err != nil {
		b.Fatal(err)
	}
	environ = env(h, "http://127.0.0.1:1")
	cmd := serve(b, h, environ, io.Discard)
	waitWireStored(b, filepath.Join(h, "psn.db"))
	return h, environ, cmd.Process.Pid
}

// waitWireStored waits until the daemon has stored every post's wire form,
// the state the list benchmarks measure.
func waitWireStored(tb testing.TB, dbPath string) {
	tb.Helper()
	sqlstoretest.WaitWireStored(tb, dbPath, 3*time.Minute)
}

// resetPeakRSS makes /proc/PID/status's VmHWM start again from the current
// RSS (Linux: writing 5 to clear_refs), so a benchmark can report the peak
// its own runs caused.
func resetPeakRSS(tb testing.TB, pid int) {
	tb.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		tb.Logf("cannot reset the peak RSS: %v", err)
	}
}

// BenchmarkListCommand runs psnd list commands as a subprocess against a
// daemon holding 10,000 or 100,000 posts: `list --json` (every post),
// `list` (the default view), `list --all` (every post as a table), the
// completion of post ids (`psnd __complete show ""`) and `psnd show 1`
// (one post: what any command costs at this size, the health check that
// every command makes first included). ns/op is the
// command's wall time (under GNU time, which adds about a millisecond);
// client-cpu-ms and client-maxrss-MB are the command's own; daemon-cpu-ms is the daemon's CPU per command and
// daemon-peak-growth-MB how far the daemon's peak RSS rose above its RSS
// before the timed runs.
func BenchmarkListCommand(b *testing.B) {
	for _, size := range []int{10_000, 100_000} {
		// The daemon lives as long as this (parent) benchmark: a
		// sub-benchmark's cleanup runs after each of its probing runs.
		_, environ, pid := listHome(b, size)
		for _, c := range []struct {
			name string
			args []string
		}{
			{"json", []string{"list", "--json"}},
			{"table", []string{"list"}},
			{"all", []string{"list", "--all"}},
			{"complete", []string{"__complete", "show", ""}},
			{"show", []string{"show", "1"}},
		} {
			if size == 10_000 && c.name != "json" && c.name != "table" && c.name != "show" {
				continue
			}
			b.Run(fmt.Sprintf("%s-%dk", c.name, size/1000), func(b *testing.B) {
				runListCommand(b, environ, pid, c.args)
			})
		}
	}
}

func runListCommand(b *testing.B, environ []string, pid int, args []string) {
	var outBytes int64
	var clientCPU time.Duration
	var maxRSS int64
	// The command's peak RSS comes from GNU time (fork, then exec): a
	// child started by Go's os/exec (vfork, sharing this process's memory
	// until exec) reports as its maxrss at least this benchmark process's
	// peak RSS, and the 76-81 MB once reported for `psnd list --json` was
	// that, not the client's.
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		b.Logf("no /usr/bin/time: client-maxrss-MB not measured")
	}
	usage := filepath.Join(b.TempDir(), "maxrss")
	once := func() {
		cmd := exec.Command(psndBin, args...)
		if gnuTime != "" {
			cmd = exec.Command(gnuTime, append([]string{"-o", usage, "-f", "%M", psndBin}, args...)...)
		}
		cmd.Env = environ
		cw := &countWriter{}
		cmd.Stdout = cw
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			b.Fatalf("psnd %v: %v: %s", args, err, errb.String())
		}
		outBytes = cw.n
		// The CPU of time itself (under a millisecond) is counted too.
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		clientCPU += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		if gnuTime != "" {
			var kb int64
			if _, err := fmt.Sscan(readFile(b, usage), &kb); err != nil {
				b.Fatalf("read GNU time's output: %v", err)
			}
			maxRSS = max(maxRSS, kb)
		}
	}
	once() // warm the page cache
	clientCPU, maxRSS = 0, 0
	rss0 := procStatus(b, pid)["VmRSS"]
	resetPeakRSS(b, pid)
	cpu0 := procCPU(b, pid)
	b.ResetTimer()
	for b.Loop() {
		once()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(procCPU(b, pid)-cpu0)/n/1e6, "daemon-cpu-ms")
	b.ReportMetric(float64(clientCPU)/n/1e6, "client-cpu-ms")
	if gnuTime != "" {
		b.ReportMetric(float64(maxRSS)/1024, "client-maxrss-MB")
	}
	b.ReportMetric(float64(procStatus(b, pid)["VmHWM"]-rss0)/1024, "daemon-peak-growth-MB")
	b.ReportMetric(float64(outBytes)/(1<<20), "MiB-out")
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// BenchmarkListJSONClientSide is what `psnd list --json` does in its own
// process now — GET /v1/posts and copy the streamed array to stdout as it
// arrives — run in process against the daemon subprocess (100,000 posts)
// so that -benchmem counts the client's allocations.
func BenchmarkListJSONClientSide(b *testing.B) {
	h, _, _ := listHome(b, 100_000)
	c := apiclient.New(filepath.Join(h, "psnd.sock"), "bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.ListPostsJSON(ctx, apiclient.ListQuery{}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDaemonStart is `psnd serve` from exec to its first answered
// health check, over a database of 100,000 posts (migrations already
// applied, as on every start but the first). p50/p95/max are over b.N
// starts; run with -benchtime=20x or more for a meaningful p95.
func BenchmarkDaemonStart(b *testing.B) {
	h, _, pid := listHome(b, 100_000)
	// The daemon listHome started has applied migrations; stop it.
	p, _ := os.FindProcess(pid)
	_ = p.Signal(syscall.SIGTERM)
	sock := filepath.Join(h, "psnd.sock")
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(sock); err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	environ := env(h, "http://127.0.0.1:1")
	var took []time.Duration
	for b.Loop() {
		cmd := exec.Command(psndBin, "serve")
		cmd.Env = environ
		c := apiclient.New(sock, "bench")
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			hl, err := c.Health(ctx)
			cancel()
			if err == nil && hl.Status == api.HealthOK {
				break
			}
			if time.Since(t0) > 30*time.Second {
				b.Fatal("daemon not ready after 30s")
			}
			time.Sleep(time.Millisecond)
		}
		took = append(took, time.Since(t0))
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	q := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	b.ReportMetric(float64(q(0.5))/1e6, "p50-ms")
	b.ReportMetric(float64(q(0.95))/1e6, "p95-ms")
	b.ReportMetric(float64(took[len(took)-1])/1e6, "max-ms")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// procCPU is the CPU time the process has used, summed over its threads
// from /proc/PID/task/*/schedstat (nanoseconds; /proc/PID/stat's ticks are
// 10 ms coarse, as big as the idle goal).
func procCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	var sum time.Duration
	for _, t := range threads(tb, pid) {
		sum += t.cpu
	}
	return sum
}

// statTicks is utime+stime from /proc/PID/stat in clock ticks (USER_HZ,
// 100 a second on Linux), for comparison with the schedstat sum.
func statTicks(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return ut + st
}

// procStatus reads the kB fields of /proc/PID/status (VmRSS, VmHWM, ...).
func procStatus(tb testing.TB, pid int) map[string]int64 {
	tb.Helper()
	return statusFile(tb, fmt.Sprintf("/proc/%d/status", pid))
}

func statusFile(tb testing.TB, path string) map[string]int64 {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// thread is one task's counters.
type thread struct {
	tid         int
	vol, nonvol int64
	cpu         time.Duration
	wchan       string
}

func threads(tb testing.TB, pid int) map[int]thread {
	tb.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int]thread{}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st := statusFile(tb, filepath.Join(dir, e.Name(), "status"))
		t := thread{tid: tid, vol: st["voluntary_ctxt_switches"], nonvol: st["nonvoluntary_ctxt_switches"]}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name(), "schedstat")); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				t.cpu = time.Duration(ns)
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name(), "wchan")); err == nil {
			t.wchan = string(b)
		}
		out[tid] = t
	}
	return out
}

// TestIdleDaemon measures an idle `psnd serve` logged in to the fake X:
// CPU time, RSS and context switches per thread over idle windows. It is
// a measurement, not a test: it runs only with PSN_BENCH_IDLE=1 (make
// bench-idle), and fails only if the daemon cannot be run.
//
// The database starts with 10,000 posts scheduled 30 days ahead or later
// and 80,000 published ones. It measures three phases: right after start
// ("fresh"); after 10,000 more posts are created through the API, four
// clients at a time, as a script would ("after-api"); and after one
// `psnd list --json` of all 100,000 posts ("after-list"). Each phase
// settles (PSN_BENCH_IDLE_SETTLE seconds, default 10), logs the RSS, then
// measures PSN_BENCH_IDLE_RUNS windows (default 3) of
// PSN_BENCH_IDLE_WINDOW seconds (default 60). With the default settle, the
// first window of each phase holds the daemon letting go of its
// executable's pages (30 s after the last request), so the RSS logged
// after settling is from before that, and the windows' from after. The daemon runs with
// GODEBUG=gctrace=1 so the garbage collections inside each window are
// counted (the runtime forces one every two minutes once it has collected
// at all).
func TestIdleDaemon(t *testing.T) {
	if os.Getenv("PSN_BENCH_IDLE") != "1" {
		t.Skip("idle measurement: set PSN_BENCH_IDLE=1 (make bench-idle)")
	}
	window := time.Duration(envInt("PSN_BENCH_IDLE_WINDOW", 60)) * time.Second
	runs := envInt("PSN_BENCH_IDLE_RUNS", 3)
	settle := time.Duration(envInt("PSN_BENCH_IDLE_SETTLE", 10)) * time.Second

	user := fakex.User{ID: sqlstoretest.Account.ID, Username: sqlstoretest.Account.Username, Name: "Alice"}
	x := fakex.New(fakex.Options{})
	x.AddUser(user)
	srv := httptest.NewServer(x)
	defer srv.Close()
	h := benchHome(t)
	seedLogin(t, h, x, user)
	ctx := context.Background()
	s, err := sqlstoretest.Open(ctx, filepath.Join(h, "psn.db"))
	if err != nil {
		t.Fatal(err)
	}
	first := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Minute)
	if _, err := sqlstoretest.SeedPosts(ctx, s, sqlstoretest.Spec{Posts: 10_000,
		At: func(i int) time.Time { return first.Add(time.Duration(i) * time.Minute) }}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-100 * 24 * time.Hour).UTC().Truncate(time.Minute)
	if _, err := sqlstoretest.SeedPosts(ctx, s, sqlstoretest.Spec{Posts: 80_000, ThreadEvery: 10, ThreadLen: 3,
		Status: func(int) post.Status { return post.StatusPublished },
		At:     func(i int) time.Time { return past.Add(time.Duration(i) * time.Minute) }}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	gc := &gcCounter{}
	environ := append(env(h, srv.URL), "GODEBUG=gctrace=1")
	cmd := serve(t, h, environ, gc)
	pid := cmd.Process.Pid
	t.Logf("idle: pid %d, 10,000 scheduled + 80,000 published posts, next due %s; settling %v, then %d windows of %v, three times", pid, first.Format(time.RFC3339), settle, runs, window)
	settled := func(phase string) {
		time.Sleep(settle)
		st := procStatus(t, pid)
		t.Logf("IDLE %s settled %v: VmRSS %d kB VmHWM %d kB RssAnon %d kB RssFile %d kB", phase, settle, st["VmRSS"], st["VmHWM"], st["RssAnon"], st["RssFile"])
		resetPeakRSS(t, pid)
	}

	measure := func(phase string) {
		for run := 1; run <= runs; run++ {
			th0, cpu0, tk0, gc0 := threads(t, pid), procCPU(t, pid), statTicks(t, pid), gc.count()
			time.Sleep(window)
			th1, cpu1, tk1, gc1 := threads(t, pid), procCPU(t, pid), statTicks(t, pid), gc.count()
			st := procStatus(t, pid)
			var vol, nonvol int64
			var per []string
			tids := make([]int, 0, len(th1))
			for tid := range th1 {
				tids = append(tids, tid)
			}
			sort.Ints(tids)
			for _, tid := range tids {
				a, b := th0[tid], th1[tid]
				dv, dn := b.vol-a.vol, b.nonvol-a.nonvol
				vol += dv
				nonvol += dn
				if dv+dn > 0 {
					per = append(per, fmt.Sprintf("tid %d: %d+%d cpu %v wchan %s", tid, dv, dn, (b.cpu-a.cpu).Round(time.Microsecond), b.wchan))
				}
			}
			t.Logf("IDLE %s run %d: window %v cpu %.3f ms (schedstat) %d ticks (stat) ctxsw %d voluntary + %d involuntary over %d threads; gc %d; VmRSS %d kB VmHWM %d kB RssAnon %d kB RssFile %d kB",
				phase, run, window, float64(cpu1-cpu0)/1e6, tk1-tk0, vol, nonvol, len(th1), gc1-gc0,
				st["VmRSS"], st["VmHWM"], st["RssAnon"], st["RssFile"])
			for _, p := range per {
				t.Logf("IDLE %s run %d:   %s", phase, run, p)
			}
		}
	}

	// Fresh: the daemon has only started (it may never have collected
	// garbage, and Go forces a collection every two minutes only after a
	// first one). The posts were seeded behind its back, so it first
	// stores their wire forms, as a daemon does once after migrating.
	waitWireStored(t, filepath.Join(h, "psn.db"))
	settled("fresh")
	measure("fresh")
	// After posts arrive through the API: 10,000 creates, four at a time.
	c := apiclient.New(filepath.Join(h, "psnd.sock"), "bench")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	at := first.Add(-24 * time.Hour)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 10_000; i += 4 {
				when := at.Add(-time.Duration(i) * time.Minute)
				if _, err := c.CreatePost(ctx, api.CreatePost{Text: fmt.Sprintf("api post %d: notes on posting on time, once — https://example.com/a/%d #golang", i, i), At: &when}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	t0 := time.Now()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create through the API: %v", err)
	}
	t.Logf("IDLE created 10,000 posts through the API in %v", time.Since(t0).Round(time.Millisecond))
	waitWireStored(t, filepath.Join(h, "psn.db"))
	settled("after-api")
	measure("after-api")
	// After a list of every post (100,000), as `psnd list --json` does.
	if out, errs, code := run(t, environ, "", "list", "--json"); code != 0 || len(out) == 0 {
		t.Fatalf("psnd list --json: exit %d: %s", code, errs)
	} else {
		t.Logf("IDLE listed %d MiB", len(out)>>20)
	}
	settled("after-list")
	measure("after-list")
	t.Logf("gctrace lines:\n%s", gc.lines())
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}

// gcCounter counts gctrace lines ("gc N @...") in the daemon's stderr.
type gcCounter struct{ testutil.SyncBuffer }

func (g *gcCounter) count() int {
	n := 0
	for _, l := range strings.Split(g.String(), "\n") {
		if strings.HasPrefix(l, "gc ") {
			n++
		}
	}
	return n
}

func (g *gcCounter) lines() string {
	var out []string
	for _, l := range strings.Split(g.String(), "\n") {
		if strings.HasPrefix(l, "gc ") || strings.HasPrefix(l, "scvg") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
