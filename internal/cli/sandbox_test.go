package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
	"github.com/psnd/psnd/internal/doctor/doctortest"
	"github.com/psnd/psnd/internal/sqlstore"
)

// sandboxAccountID is the @sandbox account's fixed id (internal/daemon).
const sandboxAccountID = "1000000000000000001"

// sandboxGolden makes output that names the test's home and pid stable.
func sandboxGolden(home, out string) string {
	out = strings.ReplaceAll(out, home, "$PSN_HOME")
	return strings.ReplaceAll(out, fmt.Sprintf("pid %d", os.Getpid()), "pid $PID")
}

// TestSandboxAuthStatusLoggedIn: in the sandbox, @sandbox is always logged
// in. auth status used to say "needs no login" and then list it with
// "problem: not logged in: run `psnd auth login`" (needs_reauth true), and
// following that advice was refused.
func TestSandboxAuthStatusLoggedIn(t *testing.T) {
	t.Parallel()
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}

	r := runAt(t, vars, false, "auth", "status")
	if r.code != 0 {
		t.Fatalf("auth status: exit %d, %s", r.code, r.stderr)
	}
	golden(t, "sandbox/auth_status", "$ psnd auth status\n--- stderr\n"+r.stderr+"--- stdout\n"+sandboxGolden(home, r.stdout))
	for _, bad := range []string{"problem", "not logged in", "auth login", "not configured"} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("auth status in the sandbox says %q:\n%s", bad, r.stdout)
		}
	}

	r = runAt(t, vars, false, "auth", "status", "--json")
	var st api.AuthStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
		t.Fatalf("auth status --json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if !st.Sandbox || len(st.Accounts) != 1 {
		t.Fatalf("auth status --json: %+v", st)
	}
	a := st.Accounts[0]
	if a.Username != "sandbox" || !a.LoggedIn || a.NeedsReauth || len(a.Problems) != 0 || !a.Default {
		t.Errorf("@sandbox: %+v", a)
	}

	// Logging out would contradict "always logged in": refused, like login.
	r = run(t, vars, "", "auth", "logout")
	if r.code != ExitError || !strings.Contains(r.stderr, "always logged in") {
		t.Errorf("auth logout in the sandbox: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSandboxSetup: setup against a sandbox daemon speaks of the sandbox's
// own data directory and key file, needs no X app or login (and stores no
// credentials even when X_CLIENT_ID is set), and ends with a check against
// the sandbox's X. It used to report the real home and a key file that did
// not exist, store X_CLIENT_ID in the sandbox's database and fail at login.
func TestSandboxSetup(t *testing.T) {
	t.Parallel()
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC",
		"X_CLIENT_ID": "c2FuZGJveC1zaG91bGQtbm90LWtlZXAtbWU", "X_CLIENT_SECRET": "sandbox-secret"}

	r := runAt(t, vars, false, "setup")
	if r.code != 0 {
		t.Fatalf("setup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden(t, "sandbox/setup", "$ psnd setup\n--- stderr\n"+r.stderr+"--- stdout\n"+sandboxGolden(home, r.stdout))

	r = runAt(t, vars, false, "setup", "--json")
	if r.code != 0 {
		t.Fatalf("setup --json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	steps := map[string]SetupStep{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var s SetupStep
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("setup --json line %q: %v", line, err)
		}
		steps[s.Step] = s
	}
	sbx := filepath.Join(home, "sandbox")
	want := map[string]struct{ status, has string }{
		"data_dir": {"success", sbx + " (the sandbox's own data directory)"},
		"keyring":  {"success", filepath.Join(sbx, "master.key")},
		"x_app":    {"skipped", "not needed in the sandbox"},
		"login":    {"skipped", "not needed in the sandbox"},
		"check":    {"success", "@sandbox"},
	}
	for step, w := range want {
		s := steps[step]
		if s.Status != w.status || !strings.Contains(s.Message, w.has) {
			t.Errorf("step %s: %+v, want %s with %q", step, s, w.status, w.has)
		}
	}
	if len(steps) != len(want) {
		t.Errorf("steps: %+v", steps)
	}
	if _, err := os.Stat(filepath.Join(home, "master.key")); err == nil {
		t.Error("setup in the sandbox made a key file in the real home")
	}

	// Nothing reached the sandbox's database.
	s, err := sqlstore.Open(context.Background(), filepath.Join(sbx, "psn.db"), sqlstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var set sqlstore.Settings
	if err := s.View(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		set, err = tx.Settings()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if set.ClientID != "" || len(set.ClientSecretEnc) != 0 {
		t.Errorf("setup stored X app credentials in the sandbox: client id %q", set.ClientID)
	}
}

// runSandboxDaemon runs a sandbox daemon on the doctor world's home until
// stop is called.
func (w *doctorWorld) runSandboxDaemon() (stop func()) {
	t := w.t
	t.Helper()
	cfg, err := config.Load(func(k string) string { return w.vars[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	up, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{Env: cfg, Version: "test", Sandbox: true, Ready: func() { close(up) }})
	}()
	select {
	case <-up:
	case err := <-done:
		cancel()
		t.Fatalf("sandbox daemon: %v", err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox daemon: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// doctorArgs runs `psnd doctor` with args and, with --json, decodes it.
func (w *doctorWorld) doctorArgs(args ...string) (result, api.DoctorReport) {
	w.t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"doctor"}, args...), w.env(&out, &errb))
	r := result{code, out.String(), errb.String()}
	var rep api.DoctorReport
	for _, a := range args {
		if a == "--json" {
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				w.t.Fatalf("doctor %v: %v\n%+v", args, err, r)
			}
		}
	}
	return r, rep
}

// TestDoctorNamesTheHomeItExamined: doctor says whose database and key it
// examined. With the sandbox running, the sandbox's; with no daemon, the
// real home's, mentioning the sandbox's, which `doctor --sandbox` examines
// (its database, key file and failed posts; no X app or login needed).
// Doctor used to examine the real home only, silently, so after the
// sandbox stopped it failed on the keyring and never saw the sandbox's
// failed posts.
func TestDoctorNamesTheHomeItExamined(t *testing.T) {
	t.Parallel()
	w := newDoctorWorld(t)
	sbx := filepath.Join(w.home, "sandbox")

	stop := w.runSandboxDaemon()
	_, rep := w.doctorArgs("--json")
	if rep.Home != sbx || !rep.Sandbox {
		t.Errorf("doctor with the sandbox running examined home %q (sandbox %v), want %s", rep.Home, rep.Sandbox, sbx)
	}
	if c := checkNamed(rep, "database"); c.Status != api.CheckOK || !strings.Contains(c.Message, filepath.Join(sbx, "psn.db")) {
		t.Errorf("database: %+v", c)
	}
	r, _ := w.doctorArgs()
	if first, _, _ := strings.Cut(r.stdout, "\n"); !strings.Contains(first, "sandbox") || !strings.Contains(first, sbx) {
		t.Errorf("doctor's first line does not name the sandbox's home:\n%s", r.stdout)
	}
	stop()

	now := time.Now()
	doctortest.FailedPost(t, sbx, sandboxAccountID, "a sandbox post", "the sandbox's X refused it", now)

	// No daemon, no flag: the real home, and a word about the sandbox's.
	r, rep = w.doctorArgs("--json")
	if rep.Home != w.home || rep.Sandbox {
		t.Errorf("doctor without a daemon: home %q sandbox %v\n%s", rep.Home, rep.Sandbox, r.stdout)
	}
	r, _ = w.doctorArgs()
	if first, _, _ := strings.Cut(r.stdout, "\n"); !strings.Contains(first, w.home) || strings.Contains(first, sbx) {
		t.Errorf("doctor's first line does not name the real home:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "psnd doctor --sandbox") {
		t.Errorf("doctor does not mention the sandbox's home:\n%s", r.stdout)
	}

	// --sandbox: the sandbox's database, key file and failed posts.
	r, rep = w.doctorArgs("--sandbox", "--json")
	// The sandbox not running is no failure there.
	if r.code != 0 || rep.Home != sbx || !rep.Sandbox {
		t.Fatalf("doctor --sandbox: exit %d, home %q sandbox %v\n%s%s", r.code, rep.Home, rep.Sandbox, r.stdout, r.stderr)
	}
	for name, want := range map[string]struct{ status, has string }{
		"daemon":       {api.CheckWarn, "the sandbox publishes nothing until it runs"},
		"database":     {api.CheckOK, filepath.Join(sbx, "psn.db")},
		"keyring":      {api.CheckOK, filepath.Join(sbx, "master.key")},
		"data_key":     {api.CheckOK, "matches this database"},
		"x_app":        {api.CheckSkip, "sandbox"},
		"accounts":     {api.CheckSkip, "sandbox"},
		"failed_posts": {api.CheckWarn, "@sandbox (the sandbox's X refused it)"},
	} {
		if c := checkNamed(rep, name); c.Status != want.status || !strings.Contains(c.Message, want.has) {
			t.Errorf("doctor --sandbox %s: %+v, want %s with %q", name, c, want.status, want.has)
		}
	}
	if c := checkNamed(rep, "account @alice"); c.Name != "" {
		t.Errorf("doctor --sandbox looked at the real home's accounts: %+v", c)
	}
	r, _ = w.doctorArgs("--sandbox")
	if first, _, _ := strings.Cut(r.stdout, "\n"); !strings.Contains(first, sbx) {
		t.Errorf("doctor --sandbox's first line does not name the sandbox's home:\n%s", r.stdout)
	}
}

// A cancelled post keeps its time, but show and list must not present it
// as "(in 1d)": read that way, cancelling seemed not to have worked.
func TestCancelledPostTimeNotShownAsComing(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"PSN_TZ": "Europe/Istanbul"}
	vars["PSN_HOME"] = startSandboxDaemon(t, vars)
	if r := runAt(t, vars, false, "post", "İstanbul'da uçurtma şenliği", "--at", "2027-06-01 09:00"); r.code != 0 {
		t.Fatalf("post: %+v", r)
	}
	if r := runAt(t, vars, false, "cancel", "1"); r.code != 0 {
		t.Fatalf("cancel: %+v", r)
	}
	for _, args := range [][]string{{"show", "1"}, {"list"}} {
		r := runAt(t, vars, false, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "+03 (not scheduled)") || strings.Contains(r.stdout, "(in ") ||
			strings.Contains(r.stdout, "scheduled:") {
			t.Errorf("%v = %+v, want the kept time marked not scheduled", args, r)
		}
	}
}
