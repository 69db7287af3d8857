package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/oauth/oauthtest"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/testutil"
)

// psndBin is the binary under test, built once by TestMain.
var psndBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "psnd-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	psndBin = filepath.Join(dir, "psnd")
	// Built as `make build` builds it (static, no C), so that the
	// benchmarks here measure the binary users run.
	build := exec.Command("go", "build", "-o", psndBin, "github.com/psnd/psnd/cmd/psnd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build psnd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// home is a data directory with a short path (Unix socket limits).
func home(t *testing.T) string {
	t.Helper()
	return filepath.Join(testutil.ShortDir(t), "home")
}

// env is the environment of a psnd process pointed at the fake X.
func env(h, xURL string) []string {
	return []string{
		"PSN_HOME=" + h,
		"PSN_KEYRING=file",
		"PSN_X_API_URL=" + xURL,
		"PSN_X_AUTH_URL=" + xURL + "/i/oauth2/authorize",
		"PSN_X_TOKEN_URL=" + xURL + "/2/oauth2/token",
		"PSN_TZ=UTC",
		// No desktop notifications from test daemons (on macOS they
		// would show: osascript needs no bus).
		"PSN_NOTIFY=0",
		"HOME=" + filepath.Dir(h),
		"PATH=" + os.Getenv("PATH"),
	}
}

// daemon is a running `psnd serve` subprocess.
type daemon struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited
	log    *testutil.SyncBuffer
}

func startDaemon(t *testing.T, environ []string) *daemon {
	t.Helper()
	return startDaemonArgs(t, environ, "serve")
}

func startDaemonArgs(t *testing.T, environ []string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(psndBin, args...)
	cmd.Env = environ
	log := &testutil.SyncBuffer{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, exited: make(chan struct{}), log: log}
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	// Ready when the socket answers.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, code := run(t, environ, "", "list", "--json"); code == 0 {
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("daemon exited: %v\n%s", d.err, log.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("daemon did not come up:\n%s", log.String())
	return nil
}

// kill9 kills the daemon without giving it any chance to clean up.
func (d *daemon) kill9() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

// stop ends the daemon gracefully.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		if d.err != nil {
			t.Errorf("daemon exit: %v\n%s", d.err, d.log.String())
		}
	case <-time.After(30 * time.Second):
		d.kill9()
		t.Errorf("daemon did not stop on SIGTERM")
	}
}

// run runs a psnd client command and returns stdout, stderr, exit code.
func run(t *testing.T, environ []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(psndBin, args...)
	cmd.Env = environ
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run psnd %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func runJSON(t *testing.T, environ []string, v any, args ...string) {
	t.Helper()
	out, errs, code := run(t, environ, "", args...)
	if code != 0 {
		t.Fatalf("psnd %v: exit %d: %s", args, code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("psnd %v: bad JSON %v: %s", args, err, out)
	}
}

// seedLogin connects the account with tokens the fake X issued, as a
// finished `psnd auth login` would have: key file, key check, app
// credentials and sealed tokens.
func seedLogin(t *testing.T, h string, x *fakex.Server, user fakex.User) {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(h, 0o700); err != nil {
		t.Fatal(err)
	}
	id, _ := secrets.EntryID(h)
	key, _, err := secrets.LoadOrCreateKey(ctx, secrets.NewFile(h), id)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(ctx, filepath.Join(h, "psn.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	oauthtest.SeedLogin(t, s, key, x, user, "e2e-client")
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
