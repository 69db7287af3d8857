package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/testutil"
)

const (
	authUserID   = "2244994945"
	authUsername = "psnd_test"
	authClientID = "conf-client-id"
	authSecret   = "conf-client-secret-value"
)

type authHarness struct {
	x   *fakex.Server
	ts  *httptest.Server
	cfg Config
	r   *running
	cb  string
}

// startAuthDaemon runs a daemon whose X is a fake on loopback.
func startAuthDaemon(t *testing.T, configure func(*Config)) *authHarness {
	t.Helper()
	h := &authHarness{}
	h.x, h.ts = xspec.NewTestServerIfSpec(t, fakex.Options{})
	h.x.AddUser(fakex.User{ID: authUserID, Username: authUsername, Name: "Psnd Test"})
	h.cb = testutil.FreeLoopbackAddr(t)
	h.x.AddClient(authClientID, authSecret, "http://"+h.cb+"/callback")

	h.cfg = testConfig(t, shortHome(t), &secrets.Memory{})
	h.cfg.Env.APIURL = h.ts.URL
	h.cfg.Env.AuthURL = h.ts.URL + "/i/oauth2/authorize"
	h.cfg.Env.TokenURL = h.ts.URL + "/2/oauth2/token"
	h.cfg.Env.CallbackAddr = h.cb
	h.cfg.XHTTPClient = h.ts.Client()
	if configure != nil {
		configure(&h.cfg)
	}
	h.r = start(t, h.cfg)
	waitHealth(t, h.r.client, func(hl api.Health) bool { return hl.Status == api.HealthOK })
	return h
}

func followRedirects(u string) (int, string, error) {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestAuthAPI(t *testing.T) {
	h := startAuthDaemon(t, nil)
	c := h.r.client
	ctx := context.Background()

	a, err := c.App(ctx)
	if err != nil || a.Configured || a.CallbackURL != "http://"+h.cb+"/callback" {
		t.Fatalf("app before setup: %+v %v", a, err)
	}
	_, err = c.StartLogin(ctx, api.LoginRequest{})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeNotConfigured || !strings.Contains(ae.Message, "psnd setup") {
		t.Fatalf("login without app: %v", err)
	}
	if _, err := c.SetApp(ctx, api.SetAppRequest{ClientID: "has space"}); !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
		t.Fatalf("bad client id: %v", err)
	}
	res, err := c.SetApp(ctx, api.SetAppRequest{ClientID: authClientID, ClientSecret: authSecret})
	if err != nil || !res.Changed || res.ClientType != "confidential" || !res.HasClientSecret {
		t.Fatalf("set app: %+v %v", res, err)
	}
	if res, err = c.SetApp(ctx, api.SetAppRequest{ClientID: authClientID, ClientSecret: authSecret}); err != nil || res.Changed {
		t.Fatalf("set same app again: %+v %v", res, err)
	}

	l, err := c.StartLogin(ctx, api.LoginRequest{})
	if err != nil || l.State != api.LoginWaiting || !l.Listening {
		t.Fatalf("start: %+v %v", l, err)
	}
	if _, err := c.SubmitLoginCode(ctx, l.ID, "http://"+h.cb+"/callback?code=x&state=nope"); !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
		t.Fatalf("wrong state: %v", err)
	}
	if _, err := c.WaitLogin(ctx, "nope", 0, 0); !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
		t.Fatalf("unknown login: %v", err)
	}
	// A long poll returns as soon as the browser's redirect is handled.
	polled := make(chan api.Login, 1)
	go func() {
		nl, _ := c.WaitLogin(ctx, l.ID, l.Version, 30*time.Second)
		polled <- nl
	}()
	if code, body, err := followRedirects(l.AuthURL); err != nil || code != 200 || !strings.Contains(body, "@"+authUsername) {
		t.Fatalf("browser: %d %s %v", code, body, err)
	}
	if nl := <-polled; nl.Version <= l.Version {
		t.Fatalf("long poll returned without a change: %+v", nl)
	}
	l, err = c.WaitLogin(ctx, l.ID, 0, 0)
	if err != nil || l.State != api.LoginSucceeded || l.Account == nil || l.Account.Username != authUsername || !l.Account.Default {
		t.Fatalf("after callback: %+v %v", l, err)
	}

	st, err := c.AuthStatus(ctx)
	if err != nil || len(st.Accounts) != 1 || !st.App.Configured {
		t.Fatalf("status: %+v %v", st, err)
	}
	as := st.Accounts[0]
	if !as.LoggedIn || as.NeedsReauth || as.TokenExpiresAt == nil || as.LoggedInAt == nil || len(as.Problems) != 0 ||
		len(as.Scopes) != 5 || as.SubscriptionType != "None" {
		t.Fatalf("account status: %+v", as)
	}
	acct, err := c.VerifyAccount(ctx, "")
	if err != nil || acct.ID != authUserID {
		t.Fatalf("verify: %+v %v", acct, err)
	}

	// Nothing secret on disk while the daemon runs (WAL not checkpointed)
	// nor after it stopped.
	scanNoSecrets(t, h.cfg.Env.DBPath(), authSecret)

	out, err := c.Logout(ctx, "")
	if err != nil || !out.HadTokens || !out.Revoked || out.Account.Username != authUsername {
		t.Fatalf("logout: %+v %v", out, err)
	}
	st, _ = c.AuthStatus(ctx)
	if len(st.Accounts) != 1 || st.Accounts[0].LoggedIn || !strings.Contains(strings.Join(st.Accounts[0].Problems, " "), "not logged in") {
		t.Fatalf("after logout: %+v", st)
	}
	if _, err := c.VerifyAccount(ctx, ""); !errors.As(err, &ae) || ae.Code != api.CodeNeedsReauth {
		t.Fatalf("verify after logout: %v", err)
	}
	h.r.stop(t)
	scanNoSecrets(t, h.cfg.Env.DBPath(), authSecret)
}

