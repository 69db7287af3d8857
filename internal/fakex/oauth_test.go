package fakex_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
)

const (
	userID      = "2244994945"
	redirectURI = "http://127.0.0.1:18923/callback"
	confID      = "conf-client"
	confSecret  = "s3cr3t/with+odd=chars"
	publicID    = "public-client"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type oauthEnv struct {
	t   *testing.T
	clk *clock.Fake
	srv *fakex.Server
	ts  *httptest.Server
	ctx context.Context // carries the test server's client for x/oauth2
	// noRedirect stops at the authorize endpoint's 302, as a browser's
	// address bar would show it.
	noRedirect *http.Client
}

func newOAuthEnv(t *testing.T, opts fakex.Options) *oauthEnv {
	t.Helper()
	e := &oauthEnv{t: t, clk: clock.NewFake(t0)}
	opts.Clock = e.clk
	e.srv, e.ts = xspec.NewTestServer(t, opts)
	e.srv.AddUser(fakex.User{ID: userID, Username: "psnd_test", Name: "Psnd Test"})
	e.srv.AddClient(confID, confSecret, redirectURI)
	e.srv.AddClient(publicID, "", redirectURI)
	e.ctx = context.WithValue(context.Background(), oauth2.HTTPClient, e.ts.Client())
	e.noRedirect = &http.Client{Transport: e.ts.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

func (e *oauthEnv) config(clientID, secret string, style oauth2.AuthStyle) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURI,
		Scopes: fakex.PsndScopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.ts.URL + "/i/oauth2/authorize",
			TokenURL:  e.ts.URL + "/2/oauth2/token",
			AuthStyle: style,
		},
	}
}

// authorize visits the consent page and returns the redirect's query.
func (e *oauthEnv) authorize(authURL string) (int, url.Values) {
	e.t.Helper()
	resp, err := e.noRedirect.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), redirectURI+"?") {
		e.t.Fatalf("redirected to %s", loc)
	}
	return resp.StatusCode, loc.Query()
}

// login runs the whole PKCE flow with x/oauth2 and returns the token.
func (e *oauthEnv) login(cfg *oauth2.Config) *oauth2.Token {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	_, q := e.authorize(cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier)))
	if q.Get("state") != "state-123" || q.Get("code") == "" {
		e.t.Fatalf("callback query %v", q)
	}
	tok, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return tok
}

