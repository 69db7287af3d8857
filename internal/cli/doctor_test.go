package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
	"github.com/psnd/psnd/internal/doctor/doctortest"
	"github.com/psnd/psnd/internal/doctor/storecheck"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/service"
	"github.com/psnd/psnd/internal/testutil"
)

// doctorWorld is a psnd home, healthy until a test breaks it, with
// everything doctor looks at faked only at the process edge: a real
// database and key (in a memory keyring), an optional real daemon, a fake
// X that answers with a Date header, a stand-in systemctl on the service
// PATH, and a callback address of its own.
type doctorWorld struct {
	t      *testing.T
	home   string
	kr     *secrets.Memory
	vars   map[string]string
	cb     string
	svc    service.Config
	now    func() time.Time
	dateMu sync.Mutex
	date   time.Time // the Date X answers with; zero = the real time
}

// systemctlStub answers like a user manager with psnd enabled and active.
const systemctlStub = `#!/bin/sh
for a in "$@"; do
	case "$a" in
	is-enabled) echo enabled; exit 0 ;;
	is-active) echo active; exit 0 ;;
	esac
done
exit 0
`

func newDoctorWorld(t *testing.T) *doctorWorld {
	t.Helper()
	w := &doctorWorld{t: t, home: shortHome(t), kr: &secrets.Memory{}}
	doctortest.Healthy(t, w.home, w.kr, time.Now())

	x := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.dateMu.Lock()
		d := w.date
		w.dateMu.Unlock()
		if !d.IsZero() {
			rw.Header().Set("Date", d.UTC().Format(http.TimeFormat))
		}
		http.NotFound(rw, r)
	}))
	t.Cleanup(x.Close)
	w.cb = testutil.FreeLoopbackAddr(t)
	w.vars = map[string]string{"PSN_HOME": w.home, "PSN_TZ": "UTC", "PSN_X_API_URL": x.URL,
		"PSN_X_AUTH_URL": x.URL + "/i/oauth2/authorize", "PSN_X_TOKEN_URL": x.URL + "/2/oauth2/token",
		"PSN_CALLBACK_ADDR": w.cb}

	root := t.TempDir()
	stub := filepath.Join(root, "stubbin")
	bin := filepath.Join(root, "bin", "psnd")
	for _, d := range []string{stub, filepath.Dir(bin), filepath.Join(root, "user"), filepath.Join(root, "run")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(stub, "systemctl"), []byte(systemctlStub), 0o755)
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	w.svc = service.Config{HomeDir: filepath.Join(root, "user"), BinaryPath: bin, GOOS: "linux", UID: os.Getuid(),
		Env: []string{"PATH=" + stub, "HOME=" + filepath.Join(root, "user"), "XDG_RUNTIME_DIR=" + filepath.Join(root, "run")}}
	w.installUnit(bin)
	return w
}

// installUnit writes the systemd unit as `psnd service install` would, for
// the binary bin.
func (w *doctorWorld) installUnit(bin string) {
	w.t.Helper()
	cfg := w.svc
	cfg.BinaryPath = bin
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	unit, err := service.Render(service.Systemd, cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	p, _ := service.Path(service.Systemd, cfg)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, unit, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *doctorWorld) setDate(d time.Time) {
	w.dateMu.Lock()
	w.date = d
	w.dateMu.Unlock()
}

// startDaemon runs the daemon on the home and waits until ready holds.
func (w *doctorWorld) startDaemon(version string, ready func(api.Health) bool) {
	t := w.t
	t.Helper()
	cfg, err := config.Load(func(k string) string { return w.vars[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{Env: cfg, Version: version, Keyring: w.kr,
			KeyBackoff: secrets.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}, Ready: func() { close(up) }})
	}()
	select {
	case <-up:
	case err := <-done:
		cancel()
		t.Fatalf("daemon: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	if ready == nil {
		ready = func(h api.Health) bool { return h.Status == api.HealthOK }
	}
	c := apiclient.New(cfg.SocketPath(), version)
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := c.Health(context.Background())
		if err == nil && ready(h) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon never got ready: %+v %v", h, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *doctorWorld) env(out, errb *bytes.Buffer) Env {
	return Env{
		Stdin: strings.NewReader(""), Stdout: out, Stderr: errb,
		Getenv:  func(k string) string { return w.vars[k] },
		GOOS:    "linux",
		Version: "test",
		Now:     w.now,
		DiagnoseOffline: func(ctx context.Context, cfg config.Config, sandbox bool) []api.DoctorCheck {
			return storecheck.Offline(ctx, storecheck.Options{Env: cfg, Keyring: w.kr, Sandbox: sandbox})
		},
		ServiceConfig: func() (service.Config, error) { return w.svc, nil },
	}
}

// doctor runs `psnd doctor --json` and decodes the report.
func (w *doctorWorld) doctor() (result, api.DoctorReport) {
	w.t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"doctor", "--json"}, w.env(&out, &errb))
	r := result{code, out.String(), errb.String()}
	var rep api.DoctorReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		w.t.Fatalf("doctor --json: %v\n%+v", err, r)
	}
	return r, rep
}