// scanNoSecrets checks the raw bytes of the database files for the given
// strings (the client secret; tokens are checked in internal/oauth).
func scanNoSecrets(t *testing.T, db string, secretValues ...string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(db + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secretValues {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("psn.db%s contains a secret in plaintext", suffix)
			}
		}
	}
}

func TestAuthDaemonOpensBrowserOnRequest(t *testing.T) {
	opened := make(chan string, 1)
	h := startAuthDaemon(t, func(c *Config) {
		c.OpenBrowser = func(u string) error {
			opened <- u
			_, _, err := followRedirects(u)
			return err
		}
	})
	ctx := context.Background()
	c := h.r.client
	if _, err := c.SetApp(ctx, api.SetAppRequest{ClientID: authClientID, ClientSecret: authSecret}); err != nil {
		t.Fatal(err)
	}
	l, err := c.StartLogin(ctx, api.LoginRequest{OpenBrowser: true})
	if err != nil {
		t.Fatal(err)
	}
	if u := <-opened; u != l.AuthURL {
		t.Fatalf("opened %s", u)
	}
	for !l.Done() {
		if l, err = c.WaitLogin(ctx, l.ID, l.Version, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if l.State != api.LoginSucceeded {
		t.Fatalf("%+v", l)
	}
}

func TestAuthLoginEndsAtShutdown(t *testing.T) {
	h := startAuthDaemon(t, nil)
	ctx := context.Background()
	if _, err := h.r.client.SetApp(ctx, api.SetAppRequest{ClientID: authClientID}); err != nil {
		t.Fatal(err)
	}
	l, err := h.r.client.StartLogin(ctx, api.LoginRequest{})
	if err != nil || !l.Listening {
		t.Fatalf("%+v %v", l, err)
	}
	h.r.stop(t)
	// The callback port is free again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", h.cb)
		if err == nil {
			ln.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("callback port still taken after shutdown: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReauthErrorMatchesPublisher: the publisher recognises oauth's
// needs-reauth error directly, keeping its message.
func TestReauthErrorMatchesPublisher(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &oauth.ReauthError{AccountID: "7", Username: "alice", Reason: "X refused the refresh token"})
	if !errors.Is(err, oauth.ErrNeedsReauth) ||
		err.Error() != "wrapped: account @alice must log in again (X refused the refresh token): run `psnd auth login`" {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(errors.New("network"), oauth.ErrNeedsReauth) {
		t.Fatal("unrelated error matched")
	}
}