func (e *oauthEnv) me(access string) int {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.ts.URL+"/2/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// postForm sends a raw token-endpoint request.
func (e *oauthEnv) postForm(path string, form url.Values, basicID, basicSecret string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func retrieveErr(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a token endpoint error", err)
	}
	return re
}

func TestLoginConfidentialAndPublic(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{AccessTokenTTL: time.Hour})
	for _, cfg := range []*oauth2.Config{
		e.config(confID, confSecret, oauth2.AuthStyleInHeader),
		e.config(publicID, "", oauth2.AuthStyleInParams),
	} {
		tok := e.login(cfg)
		if tok.RefreshToken == "" || tok.TokenType != "bearer" || !tok.Expiry.After(time.Now().Add(50*time.Minute)) {
			t.Fatalf("%s: token %+v", cfg.ClientID, tok)
		}
		if got := tok.Extra("scope"); got != strings.Join(fakex.PsndScopes, " ") {
			t.Errorf("scope %v", got)
		}
		if st := e.me(tok.AccessToken); st != 200 {
			t.Fatalf("%s: /2/users/me = %d", cfg.ClientID, st)
		}
		e.clk.Advance(time.Hour)
		if st := e.me(tok.AccessToken); st != 401 {
			t.Fatalf("%s: expired token gave %d", cfg.ClientID, st)
		}
	}
	if s := e.srv.Stats(); s.CodeExchanges != 2 || s.RejectedCodes != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestConfidentialClientMustUseBasic(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	cfg := e.config(confID, confSecret, oauth2.AuthStyleInParams) // client_secret in the body
	verifier := oauth2.GenerateVerifier()
	_, q := e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	_, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	re := retrieveErr(t, err)
	if re.Response.StatusCode != 401 || re.ErrorCode != "unauthorized_client" || re.ErrorDescription != "Missing valid authorization header" {
		t.Fatalf("got %d %s %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
	// A wrong secret in the header is refused too.
	code, body := e.postForm("/2/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, confID, "wrong")
	if code != 401 || !strings.Contains(body, "unauthorized_client") {
		t.Fatalf("wrong secret: %d %s", code, body)
	}
}

func TestPKCEMismatch(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	cfg := e.config(publicID, "", oauth2.AuthStyleInParams)
	_, q := e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	_, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	re := retrieveErr(t, err)
	if re.Response.StatusCode != 400 || re.ErrorCode != "invalid_request" {
		t.Fatalf("got %d %s", re.Response.StatusCode, re.ErrorCode)
	}
	if s := e.srv.Stats(); s.CodeExchanges != 0 || s.RejectedCodes != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCodeIsSingleUseAndExpires(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	cfg := e.config(confID, confSecret, oauth2.AuthStyleInHeader)
	verifier := oauth2.GenerateVerifier()
	_, q := e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if _, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatal(err)
	}
	_, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	re := retrieveErr(t, err)
	if re.Response.StatusCode != 400 || re.ErrorCode != "invalid_request" || re.ErrorDescription != "Value passed for the authorization code was invalid." {
		t.Fatalf("reused code: %d %s %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}

	verifier = oauth2.GenerateVerifier()
	_, q = e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	e.clk.Advance(31 * time.Second)
	_, err = cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if re := retrieveErr(t, err); re.ErrorDescription != "Value passed for the authorization code was invalid." {
		t.Fatalf("expired code: %q", re.ErrorDescription)
	}

	// Within 30 s it works.
	verifier = oauth2.GenerateVerifier()
	_, q = e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	e.clk.Advance(29 * time.Second)
	if _, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
}

func TestRedirectURIMustMatchAtExchange(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	e.srv.AddClient(publicID, "", redirectURI, "http://127.0.0.1:18924/callback")
	cfg := e.config(publicID, "", oauth2.AuthStyleInParams)
	verifier := oauth2.GenerateVerifier()
	_, q := e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	cfg.RedirectURL = "http://127.0.0.1:18924/callback"
	_, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if re := retrieveErr(t, err); re.Response.StatusCode != 400 {
		t.Fatalf("got %d", re.Response.StatusCode)
	}
}

const deadTokenBody = `{"error":"invalid_request","error_description":"Value passed for the token was invalid."}`

func TestRefreshRotatesAndRefusesReuse(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	tok := e.login(e.config(confID, confSecret, oauth2.AuthStyleInHeader))
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	code, body := e.postForm("/2/oauth2/token", form, confID, confSecret)
	if code != 200 {
		t.Fatalf("refresh: %d %s", code, body)
	}
	var fresh struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}
	json.Unmarshal([]byte(body), &fresh)
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken || fresh.ExpiresIn != 7200 {
		t.Fatalf("not rotated: %s", body)
	}
	code, body = e.postForm("/2/oauth2/token", form, confID, confSecret)
	if code != 400 || body != deadTokenBody {
		t.Fatalf("reuse: %d %s", code, body)
	}
	code, body = e.postForm("/2/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"never-issued"}}, confID, confSecret)
	if code != 400 || body != deadTokenBody {
		t.Fatalf("unknown: %d %s", code, body)
	}
	// Without family revocation, the rotated pair still works.
	if e.me(fresh.AccessToken) != 200 {
		t.Fatal("fresh access token refused")
	}
	if s := e.srv.Stats(); s.Refreshes != 1 || s.RejectedRefreshes != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{RevokeFamilyOnReuse: true})
	tok := e.login(e.config(publicID, "", oauth2.AuthStyleInParams))
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {publicID}}
	_, body := e.postForm("/2/oauth2/token", form, "", "")
	var fresh struct{ AccessToken, RefreshToken string }
	var raw map[string]any
	json.Unmarshal([]byte(body), &raw)
	fresh.AccessToken, _ = raw["access_token"].(string)
	fresh.RefreshToken, _ = raw["refresh_token"].(string)
	if code, body := e.postForm("/2/oauth2/token", form, "", ""); code != 400 || body != deadTokenBody {
		t.Fatalf("reuse: %d %s", code, body)
	}
	if e.me(fresh.AccessToken) != 401 {
		t.Fatal("family not revoked: access token still works")
	}
	form.Set("refresh_token", fresh.RefreshToken)
	if code, _ := e.postForm("/2/oauth2/token", form, "", ""); code != 400 {
		t.Fatal("family not revoked: rotated refresh token still works")
	}
}

func TestConcurrentRefreshesOnlyOneWins(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	_, refresh, _, err := e.srv.IssueToken(userID)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {publicID}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := e.postForm("/2/oauth2/token", form, "", "")
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != 1 || codes[400] != 99 {
		t.Fatalf("codes %v", codes)
	}
	if s := e.srv.Stats(); s.Refreshes != 1 || s.RejectedRefreshes != 99 {
		t.Fatalf("stats %+v", s)
	}
}

func TestNewLoginInvalidatesEarlierGrant(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	cfg := e.config(confID, confSecret, oauth2.AuthStyleInHeader)
	first := e.login(cfg)
	second := e.login(cfg)
	if e.me(first.AccessToken) != 401 || e.me(second.AccessToken) != 200 {
		t.Fatal("earlier grant survived a new login")
	}
}

func TestRevoke(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	tok := e.login(e.config(confID, confSecret, oauth2.AuthStyleInHeader))
	code, body := e.postForm("/2/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, confID, confSecret)
	if code != 200 || body != `{"revoked":true}` {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if e.me(tok.AccessToken) != 401 {
		t.Fatal("revoking the refresh token left the grant's access token alive")
	}
	code, body = e.postForm("/2/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, confID, confSecret)
	if code != 400 || body != deadTokenBody {
		t.Fatalf("refresh after revoke: %d %s", code, body)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	cfg := e.config(publicID, "", oauth2.AuthStyleInParams)
	challenge := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())

	// Unknown client or unregistered redirect: an error page, never a redirect.
	bad := e.config("nobody", "", oauth2.AuthStyleInParams)
	if code, _ := e.authorize(bad.AuthCodeURL("st", challenge)); code != 400 {
		t.Fatalf("unknown client: %d", code)
	}
	for _, uri := range []string{"http://127.0.0.1:18923/callback/", "http://localhost:18923/callback", "http://127.0.0.1:18924/callback"} {
		c := *cfg
		c.RedirectURL = uri
		if code, _ := e.authorize(c.AuthCodeURL("st", challenge)); code != 400 {
			t.Fatalf("redirect %s: %d", uri, code)
		}
	}

	// The user denies.
	e.srv.SetDenyAuthorization(true)
	_, q := e.authorize(cfg.AuthCodeURL("st-deny", challenge))
	if q.Get("error") != "access_denied" || q.Get("state") != "st-deny" || q.Get("code") != "" {
		t.Fatalf("deny: %v", q)
	}
	e.srv.SetDenyAuthorization(false)
	if len(e.srv.Violations()) != 0 {
		t.Fatalf("violations %v", e.srv.Violations())
	}

	// Malformed requests: redirected with invalid_request and recorded.
	cases := map[string]string{
		"no state":     cfg.AuthCodeURL("", challenge),
		"no challenge": cfg.AuthCodeURL("st"),
		"plain method": cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")),
	}
	for name, u := range cases {
		_, q := e.authorize(u)
		if q.Get("error") != "invalid_request" || q.Get("code") != "" {
			t.Errorf("%s: %v", name, q)
		}
	}
	_, q = e.authorize(strings.Replace(cfg.AuthCodeURL("st", challenge), "media.write", "media.read", 1))
	if q.Get("error") != "invalid_scope" {
		t.Errorf("unknown scope: %v", q)
	}
	if n := len(e.srv.Violations()); n != 4 {
		t.Fatalf("%d violations, want 4: %v", n, e.srv.Violations())
	}
	e.srv.ClearViolations()
}

func TestTokenEndpointShape(t *testing.T) {
	e := newOAuthEnv(t, fakex.Options{})
	req, _ := http.NewRequest("POST", e.ts.URL+"/2/oauth2/token", strings.NewReader(`{"grant_type":"refresh_token"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("JSON body: %d", resp.StatusCode)
	}
	if code, _ := e.postForm("/2/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {publicID}}, "", ""); code != 400 {
		t.Fatalf("missing verifier: %d", code)
	}
	if n := len(e.srv.Violations()); n != 2 {
		t.Fatalf("violations %v", e.srv.Violations())
	}
	e.srv.ClearViolations()
}