// human runs `psnd doctor` with extra variables and a terminal or not.
func (w *doctorWorld) human(tty bool, vars ...string) result {
	w.t.Helper()
	for i := 0; i+1 < len(vars); i += 2 {
		w.vars[vars[i]] = vars[i+1]
	}
	var out, errb bytes.Buffer
	env := w.env(&out, &errb)
	env.StdoutIsTerminal = tty
	code := Main(context.Background(), []string{"doctor"}, env)
	return result{code, out.String(), errb.String()}
}

var allDoctorChecks = []string{"data_dir", "file_modes", "daemon", "database", "schema", "keyring", "data_key", "x_app",
	"account @alice", "callback_port", "failed_posts", "clock", "service"}

func offDoctorChecks(rep api.DoctorReport) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.Status != api.CheckOK {
			out = append(out, c.Name+"="+c.Status)
		}
	}
	return out
}

func checkNamed(rep api.DoctorReport, name string) api.DoctorCheck {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	return api.DoctorCheck{}
}

func TestDoctorHealthyHome(t *testing.T) {
	t.Parallel()
	w := newDoctorWorld(t)
	w.startDaemon("test", nil)
	r, rep := w.doctor()
	if r.code != 0 || r.stderr != "" || !rep.OK {
		t.Fatalf("exit %d, stderr %q, ok %v", r.code, r.stderr, rep.OK)
	}
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
		if c.Status != api.CheckOK || c.Fix != "" || c.Message == "" {
			t.Errorf("healthy home: %+v", c)
		}
	}
	if !slices.Equal(names, allDoctorChecks) {
		t.Errorf("checks %v\nwant %v", names, allDoctorChecks)
	}

	h := w.human(false)
	lines := strings.Split(strings.TrimSuffix(h.stdout, "\n"), "\n")
	if h.code != 0 || len(lines) != len(allDoctorChecks)+4 {
		t.Fatalf("human output (exit %d):\n%s", h.code, h.stdout)
	}
	if want := "Examined the real home " + w.home + "."; lines[0] != want || lines[1] != "" {
		t.Errorf("header %q, want %q and a blank line", lines[:2], want)
	}
	if rep.Home != w.home || rep.Sandbox {
		t.Errorf("--json home %q sandbox %v, want %s", rep.Home, rep.Sandbox, w.home)
	}
	for _, l := range lines[2 : 2+len(allDoctorChecks)] {
		if !strings.HasPrefix(l, "[ok]   ") {
			t.Errorf("line %q", l)
		}
	}
	if want := fmt.Sprintf("All %d checks passed.", len(allDoctorChecks)); lines[len(lines)-1] != want {
		t.Errorf("summary %q, want %q", lines[len(lines)-1], want)
	}
}

