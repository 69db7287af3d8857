package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/testutil"
)

// TestLoginEndToEnd is the login's done-when: the real psnd binary, `psnd
// serve` as a process whose X is a fake reached through the PSN_X_*
// variables, a browser stand-in named xdg-open first on PATH, and then
// `psnd setup`, `psnd auth login` and `psnd auth status` as a user would
// run them; tokens keep working after X considers them expired, and after
// the daemon restarts.
func TestLoginEndToEnd(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pkg/browser runs xdg-open only on Linux and the BSDs")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp, err := os.MkdirTemp("/tmp", "psnd-e2e-") // short: the socket path limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	bin := filepath.Join(tmp, "bin")
	os.MkdirAll(bin, 0o755)
	gobuild(t, filepath.Join(bin, "psnd"), "github.com/psnd/psnd/cmd/psnd")
	gobuild(t, filepath.Join(bin, "xdg-open"), "./testdata/xdgopen")

	// X, with its own clock so the test can make X consider tokens expired.
	clk := clock.NewFake(time.Now())
	var x *fakex.Server
	var ts *httptest.Server
	if cliSharedPresent() {
		x, ts = xspec.NewTestServer(t, fakex.Options{Clock: clk, RevokeFamilyOnReuse: true})
	} else {
		x = fakex.New(fakex.Options{Clock: clk, RevokeFamilyOnReuse: true})
		ts = httptest.NewServer(x)
		t.Cleanup(ts.Close)
	}
	x.AddUser(fakex.User{ID: loginUserID, Username: loginUsername, Name: "Psnd Test"})
	cb := testutil.FreeLoopbackAddr(t)
	x.AddClient(loginClientID, loginSecret, "http://"+cb+"/callback")

	home := filepath.Join(tmp, "home")
	browserLog := filepath.Join(tmp, "browser.log")
	environ := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + tmp, "PSN_HOME=" + home, "PSN_KEYRING=file", "PSN_TZ=UTC",
		"PSN_X_API_URL=" + ts.URL,
		"PSN_X_AUTH_URL=" + ts.URL + "/i/oauth2/authorize",
		"PSN_X_TOKEN_URL=" + ts.URL + "/2/oauth2/token",
		"PSN_CALLBACK_ADDR=" + cb,
		"PSND_TEST_BROWSER_LOG=" + browserLog,
	}
	psnd := func(extra []string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "psnd"), args...)
		cmd.Env = append(append([]string(nil), environ...), extra...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}

	d := startServe(t, filepath.Join(bin, "psnd"), environ, home)

	// setup, from nothing: the app from the environment, the login through
	// the stand-in browser, the final check against X.
	creds := []string{"X_CLIENT_ID=" + loginClientID, "X_CLIENT_SECRET=" + loginSecret}
	code, out, errOut := psnd(creds, "setup", "--json")
	if code != 0 {
		b, _ := os.ReadFile(browserLog)
		t.Fatalf("setup exit %d\nstdout %s\nstderr %s\nbrowser %s\ndaemon %s", code, out, errOut, b, d.log)
	}
	wantSteps(t, setupLines(t, out), "data_dir=success", "keyring=success", "x_app=success", "login=success", "check=success")
	if !strings.Contains(errOut, "/i/oauth2/authorize?") {
		t.Errorf("setup did not print the URL: %s", errOut)
	}

	// An explicit login (the same account again: its tokens are replaced).
	code, out, errOut = psnd(nil, "auth", "login", "--json")
	if code != 0 {
		t.Fatalf("auth login exit %d\n%s\n%s\ndaemon %s", code, out, errOut, d.log)
	}
	var acct api.Account
	if err := json.Unmarshal([]byte(out), &acct); err != nil || acct.ID != loginUserID || !acct.Default {
		t.Fatalf("auth login --json: %q %v", out, err)
	}

	code, out, _ = psnd(nil, "auth", "status", "--json")
	var st api.AuthStatus
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st.Accounts) != 1 {
		t.Fatalf("auth status: %d %s", code, out)
	}
	if a := st.Accounts[0]; a.Username != loginUsername || !a.LoggedIn || a.NeedsReauth || a.TokenExpiresAt == nil || len(a.Problems) != 0 {
		t.Fatalf("account %+v", a)
	}

	// Across expiry: X now refuses the access token; the check refreshes.
	clk.Advance(3 * time.Hour)
	code, out, errOut = psnd(nil, "setup", "--json")
	if code != 0 {
		t.Fatalf("setup after expiry: %d\n%s\n%s\ndaemon %s", code, out, errOut, d.log)
	}
	wantSteps(t, setupLines(t, out), "data_dir=success", "keyring=success", "x_app=skipped", "login=skipped", "check=success")

	// Across a restart: the rotated refresh token was committed.
	d.stop(t)
	d = startServe(t, filepath.Join(bin, "psnd"), environ, home)
	clk.Advance(3 * time.Hour)
	code, out, errOut = psnd(nil, "setup", "--json")
	if code != 0 {
		t.Fatalf("setup after restart: %d\n%s\n%s\ndaemon %s", code, out, errOut, d.log)
	}
	wantSteps(t, setupLines(t, out), "data_dir=success", "keyring=success", "x_app=skipped", "login=skipped", "check=success")
	if s := x.Stats(); s.CodeExchanges != 2 || s.Refreshes != 2 || s.RejectedRefreshes != 0 || s.RejectedCodes != 0 {
		t.Fatalf("fake X stats %+v", s)
	}
	d.stop(t)

	for _, f := range []string{"psn.db", "psn.db-wal"} {
		b, err := os.ReadFile(filepath.Join(home, f))
		if err == nil && bytes.Contains(b, []byte(loginSecret)) {
			t.Errorf("%s contains the client secret", f)
		}
	}
	if strings.Contains(d.log.String(), loginSecret) {
		t.Error("the daemon logged the client secret")
	}
}

func gobuild(t *testing.T, out, pkg string) {
	t.Helper()
	b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

type serveProc struct {
	cmd  *exec.Cmd
	log  *testutil.SyncBuffer
	done chan error
}

// startServe runs `psnd serve` and waits until it answers with its key
// ready.
func startServe(t *testing.T, bin string, environ []string, home string) *serveProc {
	t.Helper()
	p := &serveProc{cmd: exec.Command(bin, "serve"), log: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = environ
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	c := apiclient.New(filepath.Join(home, "psnd.sock"), "test")
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := c.Health(context.Background())
		if err == nil && h.Status == api.HealthOK {
			return p
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("psnd serve exited: %v\n%s", err, p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("psnd serve never became healthy: %+v %v\n%s", h, err, p.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("psnd serve: %v\n%s", err, p.log)
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("psnd serve did not stop on SIGTERM\n%s", p.log)
	}
}
