package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// stubScript stands in for systemctl and launchctl. It uses shell builtins
// only (its PATH holds nothing else), appends its arguments to $STUB_DIR/calls
// as "[arg][arg]...", and answers from $STUB_DIR/<verb>.<n>.sh for its n-th
// call with that verb, else $STUB_DIR/<verb>.sh, else exits 0 silently. The
// verb is the first argument not starting with "--".
const stubScript = `#!/bin/sh
d="$STUB_DIR"
for a in "$@"; do printf '[%s]' "$a"; done >> "$d/calls"
echo >> "$d/calls"
verb=""
for a in "$@"; do
	case "$a" in --*) ;; *) verb="$a"; break ;; esac
done
n=0
[ -f "$d/$verb.count" ] && read n < "$d/$verb.count"
n=$((n + 1))
echo "$n" > "$d/$verb.count"
if [ -f "$d/$verb.$n.sh" ]; then . "$d/$verb.$n.sh"; elif [ -f "$d/$verb.sh" ]; then . "$d/$verb.sh"; fi
exit 0
`

type stubEnv struct {
	t       *testing.T
	root    string
	state   string // STUB_DIR
	home    string
	cfg     Config
	stubBin string
}

// newStubEnv builds a temporary home (with a space in its path), a psnd
// binary, and stand-ins for the named tools first (and alone) on the PATH of
// the Config's environment. The test process's own environment is untouched.
func newStubEnv(t *testing.T, goos string, tools ...string) *stubEnv {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("stand-in tools are shell scripts")
	}
	root := t.TempDir()
	s := &stubEnv{t: t, root: root, state: filepath.Join(root, "state"), home: filepath.Join(root, "home dir"), stubBin: filepath.Join(root, "stubbin")}
	for _, d := range []string{s.state, s.home, s.stubBin, filepath.Join(root, "run")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range tools {
		if err := os.WriteFile(filepath.Join(s.stubBin, tool), []byte(stubScript), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(root, "opt dir", "psnd")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.cfg = Config{
		HomeDir:    s.home,
		BinaryPath: bin,
		GOOS:       goos,
		UID:        501,
		Env: []string{
			"PATH=" + s.stubBin,
			"STUB_DIR=" + s.state,
			"HOME=" + s.home,
			"XDG_RUNTIME_DIR=" + filepath.Join(root, "run"),
			"PSN_TZ=Europe/Paris",
		},
	}
	return s
}

// respond scripts the answer of the n-th call with verb (n == 0: every call
// without a more specific answer).
func (s *stubEnv) respond(verb string, n int, stdout, stderr string, code int) {
	s.t.Helper()
	name := verb + ".sh"
	if n > 0 {
		name = fmt.Sprintf("%s.%d.sh", verb, n)
	}
	script := fmt.Sprintf("printf '%%s' %s\nprintf '%%s' %s >&2\nexit %d\n", shQuote(stdout), shQuote(stderr), code)
	if err := os.WriteFile(filepath.Join(s.state, name), []byte(script), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// calls returns the recorded invocations and forgets them.
func (s *stubEnv) calls() []string {
	s.t.Helper()
	p := filepath.Join(s.state, "calls")
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	os.Remove(p)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func (s *stubEnv) manager() *Manager {
	s.t.Helper()
	m, err := New(s.cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	m.retryDelay = 0
	m.bootstrapAttempts = 3
	return m
}

func call(args ...string) string { return "[" + strings.Join(args, "][") + "]" }

func wantCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func wantFile(t *testing.T, path string, want []byte, mode os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if string(got) != string(want) {
		t.Errorf("%s =\n%s\nwant\n%s", path, got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), mode)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func wantNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists (err %v), want none", path, err)
	}
}

var (
	sdIsActive  = call("--user", "is-active", "psnd.service")
	sdIsEnabled = call("--user", "is-enabled", "psnd.service")
	sdReload    = call("--user", "daemon-reload")
	sdEnable    = call("--user", "enable", "--now", "psnd.service")
	sdRestart   = call("--user", "restart", "psnd.service")
	sdReset     = call("--user", "reset-failed", "psnd.service")
	sdDisable   = call("--user", "disable", "--now", "psnd.service")
)

func TestSystemdInstall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStubEnv(t, "linux", "systemctl")
	m := s.manager()
	unitPath := filepath.Join(s.home, ".config", "systemd", "user", "psnd.service")
	if m.Path() != unitPath || m.Flavour() != Systemd {
		t.Fatalf("Path() = %q, Flavour() = %q", m.Path(), m.Flavour())
	}
	want, err := Render(Systemd, s.cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Fresh install: not running yet, so no restart.
	s.respond("is-active", 0, "inactive\n", "", 3)
	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), sdIsActive, sdReload, sdEnable)
	wantFile(t, unitPath, want, 0o644)

	// Again, now running and with the same file: same calls, no restart,
	// same file.
	s.respond("is-active", 0, "active\n", "", 0)
	fi1, _ := os.Stat(unitPath)
	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), sdIsActive, sdReload, sdEnable)
	wantFile(t, unitPath, want, 0o644)
	if fi2, _ := os.Stat(unitPath); !os.SameFile(fi1, fi2) {
		t.Error("unchanged unit was rewritten")
	}

	// A changed environment rewrites the file and restarts the running unit.
	s.cfg.Env = append(s.cfg.Env, "PSN_TZ=America/New_York")
	m = s.manager()
	want2, _ := Render(Systemd, s.cfg)
	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), sdIsActive, sdReload, sdEnable, sdRestart)
	wantFile(t, unitPath, want2, 0o644)
	if !strings.Contains(string(want2), `Environment="PSN_TZ=America/New_York"`) {
		t.Errorf("new PSN_TZ not in unit:\n%s", want2)
	}
}