// TestDoctorBrokenHomes breaks a healthy home in each way doctor detects
// and checks that exactly the right checks speak up, naming the problem
// and a fix, with the daemon running or not as the case needs.
func TestDoctorBrokenHomes(t *testing.T) {
	locked := fmt.Errorf("%w: failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'", secrets.ErrUnavailable)
	cases := []struct {
		name     string
		down     bool                 // no daemon
		version  string               // the daemon's, default "test"
		prepare  func(w *doctorWorld) // before the daemon starts
		after    func(w *doctorWorld) // after
		ready    func(api.Health) bool
		off      []string // the checks not ok, "name=status", in output order
		check    string
		parts    []string
		exitCode int
	}{
		{name: "data dir open to others", off: []string{"data_dir=fail"}, check: "data_dir", exitCode: 1,
			after: func(w *doctorWorld) { os.Chmod(w.home, 0o755) }, parts: []string{"mode 0755", "chmod 700"}},
		{name: "database readable by others", off: []string{"file_modes=fail"}, check: "file_modes", exitCode: 1,
			after: func(w *doctorWorld) { os.Chmod(filepath.Join(w.home, "psn.db"), 0o644) },
			parts: []string{"psn.db (0644)", "chmod -R go-rwx"}},
		{name: "daemon down", down: true, off: []string{"daemon=fail"}, check: "daemon", exitCode: 1,
			parts: []string{"not running", "psnd service install", "psnd serve"}},
		{name: "daemon of another version", version: "0.9.0", off: []string{"daemon=fail"}, check: "daemon", exitCode: 1,
			parts: []string{"runs psnd 0.9.0, but this psnd is test", "systemctl --user restart psnd"}},
		{name: "corrupt database", down: true, off: []string{"daemon=fail", "database=fail"}, check: "database", exitCode: 1,
			prepare: func(w *doctorWorld) { doctortest.CorruptPage(w.t, w.home, time.Now()) },
			parts:   []string{"psn.db is damaged", ".recover"}},
		{name: "newer schema", down: true, off: []string{"daemon=fail", "schema=fail"}, check: "schema", exitCode: 1,
			prepare: func(w *doctorWorld) { doctortest.NewerSchema(w.t, w.home, 1000) },
			parts:   []string{"schema version 1000, newer than this psnd knows", "install the newer psnd"}},
		{name: "keyring unavailable, no daemon", down: true, off: []string{"daemon=fail", "keyring=fail", "data_key=skip"},
			check: "keyring", exitCode: 1,
			prepare: func(w *doctorWorld) { w.kr.FailWith(locked) },
			parts:   []string{"locked or unavailable: failed to unlock correct collection", "unlock your login keyring"}},
		{name: "keyring locked, daemon waiting", off: []string{"keyring=fail", "data_key=skip"}, check: "keyring", exitCode: 1,
			prepare: func(w *doctorWorld) { w.kr.FailWith(locked) },
			ready:   func(h api.Health) bool { return h.Keyring.LastError != "" },
			parts:   []string{"waiting for the OS keyring", "failed to unlock", "unlock your login keyring"}},
		{name: "key missing", down: true, off: []string{"daemon=fail", "data_key=fail"}, check: "data_key", exitCode: 1,
			prepare: func(w *doctorWorld) { doctortest.DropKey(w.t, w.home, w.kr) },
			parts:   []string{"missing from memory keyring", "cannot be decrypted", "psnd auth reset-key"}},
		{name: "wrong key", off: []string{"data_key=fail"}, check: "data_key", exitCode: 1,
			prepare: func(w *doctorWorld) { doctortest.ReplaceKey(w.t, w.home, w.kr) },
			ready:   func(h api.Health) bool { return h.Status == api.HealthKeyError },
			parts:   []string{"does not match this database", "psnd auth reset-key"}},
		{name: "no app credentials", off: []string{"x_app=fail"}, check: "x_app", exitCode: 1,
			prepare: func(w *doctorWorld) { doctortest.RemoveApp(w.t, w.home, time.Now()) },
			parts:   []string{"no X app credentials", "psnd setup"}},
		{name: "account needs re-auth", off: []string{"account @alice=fail"}, check: "account @alice", exitCode: 1,
			prepare: func(w *doctorWorld) {
				doctortest.NeedsReauth(w.t, w.home, doctortest.AliceID,
					"X refused the refresh token (invalid_request: Value passed for the token was invalid.)", time.Now())
			},
			parts: []string{"@alice needs to log in again: X refused the refresh token (invalid_request", "psnd auth login"}},
		{name: "callback port busy", off: []string{"callback_port=warn"}, check: "callback_port",
			after: func(w *doctorWorld) { w.listen() }, parts: []string{"is taken by another program", "PSN_CALLBACK_ADDR"}},
		{name: "callback port busy, no daemon", down: true, off: []string{"daemon=fail", "callback_port=warn"}, check: "callback_port",
			exitCode: 1, after: func(w *doctorWorld) { w.listen() }, parts: []string{"is taken by another program"}},
		{name: "clock behind", off: []string{"clock=fail"}, check: "clock", exitCode: 1,
			after: func(w *doctorWorld) { w.setDate(time.Now().Add(2 * time.Hour)) },
			parts: []string{"2h behind X's", "timedatectl set-ntp true"}},
		{name: "clock far in the past", off: []string{"clock=fail"}, check: "clock", exitCode: 1,
			after: func(w *doctorWorld) {
				w.now = func() time.Time { return time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) }
			},
			parts: []string{"2001-01-01T00:00:00Z, which is in the past"}},
		{name: "X unreachable", off: []string{"clock=warn"}, check: "clock",
			after: func(w *doctorWorld) { w.vars["PSN_X_API_URL"] = "http://127.0.0.1:1" },
			parts: []string{"could not reach http://127.0.0.1:1", "offline"}},
		{name: "service not installed", off: []string{"service=warn"}, check: "service",
			after: func(w *doctorWorld) {
				p, _ := service.Path(service.Systemd, w.svc)
				os.Remove(p)
			},
			parts: []string{"not installed as a service", "psnd service install"}},
		{name: "service runs another binary", off: []string{"service=fail"}, check: "service", exitCode: 1,
			after: func(w *doctorWorld) { w.installUnit(filepath.Join(w.t.TempDir(), "old", "psnd")) },
			parts: []string{"/old/psnd, not this psnd", "psnd service install"}},
		{name: "database deleted under the daemon", check: "database", exitCode: 1,
			off:   []string{"database=fail", "schema=skip", "x_app=skip", "accounts=skip", "failed_posts=skip"},
			after: func(w *doctorWorld) { os.Remove(filepath.Join(w.home, "psn.db")) },
			parts: []string{"psn.db was deleted while the daemon was running", "refuses every change", "psn.db.rescued-"}},
		{name: "database missing where one was", down: true, check: "database", exitCode: 1,
			off: []string{"daemon=fail", "database=fail", "schema=skip", "x_app=skip", "accounts=skip", "failed_posts=skip"},
			prepare: func(w *doctorWorld) {
				os.WriteFile(filepath.Join(w.home, "psnd.initialized"), []byte("2026-03-01T09:00:00Z psnd created psn.db\n"), 0o600)
				os.Remove(filepath.Join(w.home, "psn.db"))
			},
			parts: []string{"psn.db is missing", "refuses to start", "psnd.initialized"}},
		{name: "failed posts", off: []string{"failed_posts=warn"}, check: "failed_posts",
			prepare: func(w *doctorWorld) {
				doctortest.FailedPost(w.t, w.home, doctortest.AliceID, "hello", "You are not allowed to create a Tweet with duplicate content.", time.Now())
			},
			parts: []string{"1 failed post waits: #1 @alice", "psnd list --status failed", "psnd retry"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newDoctorWorld(t)
			if tc.prepare != nil {
				tc.prepare(w)
			}
			if !tc.down {
				v := tc.version
				if v == "" {
					v = "test"
				}
				w.startDaemon(v, tc.ready)
			}
			if tc.after != nil {
				tc.after(w)
			}
			r, rep := w.doctor()
			if got := offDoctorChecks(rep); !slices.Equal(got, tc.off) {
				t.Errorf("checks off %v, want %v\n%s", got, tc.off, r.stdout)
			}
			c := checkNamed(rep, tc.check)
			for _, p := range tc.parts {
				if !strings.Contains(c.Message+" | fix: "+c.Fix, p) {
					t.Errorf("%s: %q (fix %q) lacks %q", tc.check, c.Message, c.Fix, p)
				}
			}
			if c.Fix == "" {
				t.Errorf("%s: no fix", tc.check)
			}
			if r.code != tc.exitCode || rep.OK != (tc.exitCode == 0) || r.stderr != "" {
				t.Errorf("exit %d (ok %v, stderr %q), want %d", r.code, rep.OK, r.stderr, tc.exitCode)
			}
		})
	}
}

