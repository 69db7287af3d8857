package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/testutil"
)

type result struct {
	code           int
	stdout, stderr string
}

// run executes psnd with args in env vars vars (PSN_HOME etc.).
func run(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin:   strings.NewReader(stdin),
		Stdout:  &out,
		Stderr:  &errb,
		Getenv:  func(k string) string { return vars[k] },
		GOOS:    "linux",
		Version: "test",
	}
	code := Main(context.Background(), args, env)
	return result{code, out.String(), errb.String()}
}

func shortHome(t *testing.T) string {
	t.Helper()
	return filepath.Join(testutil.ShortDir(t), "home")
}

// startDaemon runs a real daemon on a fresh home and returns the variables
// pointing the CLI at it.
func startDaemon(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{"PSN_HOME": shortHome(t), "PSN_TZ": "UTC"}
	cfg, err := config.Load(func(k string) string { return vars[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, daemon.Config{Env: cfg, Version: "test", Keyring: &secrets.Memory{}})
	return vars
}

func TestVersion(t *testing.T) {
	r := run(t, nil, "", "version")
	if r.code != 0 || r.stdout != "psnd test\n" {
		t.Fatalf("%+v", r)
	}
	r = run(t, nil, "", "version", "--json")
	var v map[string]string
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil || v["version"] != "test" {
		t.Fatalf("%+v", r)
	}
}

func TestNoDaemonOneLine(t *testing.T) {
	vars := map[string]string{"PSN_HOME": shortHome(t)}
	for _, args := range [][]string{{"list"}, {"list", "--json"}, {"show", "1"}} {
		r := run(t, vars, "", args...)
		if r.code != ExitNoDaemon {
			t.Errorf("%v: exit %d, want %d", args, r.code, ExitNoDaemon)
		}
		if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "psnd serve") || r.stdout != "" {
			t.Errorf("%v: stderr %q stdout %q; want one line naming psnd serve", args, r.stderr, r.stdout)
		}
	}
}

func TestUsageErrorsExit2WithHelpHint(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"list", "--bogus"}, {"show"}, {"show", "1", "2"}, {"show", "abc"}, {"version", "x"}} {
		r := run(t, nil, "", args...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "Usage:") || !strings.HasPrefix(r.stderr, "psnd: ") || !strings.HasSuffix(r.stderr, " --help' for usage.\n") {
			t.Errorf("%v: stderr is not the error and a pointer to --help: %q", args, r.stderr)
		}
	}
}

func TestBadEnvironmentOneLine(t *testing.T) {
	r := run(t, map[string]string{"PSN_HOME": "/tmp/x", "PSN_KEYRING": "vault"}, "", "list")
	if r.code != ExitError || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "PSN_KEYRING") {
		t.Fatalf("%+v", r)
	}
}

func TestListShowAgainstDaemon(t *testing.T) {
	vars := startDaemon(t)
	r := run(t, vars, "", "list", "--json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("list --json = %+v, want []", r)
	}
	r = run(t, vars, "", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "No posts") {
		t.Fatalf("list = %+v", r)
	}
	r = run(t, vars, "", "list", "--status", "nope")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "unknown status") {
		t.Fatalf("list --status nope = %+v", r)
	}
	r = run(t, vars, "", "show", "9", "--json")
	if r.code != ExitError || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("show 9 = %+v", r)
	}
}

// runDaemon runs daemon.Run in process until the test ends, returning once
// its socket accepts connections.
func runDaemon(t *testing.T, cfg daemon.Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	cfg.Ready = func() { close(ready) }
	go func() { done <- daemon.Run(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
}

// Text that is not UTF-8 is refused by the CLI itself: sent as JSON, its
// bad bytes would silently become U+FFFD.
func TestInvalidUTF8TextRefused(t *testing.T) {
	vars := map[string]string{"PSN_HOME": shortHome(t)}
	for _, args := range [][]string{
		{"post", "caf\xe9", "--draft"},
		{"edit", "1", "--text", "\xff\xfe"},
	} {
		r := run(t, vars, "", args...)
		if r.code != ExitInvalidText || r.stderr != "psnd: the text is not valid UTF-8\n" || r.stdout != "" {
			t.Errorf("%q: %+v", args, r)
		}
	}
}

func TestLoginTimeoutBounded(t *testing.T) {
	r := run(t, map[string]string{"PSN_HOME": shortHome(t)}, "", "auth", "login", "--timeout", "11m")
	if r.code != ExitUsage || !strings.HasPrefix(r.stderr, "psnd: --timeout must be at most 10m0s\n") {
		t.Fatalf("%+v", r)
	}
}

// TestDatabaseGoneSaysSo: with psn.db deleted under the daemon, reading
// and changing posts fail with one line saying what happened and where the
// daemon saved the data.
func TestDatabaseGoneSaysSo(t *testing.T) {
	vars := startDaemon(t)
	os.Remove(filepath.Join(vars["PSN_HOME"], "psn.db"))
	for _, args := range [][]string{{"list"}, {"post", "--draft", "Ⱥ draft"}} {
		r := run(t, vars, "", args...)
		if r.code != ExitError || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" ||
			!strings.Contains(r.stderr, "was deleted while psnd was running") || !strings.Contains(r.stderr, "psn.db.rescued-") {
			t.Errorf("%v = %+v, want one line saying the database was deleted", args, r)
		}
	}
}