func TestSystemdInstallFailedUnitIsReset(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "linux", "systemctl")
	s.respond("is-active", 0, "failed\n", "", 3)
	if err := s.manager().Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), sdIsActive, sdReload, sdReset, sdEnable)
}

func TestSystemdInstallHonoursXDGConfigHome(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "linux", "systemctl")
	xdg := filepath.Join(s.root, "xdg config")
	s.cfg.Env = append(s.cfg.Env, "XDG_CONFIG_HOME="+xdg)
	s.respond("is-active", 0, "inactive\n", "", 3)
	if err := s.manager().Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	want, _ := Render(Systemd, s.cfg)
	wantFile(t, filepath.Join(xdg, "systemd", "user", "psnd.service"), want, 0o644)
	wantNoFile(t, filepath.Join(s.home, ".config"))
}

func TestSystemdInstallEnableFails(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "linux", "systemctl")
	s.respond("is-active", 0, "inactive\n", "", 3)
	s.respond("enable", 0, "", "Failed to enable unit: Unit file psnd.service does not exist.\n", 1)
	err := s.manager().Install(context.Background())
	want := "install service: systemctl --user enable --now psnd.service: Failed to enable unit: Unit file psnd.service does not exist. (exit status 1)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestSystemdRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(s *stubEnv)
		want  string
		calls []string
	}{
		{
			name:  "no systemctl",
			setup: func(s *stubEnv) {},
			want:  "systemd user services are not available here (systemctl not found); run `psnd serve` yourself or use --print",
		},
		{
			name: "no XDG_RUNTIME_DIR",
			setup: func(s *stubEnv) {
				s.writeStub("systemctl")
				s.cfg.Env = append(s.cfg.Env, "XDG_RUNTIME_DIR=")
			},
			want: "the systemd user manager is not reachable (XDG_RUNTIME_DIR is not set: no login session?); run `psnd serve` yourself or use --print",
		},
		{
			name: "no bus",
			setup: func(s *stubEnv) {
				s.writeStub("systemctl")
				s.respond("is-active", 0, "", "Failed to connect to bus: No medium found\n", 1)
				s.respond("is-enabled", 0, "", "Failed to connect to bus: No medium found\n", 1)
				s.respond("disable", 0, "", "Failed to connect to bus: No medium found\n", 1)
			},
			want:  "the systemd user manager is not reachable (Failed to connect to bus: No medium found); run `psnd serve` yourself or use --print",
			calls: []string{sdIsActive},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStubEnv(t, "linux")
			tt.setup(s)
			m := s.manager()
			check := func(op string, err error, calls []string) {
				t.Helper()
				if !errors.Is(err, ErrUnavailable) || err.Error() != tt.want {
					t.Errorf("%s: err = %v\nwant %s", op, err, tt.want)
				}
				wantCalls(t, s.calls(), calls...)
			}
			check("install", m.Install(context.Background()), tt.calls)
			wantNoFile(t, m.Path())
			wantNoFile(t, filepath.Dir(m.Path()))
			var unCalls, stCalls []string
			if tt.calls != nil {
				unCalls, stCalls = []string{sdDisable}, []string{sdIsEnabled}
			}
			check("uninstall", m.Uninstall(context.Background()), unCalls)
			st, err := m.Status(context.Background())
			check("status", err, stCalls)
			if st.Flavour != Systemd || st.UnitPath != m.Path() || st.Installed {
				t.Errorf("status = %+v", st)
			}
		})
	}
}