// listen takes the world's callback port, as another program would.
func (w *doctorWorld) listen() {
	w.t.Helper()
	ln, err := net.Listen("tcp", w.cb)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { ln.Close() })
}

func TestDoctorHumanOutput(t *testing.T) {
	t.Parallel()
	w := newDoctorWorld(t) // no daemon: one failure
	r := w.human(false)
	if r.code != ExitError || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\x1b✓✗") {
		t.Errorf("plain output has colour or marks:\n%s", r.stdout)
	}
	for _, want := range []string{"[ok]   data_dir ", "[FAIL] daemon ", "[ok]   database ", "\n\n12 ok, 1 failed.\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plain output lacks %q:\n%s", want, r.stdout)
		}
	}
	lines := strings.Split(r.stdout, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "[FAIL] daemon ") {
			if fix := lines[i+1]; !strings.HasPrefix(strings.TrimLeft(fix, " "), "fix: start it: `psnd service install`") ||
				!strings.HasPrefix(fix, strings.Repeat(" ", len("[FAIL] daemon "))) {
				t.Errorf("fix line %q", fix)
			}
		}
	}

	r = w.human(true)
	for _, want := range []string{"\x1b[32m✓\x1b[0m data_dir", "\x1b[31m✗\x1b[0m daemon", "\x1b[1mfix:\x1b[0m start it"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, r.stdout)
		}
	}

	r = w.human(true, "NO_COLOR", "1")
	if strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, "✓ data_dir") || !strings.Contains(r.stdout, "✗ daemon") {
		t.Errorf("NO_COLOR terminal output:\n%q", r.stdout)
	}
}

