package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/testutil"
)

const (
	loginUserID   = "2244994945"
	loginUsername = "psnd_test"
	loginClientID = "conf-client-id"
	loginSecret   = "conf-client-secret-value"
)

// loginWorld is a running daemon whose X is a fake on loopback.
type loginWorld struct {
	x    *fakex.Server
	ts   *httptest.Server
	vars map[string]string // the CLI's environment
	cb   string
}

func newLoginWorld(t *testing.T) *loginWorld {
	t.Helper()
	w := &loginWorld{}
	if cliSharedPresent() {
		w.x, w.ts = xspec.NewTestServer(t, fakex.Options{})
	} else {
		w.x = fakex.New(fakex.Options{})
		w.ts = httptest.NewServer(w.x)
		t.Cleanup(w.ts.Close)
	}
	w.x.AddUser(fakex.User{ID: loginUserID, Username: loginUsername, Name: "Psnd Test"})
	w.cb = testutil.FreeLoopbackAddr(t)
	w.x.AddClient(loginClientID, loginSecret, "http://"+w.cb+"/callback")

	dvars := map[string]string{
		"PSN_HOME": shortHome(t), "PSN_TZ": "UTC",
		"PSN_X_API_URL": w.ts.URL, "PSN_X_AUTH_URL": w.ts.URL + "/i/oauth2/authorize",
		"PSN_X_TOKEN_URL": w.ts.URL + "/2/oauth2/token", "PSN_CALLBACK_ADDR": w.cb,
	}
	cfg, err := config.Load(func(k string) string { return dvars[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{Env: cfg, Version: "test", Keyring: &secrets.Memory{},
			KeyBackoff: secrets.Backoff{Initial: 5 * time.Millisecond}, Ready: func() { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	w.vars = maps.Clone(dvars)
	// Wait until the data key is ready (a memory keyring: a moment).
	c, err := client(&Env{Getenv: func(k string) string { return dvars[k] }, GOOS: "linux", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := c.Health(context.Background())
		if err == nil && h.Status == api.HealthOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon never became healthy: %+v %v", h, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return w
}

func cliSharedPresent() bool {
	if os.Getenv("PSN_SHARED_DIR") != "" || os.Getenv("PSN_REQUIRE_SHARED") == "1" {
		return true
	}
	root, err := testutil.RepoRoot()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(root, "..", "shared", "x-api", "openapi.json"))
	return err == nil
}

// withApp stores the fake's confidential app through the CLI's setup path.
func (w *loginWorld) withApp(t *testing.T) {
	t.Helper()
	vars := maps.Clone(w.vars)
	vars["X_CLIENT_ID"], vars["X_CLIENT_SECRET"] = loginClientID, loginSecret
	c, err := client(&Env{Getenv: func(k string) string { return vars[k] }, GOOS: "linux", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetApp(context.Background(), api.SetAppRequest{ClientID: loginClientID, ClientSecret: loginSecret}); err != nil {
		t.Fatal(err)
	}
}

// syncBuf is a buffer a test can read while a command writes to it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cmdRun is one command running in the background with a pipe for stdin.
type cmdRun struct {
	stdin          *io.PipeWriter
	stdout, stderr *syncBuf
	done           chan int
	code           int
}

type sessionOpts struct {
	vars        map[string]string
	openBrowser func(string) error
	tty         bool
	stderrTTY   bool
	ctx         context.Context // nil: context.Background (Ctrl-C cancels it)
}

func startSession(t *testing.T, o sessionOpts, args ...string) *cmdRun {
	t.Helper()
	pr, pw := io.Pipe()
	s := &cmdRun{stdin: pw, stdout: &syncBuf{}, stderr: &syncBuf{}, done: make(chan int, 1)}
	env := Env{Stdin: pr, Stdout: s.stdout, Stderr: s.stderr, Getenv: func(k string) string { return o.vars[k] },
		GOOS: "linux", Version: "test", StdinIsTerminal: o.tty, StderrIsTerminal: o.stderrTTY, OpenBrowser: o.openBrowser}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	go func() { s.done <- Main(ctx, args, env) }()
	t.Cleanup(func() { pw.Close() })
	return s
}

// wait waits for the command to exit (generously: this is not a timing
// assertion).
func (s *cmdRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case s.code = <-s.done:
		return s.code
	case <-time.After(60 * time.Second):
		t.Fatalf("command did not finish; stderr so far:\n%s", s.stderr)
		return 0
	}
}

// waitFor waits until stderr contains sub.
func (s *cmdRun) waitFor(t *testing.T, sub string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if out := s.stderr.String(); strings.Contains(out, sub) {
			return out
		}
		select {
		case code := <-s.done:
			t.Fatalf("command exited %d before printing %q; stderr:\n%s", code, sub, s.stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("stderr never contained %q:\n%s", sub, s.stderr)
	return ""
}

// authURLIn finds the authorize URL the command printed.
func authURLIn(t *testing.T, out string) string {
	t.Helper()
	for _, f := range strings.Fields(out) {
		if strings.Contains(f, "/i/oauth2/authorize?") {
			return f
		}
	}
	t.Fatalf("no authorize URL in:\n%s", out)
	return ""
}

// standInBrowser follows the authorize URL's redirects to psnd's callback.
func standInBrowser(u string) error {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// addressBar returns where X redirected the browser, without going there.
func addressBar(t *testing.T, authURL string) string {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}

func TestAuthLoginStatusLogout(t *testing.T) {
	w := newLoginWorld(t)
	w.withApp(t)
	s := startSession(t, sessionOpts{vars: w.vars, openBrowser: standInBrowser}, "auth", "login", "--json")
	if code := s.wait(t); code != 0 {
		t.Fatalf("login exit %d: %s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "/i/oauth2/authorize?") {
		t.Fatalf("the URL was not printed: %s", s.stderr)
	}
	if strings.Contains(s.stderr.String(), "Waiting for you") {
		t.Fatalf("a spinner although stderr is not a terminal: %q", s.stderr)
	}
	var acct api.Account
	if err := json.Unmarshal([]byte(s.stdout.String()), &acct); err != nil || acct.Username != loginUsername || !acct.Default {
		t.Fatalf("login --json: %q %v", s.stdout, err)
	}

	r := run(t, w.vars, "", "auth", "status", "--json")
	var st api.AuthStatus
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || len(st.Accounts) != 1 || !st.Accounts[0].LoggedIn {
		t.Fatalf("status --json: %+v", r)
	}
	if strings.Contains(r.stdout, loginSecret) {
		t.Fatal("status shows the client secret")
	}
	r = run(t, w.vars, "", "auth", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "@"+loginUsername) || !strings.Contains(r.stdout, "status:        ok") ||
		!strings.Contains(r.stdout, "default") {
		t.Fatalf("status: %+v", r)
	}

	r = run(t, w.vars, "", "auth", "logout", "--json")
	var out api.LogoutResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || !out.Revoked || !out.HadTokens {
		t.Fatalf("logout: %+v", r)
	}
	r = run(t, w.vars, "", "auth", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "not logged in") {
		t.Fatalf("status after logout: %+v", r)
	}
	r = run(t, w.vars, "", "auth", "logout", "@nobody")
	if r.code != ExitError || !strings.Contains(r.stderr, "nobody") {
		t.Fatalf("logout unknown: %+v", r)
	}
}

func TestAuthLoginPortBusyPastes(t *testing.T) {
	w := newLoginWorld(t)
	w.withApp(t)
	busy, err := net.Listen("tcp", w.cb)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	opened := false
	s := startSession(t, sessionOpts{vars: w.vars, openBrowser: func(string) error { opened = true; return nil }}, "auth", "login")
	out := s.waitFor(t, "Paste the full URL")
	if !strings.Contains(out, "could not listen on "+w.cb) {
		t.Fatalf("busy port not explained:\n%s", out)
	}
	io.WriteString(s.stdin, addressBar(t, authURLIn(t, out))+"\n")
	if code := s.wait(t); code != 0 || !strings.Contains(s.stdout.String(), "Logged in to X as @"+loginUsername) {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, s.stdout, s.stderr)
	}
	if opened {
		t.Error("opened a browser although the callback cannot be caught")
	}
}

func TestAuthLoginTimeoutPastes(t *testing.T) {
	w := newLoginWorld(t)
	w.withApp(t)
	// The browser opens but the user never gets redirected back.
	s := startSession(t, sessionOpts{vars: w.vars, openBrowser: func(string) error { return nil }, stderrTTY: true},
		"auth", "login", "--timeout", "50ms")
	out := s.waitFor(t, "Paste the full URL")
	if !strings.Contains(out, "Waiting for you to approve") {
		t.Fatalf("no spinner on a terminal:\n%s", out)
	}
	if !strings.Contains(out, "No redirect") && !strings.Contains(out, "no redirect") {
		t.Fatalf("timeout not explained:\n%s", out)
	}
	io.WriteString(s.stdin, addressBar(t, authURLIn(t, out))+"\n")
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
}

func TestAuthLoginWrongStateRejectedThenRight(t *testing.T) {
	w := newLoginWorld(t)
	w.withApp(t)
	s := startSession(t, sessionOpts{vars: w.vars}, "auth", "login", "--no-browser", "--json")
	out := s.waitFor(t, "Paste the full URL")
	loc, _ := url.Parse(addressBar(t, authURLIn(t, out)))
	forged := *loc
	q := forged.Query()
	q.Set("state", "not-this-login")
	forged.RawQuery = q.Encode()
	io.WriteString(s.stdin, forged.String()+"\n")
	s.waitFor(t, "Paste again")
	if !strings.Contains(s.stderr.String(), "state does not match") {
		t.Fatalf("rejection not explained:\n%s", s.stderr)
	}
	io.WriteString(s.stdin, loc.String()+"\n")
	var acct api.Account
	if code := s.wait(t); code != 0 || json.Unmarshal([]byte(s.stdout.String()), &acct) != nil || acct.Username != loginUsername {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, s.stdout, s.stderr)
	}
}

func TestAuthLoginAccessDenied(t *testing.T) {
	w := newLoginWorld(t)
	w.withApp(t)
	w.x.SetDenyAuthorization(true)
	s := startSession(t, sessionOpts{vars: w.vars, openBrowser: standInBrowser}, "auth", "login")
	if code := s.wait(t); code != ExitError || !strings.Contains(s.stderr.String(), "access_denied") {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "psnd: login failed: access was denied") {
		t.Fatalf("last line %q", last)
	}
}

func TestAuthLoginNoInputNoHang(t *testing.T) {
	w := newLoginWorld(t)
	w.withApp(t)
	// Not a terminal, stdin at EOF, and the browser never comes back:
	// give up after the timeout instead of waiting forever.
	s := startSession(t, sessionOpts{vars: w.vars, openBrowser: func(string) error { return nil }},
		"auth", "login", "--timeout", "50ms")
	s.stdin.Close()
	if code := s.wait(t); code != ExitError || !strings.Contains(s.stderr.String(), "psnd auth login") {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
}

func TestAuthLoginWithoutApp(t *testing.T) {
	w := newLoginWorld(t)
	r := run(t, w.vars, "", "auth", "login", "--no-browser")
	if r.code != ExitError || !strings.Contains(r.stderr, "psnd setup") {
		t.Fatalf("%+v", r)
	}
}

func setupLines(t *testing.T, out string) []SetupStep {
	t.Helper()
	var steps []SetupStep
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var s SetupStep
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		steps = append(steps, s)
	}
	return steps
}

func wantSteps(t *testing.T, got []SetupStep, want ...string) {
	t.Helper()
	var g []string
	for _, s := range got {
		g = append(g, s.Step+"="+s.Status)
	}
	if strings.Join(g, " ") != strings.Join(want, " ") {
		t.Fatalf("steps %v\nwant  %v\n%+v", g, want, got)
	}
}

func TestSetupJSONFreshThenConfigured(t *testing.T) {
	w := newLoginWorld(t)
	vars := maps.Clone(w.vars)
	vars["X_CLIENT_ID"], vars["X_CLIENT_SECRET"] = loginClientID, loginSecret
	s := startSession(t, sessionOpts{vars: vars, openBrowser: standInBrowser}, "setup", "--json")
	if code := s.wait(t); code != 0 {
		t.Fatalf("fresh setup exit %d\n%s\n%s", code, s.stdout, s.stderr)
	}
	steps := setupLines(t, s.stdout.String())
	wantSteps(t, steps, "data_dir=success", "keyring=success", "x_app=success", "login=success", "check=success")
	if !strings.Contains(steps[4].Message, "@"+loginUsername) {
		t.Fatalf("check: %+v", steps[4])
	}

	// Again, on the configured home: nothing to do but verify.
	s = startSession(t, sessionOpts{vars: vars, openBrowser: func(string) error {
		t.Error("setup opened a browser although logged in")
		return nil
	}}, "setup", "--json")
	if code := s.wait(t); code != 0 {
		t.Fatalf("second setup exit %d\n%s\n%s", code, s.stdout, s.stderr)
	}
	wantSteps(t, setupLines(t, s.stdout.String()), "data_dir=success", "keyring=success", "x_app=skipped", "login=skipped", "check=success")
	if st := w.x.Stats(); st.CodeExchanges != 1 {
		t.Fatalf("fake stats %+v", st)
	}

	// Without the variables too (the app is stored).
	r := run(t, w.vars, "", "setup")
	if r.code != 0 || !strings.Contains(r.stdout, "already stored") || !strings.Contains(r.stdout, "ready to post") {
		t.Fatalf("human setup: %+v", r)
	}
}

func TestSetupNeedsInputWithoutTerminal(t *testing.T) {
	w := newLoginWorld(t)
	r := run(t, w.vars, "", "setup", "--json")
	if r.code == 0 {
		t.Fatalf("exit 0: %+v", r)
	}
	steps := setupLines(t, r.stdout)
	wantSteps(t, steps, "data_dir=success", "keyring=success", "x_app=need_input")
	if !strings.Contains(steps[2].Message, "X_CLIENT_ID") || !strings.Contains(steps[2].Message, "http://"+w.cb+"/callback") {
		t.Fatalf("need_input message %q", steps[2].Message)
	}
	if !strings.Contains(r.stderr, "1. Open https://console.x.com") {
		t.Fatalf("instructions missing from stderr: %s", r.stderr)
	}

	// App given, but no browser and no terminal to paste into.
	vars := maps.Clone(w.vars)
	vars["X_CLIENT_ID"] = loginClientID
	vars["X_CLIENT_SECRET"] = loginSecret
	r = run(t, vars, "", "setup", "--json", "--no-browser")
	if r.code == 0 {
		t.Fatalf("exit 0: %+v", r)
	}
	wantSteps(t, setupLines(t, r.stdout), "data_dir=success", "keyring=success", "x_app=success", "login=need_input")
}

func TestSetupPromptsOnTerminal(t *testing.T) {
	w := newLoginWorld(t)
	s := startSession(t, sessionOpts{vars: w.vars, openBrowser: standInBrowser, tty: true}, "setup")
	s.waitFor(t, "OAuth 2.0 Client ID: ")
	io.WriteString(s.stdin, "has space\n")
	s.waitFor(t, "Client Secret")
	io.WriteString(s.stdin, "x\n")
	s.waitFor(t, "try again")
	io.WriteString(s.stdin, loginClientID+"\n"+loginSecret+"\n")
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, s.stdout, s.stderr)
	}
	out := s.stdout.String()
	for _, want := range []string{"1. Open https://console.x.com", "exactly http://" + w.cb + "/callback", "stored X app " + loginClientID + " (confidential)", "logged in as @" + loginUsername} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+s.stderr.String(), loginSecret) {
		t.Error("the secret was echoed")
	}
}

func TestSetupWithoutDaemon(t *testing.T) {
	r := run(t, map[string]string{"PSN_HOME": shortHome(t)}, "", "setup", "--json")
	steps := setupLines(t, r.stdout)
	if r.code != ExitNoDaemon || len(steps) != 1 || steps[0].Status != "error" || !strings.Contains(steps[0].Message, "psnd serve") {
		t.Fatalf("%+v", r)
	}
}

func TestSetupPortBusyWithoutTerminalNeedsInput(t *testing.T) {
	w := newLoginWorld(t)
	busy, err := net.Listen("tcp", w.cb)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	vars := maps.Clone(w.vars)
	vars["X_CLIENT_ID"], vars["X_CLIENT_SECRET"] = loginClientID, loginSecret
	s := startSession(t, sessionOpts{vars: vars, openBrowser: standInBrowser}, "setup", "--json")
	if code := s.wait(t); code == 0 {
		t.Fatalf("exit 0\n%s", s.stdout)
	}
	steps := setupLines(t, s.stdout.String())
	wantSteps(t, steps, "data_dir=success", "keyring=success", "x_app=success", "login=need_input")
	if !strings.Contains(steps[3].Message, "could not listen") {
		t.Fatalf("message %q", steps[3].Message)
	}
}
