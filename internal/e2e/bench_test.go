package e2e

// Measurements of the real binary for issue 5's performance goals, reported
// in BENCHMARKS.md (`make bench`, `make bench-idle`):
//
//   - BenchmarkListJSONCommand: `psnd list --json` as a subprocess over
//     100,000 posts (wall time, the client's CPU and peak RSS, the daemon's
//     CPU per command).
//   - BenchmarkListJSONClientSide: the client half of that command in
//     process (decode the API answer, print indented JSON), so -benchmem can
//     count its allocations.
//   - TestIdleDaemon (only with PSN_BENCH_IDLE=1): `psnd serve` with 10,000
//     posts scheduled far ahead, measured over idle windows of 60 s.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/fakex"
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

// listHome is a data directory whose database holds 100,000 posts
// (sqlstoretest.ListSpec) and a daemon serving it, with X pointed at an
// address that answers nothing (nothing is due).
func listHome(b *testing.B) (h string, environ []string, pid int) {
	b.Helper()
	h = benchHome(b)
	if err := sqlstoretest.SeedFile(context.Background(), filepath.Join(h, "psn.db"), sqlstoretest.ListSpec(100_000)); err != nil {
		b.Fatal(err)
	}
	environ = env(h, "http://127.0.0.1:1")
	cmd := serve(b, h, environ, io.Discard)
	return h, environ, cmd.Process.Pid
}

// BenchmarkListJSONCommand runs `psnd list --json` over 100,000 posts.
// ns/op is the command's wall time; client-cpu-ms and client-maxrss-MB are
// the subprocess's own; daemon-cpu-ms is the daemon's CPU per command and
// daemon-hwm-MB its peak RSS after the runs.
func BenchmarkListJSONCommand(b *testing.B) {
	_, environ, pid := listHome(b)
	var outBytes int64
	var clientCPU time.Duration
	var maxRSS int64
	once := func() {
		cmd := exec.Command(psndBin, "list", "--json")
		cmd.Env = environ
		cw := &countWriter{}
		cmd.Stdout = cw
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			b.Fatalf("psnd list --json: %v: %s", err, errb.String())
		}
		outBytes = cw.n
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		clientCPU += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		maxRSS = max(maxRSS, ru.Maxrss) // KiB
	}
	once() // warm the page cache
	clientCPU, maxRSS = 0, 0
	cpu0 := procCPU(b, pid)
	b.ResetTimer()
	for b.Loop() {
		once()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(procCPU(b, pid)-cpu0)/n/1e6, "daemon-cpu-ms")
	b.ReportMetric(float64(clientCPU)/n/1e6, "client-cpu-ms")
	b.ReportMetric(float64(maxRSS)/1024, "client-maxrss-MB")
	b.ReportMetric(float64(procStatus(b, pid)["VmHWM"])/1024, "daemon-hwm-MB")
	b.ReportMetric(float64(outBytes)/(1<<20), "MiB-out")
}

// BenchmarkListJSONClientSide is what `psnd list --json` does in its own
// process — GET /v1/posts, decode into []api.Post, print it indented — run
// in process against the daemon subprocess so that -benchmem counts the
// client's allocations (the daemon's are in internal/daemon's
// BenchmarkListPostsAPI).
func BenchmarkListJSONClientSide(b *testing.B) {
	h, _, _ := listHome(b)
	c := apiclient.New(filepath.Join(h, "psnd.sock"), "bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		posts, err := c.ListPosts(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		enc := json.NewEncoder(io.Discard)
		enc.SetIndent("", "  ") // as internal/cli's writeJSON
		if err := enc.Encode(posts); err != nil {
			b.Fatal(err)
		}
	}
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
	tid           int
	vol, nonvol   int64
	cpu           time.Duration
	wchan, status string
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

// TestIdleDaemon measures an idle `psnd serve` holding 10,000 posts
// scheduled 30 days ahead or later, logged in to the fake X: CPU time,
// RSS and context switches per thread over idle windows. It is a
// measurement, not a test: it runs only with PSN_BENCH_IDLE=1 (make
// bench-idle), and fails only if the daemon cannot be run.
//
// It measures twice: right after start, and after one `psnd list --json`
// over the 10,000 posts. PSN_BENCH_IDLE_WINDOW (seconds, default 60) and
// PSN_BENCH_IDLE_RUNS (windows per phase, default 3) set the windows; the
// daemon runs with GODEBUG=gctrace=1 so the garbage collections inside each
// window are counted (the runtime forces one every two minutes once it has
// collected at all).
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
	s.Close()

	gc := &gcCounter{}
	environ := append(env(h, srv.URL), "GODEBUG=gctrace=1")
	cmd := serve(t, h, environ, gc)
	pid := cmd.Process.Pid
	t.Logf("idle: pid %d, 10,000 posts, next due %s; settling %v, then %d windows of %v, twice", pid, first.Format(time.RFC3339), settle, runs, window)

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
	// first one).
	time.Sleep(settle)
	measure("fresh")
	// After work: list the 10,000 posts once, as `psnd list --json` does,
	// then let it settle and measure again.
	if out, errs, code := run(t, environ, "", "list", "--json"); code != 0 || len(out) == 0 {
		t.Fatalf("psnd list --json: exit %d: %s", code, errs)
	}
	time.Sleep(settle)
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