func TestDoctorBadEnvironment(t *testing.T) {
	r := run(t, map[string]string{"PSN_HOME": "/tmp/x", "PSN_KEYRING": "vault"}, "", "doctor")
	if r.code != ExitError || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "PSN_KEYRING") {
		t.Fatalf("%+v", r)
	}
	r = run(t, nil, "", "doctor", "extra")
	if r.code != ExitUsage {
		t.Fatalf("%+v", r)
	}
}

// fakeDaemon serves h on the home's socket in place of a real daemon.
func (w *doctorWorld) fakeDaemon(h http.Handler) {
	w.t.Helper()
	sock := filepath.Join(w.home, "psnd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		w.t.Fatal(err)
	}
	os.Chmod(sock, 0o600)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	w.t.Cleanup(func() { srv.Close() })
}

func TestDoctorOddDaemons(t *testing.T) {
	t.Parallel()
	notFound := func(rw http.ResponseWriter) {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusNotFound)
		fmt.Fprint(rw, `{"error":{"code":"not_found","message":"no such endpoint"}}`)
	}
	t.Run("older daemon without /v1/doctor", func(t *testing.T) {
		t.Parallel()
		w := newDoctorWorld(t)
		w.fakeDaemon(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set(api.VersionHeader, "0.1.0")
			if r.URL.Path != api.PathHealth {
				notFound(rw)
				return
			}
			json.NewEncoder(rw).Encode(api.Health{Status: api.HealthOK, Version: "0.1.0", PID: 7, StartedAt: time.Now()})
		}))
		r, rep := w.doctor()
		if got := offDoctorChecks(rep); !slices.Equal(got, []string{"daemon=fail", "daemon_checks=skip"}) || r.code != 1 {
			t.Fatalf("exit %d, off %v\n%s", r.code, got, r.stdout)
		}
		if c := checkNamed(rep, "daemon_checks"); !strings.Contains(c.Message, "psnd 0.1.0) is too old") {
			t.Errorf("%+v", c)
		}
	})
	t.Run("daemon answering nonsense", func(t *testing.T) {
		t.Parallel()
		w := newDoctorWorld(t)
		w.fakeDaemon(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, "<html>") }))
		r, rep := w.doctor()
		if got := offDoctorChecks(rep); !slices.Equal(got, []string{"daemon=fail", "daemon_checks=skip"}) || r.code != 1 {
			t.Fatalf("exit %d, off %v\n%s", r.code, got, r.stdout)
		}
		if c := checkNamed(rep, "daemon"); !strings.Contains(c.Message, "but not properly: decode daemon response") ||
			!strings.Contains(c.Fix, "restart") {
			t.Errorf("%+v", c)
		}
	})
}