func (s *stubEnv) writeStub(tool string) {
	if err := os.WriteFile(filepath.Join(s.stubBin, tool), []byte(stubScript), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

func TestSystemdUninstall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStubEnv(t, "linux", "systemctl")
	m := s.manager()
	s.respond("is-active", 0, "inactive\n", "", 3)
	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	s.calls()
	if err := m.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), sdDisable, sdReload)
	wantNoFile(t, m.Path())

	// Uninstalling again is fine: the unit no longer exists.
	s.respond("disable", 0, "", "Failed to disable unit: Unit file psnd.service does not exist.\n", 1)
	if err := m.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), sdDisable, sdReload)

	// Any other failure is reported.
	s.respond("disable", 0, "", "Failed to disable unit: Access denied\n", 1)
	if err := m.Uninstall(ctx); err == nil || !strings.Contains(err.Error(), "Access denied") {
		t.Errorf("err = %v, want Access denied", err)
	}
}

func TestSystemdStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStubEnv(t, "linux", "systemctl")
	m := s.manager()

	// Not installed: systemd 252 reports a missing unit on stderr; newer
	// versions print "not-found". Neither is an error.
	s.respond("is-enabled", 0, "", "Failed to get unit file state for psnd.service: No such file or directory\n", 1)
	s.respond("is-active", 0, "inactive\n", "", 3)
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Flavour: Systemd, UnitPath: m.Path(), Detail: "not-found, inactive"}
	if st != want {
		t.Errorf("status = %+v\nwant %+v", st, want)
	}
	wantCalls(t, s.calls(), sdIsEnabled, sdIsActive)

	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	s.calls()
	tests := []struct {
		enabled, active         string
		enabledCode, activeCode int
		wantEnabled, wantRun    bool
	}{
		{"enabled", "active", 0, 0, true, true},
		{"enabled", "activating", 0, 3, true, false},
		{"enabled", "failed", 0, 3, true, false},
		{"disabled", "inactive", 1, 3, false, false},
		{"masked", "inactive", 1, 3, false, false},
		{"enabled-runtime", "reloading", 0, 0, true, true},
	}
	for _, tt := range tests {
		s.respond("is-enabled", 0, tt.enabled+"\n", "", tt.enabledCode)
		s.respond("is-active", 0, tt.active+"\n", "", tt.activeCode)
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatalf("%s/%s: %v", tt.enabled, tt.active, err)
		}
		want := Status{Flavour: Systemd, Installed: true, UnitPath: m.Path(), Enabled: tt.wantEnabled, Running: tt.wantRun,
			Binary: s.cfg.BinaryPath, MatchesThisBinary: true, Detail: tt.enabled + ", " + tt.active}
		if st != want {
			t.Errorf("status = %+v\nwant %+v", st, want)
		}
		wantCalls(t, s.calls(), sdIsEnabled, sdIsActive)
	}

	// Another psnd binary asks: the installed unit runs a different one.
	other := s.cfg
	other.BinaryPath = "/usr/local/bin/psnd"
	m2, _ := New(other)
	s.respond("is-enabled", 0, "enabled\n", "", 0)
	s.respond("is-active", 0, "active\n", "", 0)
	st, err = m2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Binary != s.cfg.BinaryPath || st.MatchesThisBinary {
		t.Errorf("status = %+v, want Binary %q not matching", st, s.cfg.BinaryPath)
	}

	// The installed binary was deleted.
	if err := os.Remove(s.cfg.BinaryPath); err != nil {
		t.Fatal(err)
	}
	st, err = m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.Detail, "is missing; run `psnd service install` again") {
		t.Errorf("detail = %q", st.Detail)
	}

	// A failure that is not an answer is an error.
	s.respond("is-enabled", 0, "", "Access denied\n", 1)
	if _, err := m.Status(ctx); err == nil || !strings.Contains(err.Error(), "Access denied") {
		t.Errorf("err = %v", err)
	}
}

