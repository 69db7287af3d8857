package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

func TestLoginWithBrowser(t *testing.T) {
	for _, public := range []bool{false, true} {
		name := "confidential"
		if public {
			name = "public"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOpts{public: public})
			ctx := context.Background()
			st, err := e.logins.Start(ctx, StartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st.State != LoginWaiting || !st.Listening || st.RedirectURI != "http://"+e.cb+"/callback" {
				t.Fatalf("started %+v", st)
			}
			u, _ := url.Parse(st.AuthURL)
			q := u.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("scope") != strings.Join(Scopes, " ") ||
				q.Get("redirect_uri") != st.RedirectURI || len(q.Get("state")) < 32 {
				t.Fatalf("authorize URL %s", st.AuthURL)
			}

			resp, err := browser().Get(st.AuthURL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "@"+testUsername) {
				t.Fatalf("callback page %d %s", resp.StatusCode, body)
			}
			if resp.Header.Get("Referrer-Policy") != "no-referrer" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("callback headers %v", resp.Header)
			}
			st, _ = e.logins.Get(st.ID)
			if st.State != LoginSucceeded || st.Account == nil || st.Account.ID != testUserID || !st.Account.IsDefault {
				t.Fatalf("after callback %+v", st)
			}
			// The listener is gone.
			waitClosed(t, e.cb)

			tok, err := e.src.Token(ctx, testUserID)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.me(tok); err != nil {
				t.Fatalf("token does not work: %v", err)
			}
			m := e.meta(testUserID)
			if m.ObtainedAt == nil || !m.ObtainedAt.Equal(t0) || m.NeedsReauth {
				t.Fatalf("meta %+v", m)
			}
			if s := e.x.Stats(); s.CodeExchanges != 1 || s.RejectedCodes != 0 {
				t.Fatalf("fake stats %+v", s)
			}
		})
	}
}

// waitClosed waits until nothing accepts connections on addr.
func waitClosed(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections", addr)
}

