package oauth

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/testutil"
	"github.com/psnd/psnd/internal/xapi"
)

const (
	testUserID   = "2244994945"
	testUsername = "psnd_test"
	confID       = "conf-client-id"
	confSecret   = "conf/secret+with=odd chars"
	publicID     = "public-client-id"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// testKeys is a KeySource whose key can be withheld.
type testKeys struct {
	mu  sync.Mutex
	key secrets.Key
	err error
}

func (k *testKeys) Key() (secrets.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return secrets.Key{}, k.err
	}
	return k.key, nil
}

func (k *testKeys) set(err error) {
	k.mu.Lock()
	k.err = err
	k.mu.Unlock()
}

type env struct {
	t      *testing.T
	clk    *clock.Fake
	x      *fakex.Server
	ts     *httptest.Server
	dbPath string
	store  *sqlstore.Store
	keys   *testKeys
	xc     *xapi.Client
	xc2    Identifier // when set, asked instead of xc (a test watches the calls)
	cb     string     // callback address
	sleeps []time.Duration
	src    *Source
	logins *Logins
	logs   logBuf
	// needsLogin records the Source's NeedsLogin calls.
	needsLogin []*ReauthError
}

type envOpts struct {
	public bool
	ttl    time.Duration
	fakex  fakex.Options
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	e := &env{t: t, clk: clock.NewFake(t0), keys: &testKeys{key: secrets.NewKey()}, cb: testutil.FreeLoopbackAddr(t)}
	fo := o.fakex
	fo.Clock = e.clk
	if o.ttl != 0 {
		fo.AccessTokenTTL = o.ttl
	}
	e.x, e.ts = xspec.NewTestServerIfSpec(t, fo)
	e.x.AddUser(fakex.User{ID: testUserID, Username: testUsername, Name: "Psnd Test"})
	redirect := "http://" + e.cb + "/callback"
	e.x.AddClient(confID, confSecret, redirect)
	e.x.AddClient(publicID, "", redirect)

	e.dbPath = filepath.Join(t.TempDir(), "psn.db")
	e.openStore()
	app := App{ClientID: confID, Secret: secrets.NewSecret(confSecret)}
	if o.public {
		app = App{ClientID: publicID}
	}
	if _, err := SaveApp(context.Background(), e.store, e.keys, app, t0); err != nil {
		t.Fatal(err)
	}
	var err error
	e.xc, err = xapi.New(xapi.Config{BaseURL: e.ts.URL, HTTPClient: e.ts.Client(), Clock: e.clk, Logger: e.logger()})
	if err != nil {
		t.Fatal(err)
	}
	e.newComponents()
	return e
}

func (e *env) openStore() {
	e.t.Helper()
	s, err := sqlstore.Open(context.Background(), e.dbPath, sqlstore.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.store = s
	e.t.Cleanup(func() { s.Close() })
}

// identify is what the components ask GET /2/users/me: xc2 when a test
// set one, else the X client.
func (e *env) identify() Identifier {
	if e.xc2 != nil {
		return e.xc2
	}
	return e.xc
}

// newComponents builds a fresh Source and Logins, as a daemon start does.
func (e *env) newComponents() {
	e.t.Helper()
	var err error
	e.src, err = NewSource(SourceConfig{
		Store: e.store, Keys: e.keys, HTTPClient: e.ts.Client(), TokenURL: e.ts.URL + "/2/oauth2/token",
		Identify: e.identify(), Clock: e.clk, Logger: e.logger(),
		NeedsLogin: func(re *ReauthError) { e.needsLogin = append(e.needsLogin, re) },
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.sleeps = append(e.sleeps, d)
			return ctx.Err()
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if e.logins != nil {
		e.logins.Close()
	}
	e.logins, err = NewLogins(LoginsConfig{
		Store: e.store, Keys: e.keys, HTTPClient: e.ts.Client(),
		Endpoints:    Endpoints{AuthURL: e.ts.URL + "/i/oauth2/authorize", TokenURL: e.ts.URL + "/2/oauth2/token"},
		CallbackAddr: e.cb, Identify: e.identify(), Clock: e.clk, Logger: e.logger(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	l := e.logins
	e.t.Cleanup(l.Close)
}

// browser is a stand-in for the user's browser: it follows redirects,
// from X's consent page to psnd's callback.
func browser() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// addressBar follows no redirect: it returns where X sent the browser, as
// the user would copy it from the address bar.
func (e *env) addressBar(authURL string) string {
	e.t.Helper()
	c := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize answered %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// login runs a whole login with the stand-in browser.
func (e *env) login() LoginStatus {
	e.t.Helper()
	st, err := e.logins.Start(context.Background(), StartOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := browser().Get(st.AuthURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	st, err = e.logins.Get(st.ID)
	if err != nil || st.State != LoginSucceeded {
		e.t.Fatalf("login: %+v %v", st, err)
	}
	return st
}

// logBuf collects the components' logs (at debug level), so tests can
// check that no secret ever reaches them.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(&e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// tokenRow reads the account's stored row and opens it.
func (e *env) opened(accountID string) (access, refresh string) {
	e.t.Helper()
	var row sqlstore.Token
	err := e.store.View(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		row, err = tx.Token(accountID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := openToken(e.keys.key, accountID, "access_token", row.AccessEnc)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := openToken(e.keys.key, accountID, "refresh_token", row.RefreshEnc)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.Reveal(), r.Reveal()
}

func (e *env) meta(accountID string) sqlstore.TokenMeta {
	e.t.Helper()
	var row sqlstore.Token
	if err := e.store.View(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		row, err = tx.Token(accountID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return row.Meta
}

func (e *env) me(token string) error {
	_, _, err := e.xc.Me(context.Background(), token)
	return err
}

func fakexUser(id, username string) fakex.User {
	return fakex.User{ID: id, Username: username, Name: username}
}