var (
	ldTarget    = "gui/501/dev.psnd.psnd"
	ldBootout   = call("bootout", ldTarget)
	ldEnable    = call("enable", ldTarget)
	ldPrint     = call("print", ldTarget)
	ldNotLoaded = "Boot-out failed: 3: No such process\n"
)

func ldBootstrap(s *stubEnv) string {
	return call("bootstrap", "gui/501", filepath.Join(s.home, "Library", "LaunchAgents", "dev.psnd.psnd.plist"))
}

func TestLaunchdInstall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStubEnv(t, "darwin", "launchctl")
	m := s.manager()
	plistPath := filepath.Join(s.home, "Library", "LaunchAgents", "dev.psnd.psnd.plist")
	if m.Path() != plistPath || m.Flavour() != Launchd {
		t.Fatalf("Path() = %q, Flavour() = %q", m.Path(), m.Flavour())
	}
	want, err := Render(Launchd, s.cfg)
	if err != nil {
		t.Fatal(err)
	}

	s.respond("bootout", 0, "", ldNotLoaded, 3)
	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), ldBootout, ldEnable, ldBootstrap(s))
	wantFile(t, plistPath, want, 0o644)
	logDir := filepath.Join(s.home, "Library", "Logs", "psnd")
	if fi, err := os.Stat(logDir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("log dir %s: %v, %v", logDir, fi, err)
	}

	// Again: the loaded agent is booted out and bootstrapped anew; same file.
	s.respond("bootout", 0, "", "", 0)
	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), ldBootout, ldEnable, ldBootstrap(s))
	wantFile(t, plistPath, want, 0o644)
}