func TestCallbackRejectsStrangersAndKeepsWaiting(t *testing.T) {
	e := newEnv(t, envOpts{})
	st, err := e.logins.Start(context.Background(), StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cb := "http://" + e.cb
	for _, tc := range []struct{ method, target string }{
		{"GET", cb + "/callback?code=abc&state=wrong"},
		{"GET", cb + "/callback?code=abc"},
		{"GET", cb + "/favicon.ico"},
		{"GET", cb + "/"},
		{"POST", cb + "/callback?code=abc&state=wrong"},
		{"GET", cb + "/callback?error=access_denied&state=wrong"},
	} {
		req, _ := http.NewRequest(tc.method, tc.target, nil)
		resp, err := browser().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s %s: %d", tc.method, tc.target, resp.StatusCode)
		}
	}
	if got, _ := e.logins.Get(st.ID); got.State != LoginWaiting {
		t.Fatalf("login ended by a stranger: %+v", got)
	}
	// The real redirect still completes it.
	resp, err := browser().Get(st.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, _ := e.logins.Get(st.ID); got.State != LoginSucceeded {
		t.Fatalf("after the real callback: %+v", got)
	}
	// A second callback with the right state is refused (exactly one).
	if s := e.x.Stats(); s.CodeExchanges != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestAccessDenied(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.x.SetDenyAuthorization(true)
	st, err := e.logins.Start(context.Background(), StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := browser().Get(st.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "access_denied") {
		t.Fatalf("page does not show X's error: %s", body)
	}
	st, _ = e.logins.Get(st.ID)
	if st.State != LoginFailed || st.Error == nil || st.Error.Code != "access_denied" ||
		!strings.Contains(st.Error.Message, "denied") {
		t.Fatalf("status %+v", st)
	}
	waitClosed(t, e.cb)
	if s := e.x.Stats(); s.CodeExchanges != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPortBusyFallsBackToPaste(t *testing.T) {
	e := newEnv(t, envOpts{})
	busy, err := net.Listen("tcp", e.cb)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	st, err := e.logins.Start(context.Background(), StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Listening || st.State != LoginAwaitingCode || !strings.Contains(st.ListenError, e.cb) {
		t.Fatalf("status %+v", st)
	}
	// The user copies the redirect URL from the address bar (the browser
	// reached the other program on the port, or an error page).
	st, err = e.logins.SubmitCode(context.Background(), st.ID, "  "+e.addressBar(st.AuthURL)+"\n")
	if err != nil || st.State != LoginSucceeded || st.Account.Username != testUsername {
		t.Fatalf("paste: %+v %v", st, err)
	}
}

func TestTimeoutFallsBackToPaste(t *testing.T) {
	e := newEnv(t, envOpts{})
	st, err := e.logins.Start(context.Background(), StartOptions{CallbackTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err = e.logins.Wait(context.Background(), st.ID, st.Version)
	if err != nil || st.State != LoginAwaitingCode || st.Listening {
		t.Fatalf("after timeout: %+v %v", st, err)
	}
	waitClosed(t, e.cb)
	// The bare code works too (PKCE binds it to this login).
	loc, _ := url.Parse(e.addressBar(st.AuthURL))
	st, err = e.logins.SubmitCode(context.Background(), st.ID, loc.Query().Get("code"))
	if err != nil || st.State != LoginSucceeded {
		t.Fatalf("paste code: %+v %v", st, err)
	}
}

func TestPastedURLWithWrongStateRejected(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	st, err := e.logins.Start(ctx, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(e.addressBar(st.AuthURL))
	forged := *loc
	q := forged.Query()
	q.Set("state", "someone-elses-state")
	forged.RawQuery = q.Encode()
	if _, err := e.logins.SubmitCode(ctx, st.ID, forged.String()); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("forged state: err = %v", err)
	}
	for _, junk := range []string{"", "not a code!", "http://127.0.0.1/callback?state=" + loc.Query().Get("state")} {
		if _, err := e.logins.SubmitCode(ctx, st.ID, junk); !errors.Is(err, ErrNoCode) {
			t.Errorf("paste %q: err = %v, want ErrNoCode", junk, err)
		}
	}
	if got, _ := e.logins.Get(st.ID); got.State != LoginWaiting {
		t.Fatalf("login ended by a rejected paste: %+v", got)
	}
	if s := e.x.Stats(); s.CodeExchanges+s.RejectedCodes != 0 {
		t.Fatalf("a rejected paste reached X: %+v", s)
	}
	st, err = e.logins.SubmitCode(ctx, st.ID, loc.String())
	if err != nil || st.State != LoginSucceeded {
		t.Fatalf("right URL: %+v %v", st, err)
	}
	if _, err := e.logins.SubmitCode(ctx, st.ID, loc.String()); !errors.Is(err, ErrLoginDone) {
		t.Fatalf("second paste: err = %v, want ErrLoginDone", err)
	}
}

func TestPastedDenial(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.x.SetDenyAuthorization(true)
	st, _ := e.logins.Start(context.Background(), StartOptions{})
	st, err := e.logins.SubmitCode(context.Background(), st.ID, e.addressBar(st.AuthURL))
	if err != nil || st.State != LoginFailed || st.Error.Code != "access_denied" {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestExpiredCodeReported(t *testing.T) {
	e := newEnv(t, envOpts{})
	st, _ := e.logins.Start(context.Background(), StartOptions{})
	loc := e.addressBar(st.AuthURL)
	e.clk.Advance(31 * time.Second) // X's codes die 30 s after approval
	st, err := e.logins.SubmitCode(context.Background(), st.ID, loc)
	if err != nil || st.State != LoginFailed || st.Error.Code != "exchange_failed" ||
		!strings.Contains(st.Error.Message, "30 seconds") {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestNewLoginSupersedesAndCancel(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	first, _ := e.logins.Start(ctx, StartOptions{})
	second, err := e.logins.Start(ctx, StartOptions{})
	if err != nil || !second.Listening {
		t.Fatalf("second login: %+v %v", second, err)
	}
	if got, _ := e.logins.Get(first.ID); got.State != LoginCancelled || got.Error.Code != "superseded" {
		t.Fatalf("first = %+v", got)
	}
	// The first login's redirect is now a stranger.
	resp, err := browser().Get(first.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("superseded callback: %d", resp.StatusCode)
	}
	got, _ := e.logins.Cancel(second.ID)
	if got.State != LoginCancelled {
		t.Fatalf("cancel: %+v", got)
	}
	waitClosed(t, e.cb)
}

func TestLoginNeedsAppAndKey(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	e.keys.set(secrets.ErrWaiting)
	if _, err := e.logins.Start(ctx, StartOptions{}); !errors.Is(err, secrets.ErrWaiting) {
		t.Fatalf("key waiting: err = %v", err)
	}
	e.keys.set(nil)
	e.store.Update(ctx, func(tx *sqlstore.Tx) error { return tx.SetClientCredentials("", nil, t0) })
	if _, err := e.logins.Start(ctx, StartOptions{}); !errors.Is(err, ErrNoApp) {
		t.Fatalf("no app: err = %v", err)
	}
	cfg := e.logins.cfg
	cfg.CallbackAddr = "localhost:18923"
	bad, _ := NewLogins(cfg)
	if _, err := bad.Start(ctx, StartOptions{}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("bad addr: err = %v", err)
	}
}

func TestReloginReplacesTokens(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	a1, r1 := e.opened(testUserID)
	e.login()
	a2, r2 := e.opened(testUserID)
	if a1 == a2 || r1 == r2 {
		t.Fatal("re-login kept the old tokens")
	}
	// X invalidated the first grant; the stored one works.
	if err := e.me(a1); err == nil {
		t.Fatal("old access token still works at the fake")
	}
	tok, err := e.src.Token(context.Background(), testUserID)
	if err != nil || tok != a2 {
		t.Fatalf("token %v", err)
	}
	var accts []post.Account
	e.store.View(context.Background(), func(tx *sqlstore.Tx) error { accts, err = tx.Accounts(); return err })
	if len(accts) != 1 {
		t.Fatalf("accounts %+v", accts)
	}
}

func TestSeveralAccountsFirstIsDefault(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	e.x.AddUser(fakexUser("1500000000000000001", "second"))
	e.x.SetAuthorizingUser("1500000000000000001")
	st := e.login()
	if st.Account.IsDefault || st.Account.Username != "second" {
		t.Fatalf("second account %+v", st.Account)
	}
	all, err := e.src.Status(context.Background())
	if err != nil || len(all) != 2 || all[0].Account.ID != testUserID || !all[0].Account.IsDefault {
		t.Fatalf("status %+v %v", all, err)
	}
}

func TestParseCallbackAddr(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:18923": "http://127.0.0.1:18923/callback",
		"[::1]:9000":      "http://[::1]:9000/callback",
		"127.0.0.2:80":    "http://127.0.0.2:80/callback",
	} {
		cb, err := ParseCallbackAddr(addr)
		if err != nil || cb.RedirectURI != want {
			t.Errorf("%s: %+v %v", addr, cb, err)
		}
	}
	for _, bad := range []string{"localhost:18923", "0.0.0.0:18923", "192.168.1.2:18923", "127.0.0.1:0", "127.0.0.1", ":18923", "127.0.0.1:http"} {
		if _, err := ParseCallbackAddr(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestRevokeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.x.com/2/oauth2/token":    "https://api.x.com/2/oauth2/revoke",
		"http://127.0.0.1:5/x/2/oauth2/token": "http://127.0.0.1:5/x/2/oauth2/revoke",
	} {
		if got, err := RevokeURL(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	if _, err := RevokeURL("https://api.x.com/oauth/tok"); err == nil {
		t.Error("non-token path accepted")
	}
}

// A page whose host name was rebound to 127.0.0.1 (DNS rebinding) reaches
// the callback port from the user's browser with its own Host header. Such
// a request, even with the right state and code, must neither end nor use
// the login.
func TestCallbackRefusesForeignHost(t *testing.T) {
	e := newEnv(t, envOpts{})
	st, err := e.logins.Start(context.Background(), StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	redirect := e.addressBar(st.AuthURL) // the real redirect, right state and code
	_, port, _ := net.SplitHostPort(e.cb)
	for _, host := range []string{
		"evil.example:" + port,
		"evil.example",
		"localhost:" + port,
		"127.0.0.1:1",
		"127.0.0.2:" + port,
		"[::1]:" + port,
	} {
		req, _ := http.NewRequest("GET", redirect, nil)
		req.Host = host
		resp, err := browser().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(string(body), "wrong address") {
			t.Errorf("Host %q: %d %s", host, resp.StatusCode, body)
		}
	}
	// HTTP/1.0 allows no Host at all; written by hand, as net/http always
	// sends one.
	c, err := net.Dial("tcp", e.cb)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(redirect)
	fmt.Fprintf(c, "GET %s HTTP/1.0\r\n\r\n", u.RequestURI())
	raw, _ := io.ReadAll(c)
	c.Close()
	if !strings.HasPrefix(string(raw), "HTTP/1.0 421 ") {
		t.Errorf("no Host: %.200s", raw)
	}
	if got, _ := e.logins.Get(st.ID); got.State != LoginWaiting || !got.Listening {
		t.Fatalf("login consumed by a foreign host: %+v", got)
	}
	if s := e.x.Stats(); s.CodeExchanges != 0 {
		t.Fatalf("a foreign host made psnd exchange the code: %+v", s)
	}
	// The browser's own request (Host 127.0.0.1:port) still completes it.
	resp, err := browser().Get(redirect)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, _ := e.logins.Get(st.ID); resp.StatusCode != http.StatusOK || got.State != LoginSucceeded {
		t.Fatalf("real callback: %d %+v", resp.StatusCode, got)
	}
}

func TestHostIs(t *testing.T) {
	for _, tc := range []struct {
		host, addr string
		want       bool
	}{
		{"127.0.0.1:18923", "127.0.0.1:18923", true},
		{"127.0.0.1:018923", "127.0.0.1:18923", true},
		{"[::1]:9000", "[::1]:9000", true},
		{"[0:0:0:0:0:0:0:1]:9000", "[::1]:9000", true},
		{"127.0.0.2", "127.0.0.2:80", true},
		{"127.0.0.2:80", "127.0.0.2:80", true},
		{"[::1]", "[::1]:80", true},
		{"127.0.0.1", "127.0.0.1:18923", false},
		{"localhost:18923", "127.0.0.1:18923", false},
		{"LOCALHOST:18923", "127.0.0.1:18923", false},
		{"127.0.0.1:18924", "127.0.0.1:18923", false},
		{"127.0.0.1.evil.example:18923", "127.0.0.1:18923", false},
		{"127.0.0.1:", "127.0.0.1:18923", false},
		{"", "127.0.0.1:18923", false},
		{"2130706433:18923", "127.0.0.1:18923", false},
	} {
		if got := hostIs(tc.host, tc.addr); got != tc.want {
			t.Errorf("hostIs(%q, %q) = %v", tc.host, tc.addr, got)
		}
	}
}