func TestLaunchdBootstrapRetries(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "darwin", "launchctl")
	s.respond("bootstrap", 1, "", "Bootstrap failed: 5: Input/output error\n", 5)
	if err := s.manager().Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), ldBootout, ldEnable, ldBootstrap(s), ldBootstrap(s))

	// A bootstrap that keeps failing gives up after the set attempts.
	s.respond("bootstrap", 0, "", "Bootstrap failed: 5: Input/output error\n", 5)
	err := s.manager().Install(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Bootstrap failed: 5: Input/output error (exit status 5) (check `plutil -lint") {
		t.Errorf("err = %v", err)
	}
	wantCalls(t, s.calls(), ldBootout, ldEnable, ldBootstrap(s), ldBootstrap(s), ldBootstrap(s))
}

func TestLaunchdBootoutFailure(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "darwin", "launchctl")
	s.respond("bootout", 0, "", "Boot-out failed: 1: Operation not permitted\n", 1)
	m := s.manager()
	err := m.Install(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Operation not permitted") {
		t.Errorf("err = %v", err)
	}
	wantCalls(t, s.calls(), ldBootout)
	wantNoFile(t, m.Path())
}

func TestLaunchdMissing(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "darwin")
	m := s.manager()
	want := "launchd agents are not available here (launchctl not found); run `psnd serve` yourself or use --print"
	for op, f := range map[string]func() error{
		"install":   func() error { return m.Install(context.Background()) },
		"uninstall": func() error { return m.Uninstall(context.Background()) },
		"status":    func() error { _, err := m.Status(context.Background()); return err },
	} {
		if err := f(); !errors.Is(err, ErrUnavailable) || err.Error() != want {
			t.Errorf("%s: err = %v\nwant %s", op, err, want)
		}
	}
	wantNoFile(t, m.Path())
}

func TestLaunchdUninstall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStubEnv(t, "darwin", "launchctl")
	m := s.manager()
	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	s.calls()
	if err := m.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), ldBootout)
	wantNoFile(t, m.Path())
	s.respond("bootout", 0, "", "Boot-out failed: 113: Could not find specified service\n", 113)
	if err := m.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, s.calls(), ldBootout)
}

const launchctlPrintRunning = `gui/501/dev.psnd.psnd = {
	active count = 1
	path = /Users/alice/Library/LaunchAgents/dev.psnd.psnd.plist
	type = LaunchAgent
	state = running

	program = /usr/local/bin/psnd
	arguments = {
		/usr/local/bin/psnd
		serve
	}

	event triggers = {
		state = 1
	}

	pid = 4242
	last exit code = (never exited)
}
`

func TestLaunchdStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStubEnv(t, "darwin", "launchctl")
	m := s.manager()

	s.respond("print", 0, "", "Could not find service \"dev.psnd.psnd\" in domain for port\n", 113)
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{Flavour: Launchd, UnitPath: m.Path(), Detail: "not loaded"}); st != want {
		t.Errorf("status = %+v\nwant %+v", st, want)
	}
	wantCalls(t, s.calls(), ldPrint)

	if err := m.Install(ctx); err != nil {
		t.Fatal(err)
	}
	s.calls()
	s.respond("print", 0, launchctlPrintRunning, "", 0)
	st, err = m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Flavour: Launchd, Installed: true, UnitPath: m.Path(), Enabled: true, Running: true,
		Binary: s.cfg.BinaryPath, MatchesThisBinary: true, Detail: "loaded, running, pid 4242"}
	if st != want {
		t.Errorf("status = %+v\nwant %+v", st, want)
	}
	wantCalls(t, s.calls(), ldPrint)

	waiting := strings.NewReplacer("state = running", "state = not running", "\tpid = 4242\n", "", "(never exited)", "1").Replace(launchctlPrintRunning)
	s.respond("print", 0, waiting, "", 0)
	st, err = m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Enabled || st.Running || st.Detail != "loaded, not running, last exit code 1" {
		t.Errorf("status = %+v", st)
	}
}

func TestNewUnsupported(t *testing.T) {
	t.Parallel()
	_, err := New(Config{GOOS: "windows", HomeDir: "/h"})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v", err)
	}
}

func TestInstallRefusesTemporaryBinary(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "linux", "systemctl")
	s.cfg.BinaryPath = filepath.Join(s.root, "go-build1234", "b001", "exe", "psnd")
	err := s.manager().Install(context.Background())
	if err == nil || !strings.Contains(err.Error(), "temporary build directory") {
		t.Errorf("err = %v", err)
	}
	wantCalls(t, s.calls())
}

func TestExecRunner(t *testing.T) {
	t.Parallel()
	s := newStubEnv(t, "linux", "systemctl")
	s.respond("is-active", 0, "inactive\n", "oops\n", 3)
	res, err := ExecRunner{}.Run(context.Background(), Command{Name: "systemctl", Args: []string{"--user", "is-active", "psnd.service"}, Env: s.cfg.Env})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Stdout: "inactive\n", Stderr: "oops\n", ExitCode: 3}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	// Lookup uses the PATH in Env, never the test process's PATH.
	_, err = ExecRunner{}.Run(context.Background(), Command{Name: "sh", Env: []string{"PATH=" + s.stubBin}})
	if err == nil || !strings.Contains(err.Error(), "executable file not found") {
		t.Errorf("err = %v", err)
	}
}
