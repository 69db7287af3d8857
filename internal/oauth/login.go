package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/textutil"
)

// Defaults of a login.
const (
	// DefaultCallbackTimeout is how long the loopback listener waits for
	// the browser (SPEC §4: two minutes, then fall back to pasting).
	DefaultCallbackTimeout = 2 * time.Minute
	// DefaultPasteWindow is how long after the listener closes a pasted
	// redirect URL or code is still accepted.
	DefaultPasteWindow = 10 * time.Minute
	// keepFinished is how long a finished login can still be read.
	keepFinished = 10 * time.Minute
	// browserTimeout bounds the daemon's own browser opener (pkg/browser
	// waits for the launcher to exit).
	browserTimeout = 15 * time.Second
)

// LoginState is where a login is.
type LoginState string

const (
	// LoginWaiting: the loopback listener is up, waiting for the browser's
	// redirect; a pasted URL or code is accepted too.
	LoginWaiting LoginState = "waiting"
	// LoginAwaitingCode: no listener (port busy, or no callback in time):
	// only a pasted redirect URL or code can finish the login.
	LoginAwaitingCode LoginState = "awaiting_code"
	// LoginExchanging: a code arrived and is being exchanged.
	LoginExchanging LoginState = "exchanging"
	LoginSucceeded  LoginState = "succeeded"
	LoginFailed     LoginState = "failed"
	LoginCancelled  LoginState = "cancelled"
	LoginExpired    LoginState = "expired"
)

// Done reports whether the login has ended.
func (s LoginState) Done() bool {
	switch s {
	case LoginSucceeded, LoginFailed, LoginCancelled, LoginExpired:
		return true
	}
	return false
}

// LoginError is why a login failed: X's error code from the callback (such
// as access_denied) or psnd's own (exchange_failed, identify_failed,
// timeout, cancelled, superseded).
type LoginError struct {
	Code    string
	Message string
}

// LoginStatus is a snapshot of a login.
type LoginStatus struct {
	ID          string
	State       LoginState
	Version     int // increases on every change, for long polls
	AuthURL     string
	RedirectURI string
	// Listening reports the loopback listener is up; ListenError says why
	// it is not (e.g. the port is busy).
	Listening        bool
	ListenError      string
	CallbackDeadline time.Time // when the listener gives up
	ExpiresAt        time.Time // when the login is abandoned
	// BrowserError is set when the daemon was asked to open the browser
	// and could not.
	BrowserError string
	Account      *post.Account // on success
	Error        *LoginError   // on failure
}

// Errors of login operations.
var (
	ErrLoginNotFound = errors.New("no such login (it may have expired)")
	ErrLoginDone     = errors.New("this login has already ended")
	ErrStateMismatch = errors.New("the pasted URL belongs to another login (its state does not match): paste the URL your browser reached for this login, or just its code")
	ErrNoCode        = errors.New("no authorization code in what was pasted")
)

// LoginsConfig holds the login manager's dependencies.
type LoginsConfig struct {
	Store        *sqlstore.Store // required
	Keys         KeySource       // required
	HTTPClient   *http.Client    // required: X's token endpoint
	Endpoints    Endpoints       // required
	CallbackAddr string          // PSN_CALLBACK_ADDR
	Identify     Identifier      // required: GET /2/users/me
	FallbackApp  App
	// OpenBrowser opens a URL when an API client asks the daemon to (the
	// CLI normally opens it itself, in the user's session). Optional.
	OpenBrowser func(url string) error
	Clock       clock.Clock
	Logger      *slog.Logger
	// CallbackTimeout and PasteWindow default to DefaultCallbackTimeout
	// and DefaultPasteWindow.
	CallbackTimeout time.Duration
	PasteWindow     time.Duration
	// ExchangeTimeout bounds the code exchange plus GET /2/users/me;
	// default 30s.
	ExchangeTimeout time.Duration
	// LoggedIn, if set, hears of each account whose login was stored (the
	// daemon checks its scheduled posts again). It must not block.
	LoggedIn func(accountID string)
}

// Logins runs logins in the daemon: it holds each login's PKCE verifier and
// state, listens on the loopback callback while a login waits for the
// browser, exchanges the code as soon as it arrives (X's codes die 30
// seconds after approval), identifies the account and stores its tokens
// sealed, all in one transaction. One login holds the callback port at a
// time; starting another supersedes it.
type Logins struct {
	cfg LoginsConfig
	log *slog.Logger

	mu     sync.Mutex
	logins map[string]*login
	closed bool
}

type login struct {
	m        *Logins
	id       string
	state    secrets.Secret // the OAuth state parameter
	verifier secrets.Secret
	conf     *oauth2.Config
	cb       Callback // the loopback address the callback listens on

	// guarded by m.mu
	st       LoginStatus
	changed  chan struct{}
	srv      *http.Server
	ln       net.Listener
	timers   []*time.Timer
	finished time.Time
}

// NewLogins checks cfg and returns a login manager.
func NewLogins(cfg LoginsConfig) (*Logins, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.HTTPClient == nil || cfg.Identify == nil ||
		cfg.Endpoints.AuthURL == "" || cfg.Endpoints.TokenURL == "" {
		return nil, errors.New("oauth: NewLogins needs Store, Keys, HTTPClient, Identify and both endpoints")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CallbackTimeout <= 0 {
		cfg.CallbackTimeout = DefaultCallbackTimeout
	}
	if cfg.PasteWindow <= 0 {
		cfg.PasteWindow = DefaultPasteWindow
	}
	if cfg.ExchangeTimeout <= 0 {
		cfg.ExchangeTimeout = 30 * time.Second
	}
	return &Logins{cfg: cfg, log: cfg.Logger, logins: map[string]*login{}}, nil
}

// StartOptions tune one login.
type StartOptions struct {
	// CallbackTimeout overrides how long the listener waits for the
	// browser (tests, slow users).
	CallbackTimeout time.Duration
	// OpenBrowser asks the daemon to open the authorize URL itself.
	OpenBrowser bool
}

// Start begins a login: checks the app credentials and the data key,
// creates the PKCE verifier and state, and starts the callback listener.
// A busy port is not an error: the login then waits for a pasted URL.
func (m *Logins) Start(ctx context.Context, opts StartOptions) (LoginStatus, error) {
	cb, err := ParseCallbackAddr(m.cfg.CallbackAddr)
	if err != nil {
		return LoginStatus{}, err
	}
	app, err := LoadApp(ctx, m.cfg.Store, m.cfg.Keys, m.cfg.FallbackApp)
	if err != nil {
		return LoginStatus{}, err
	}
	// The tokens will be sealed with the key: fail now, not after the user
	// has approved in the browser.
	if _, err := m.cfg.Keys.Key(); err != nil {
		return LoginStatus{}, fmt.Errorf("cannot store tokens: %w", err)
	}
	timeout := opts.CallbackTimeout
	if timeout <= 0 {
		timeout = m.cfg.CallbackTimeout
	}

	l := &login{
		m:        m,
		id:       randomString(12),
		state:    secrets.NewSecret(randomString(32)),
		verifier: secrets.NewSecret(oauth2.GenerateVerifier()),
		conf:     app.config(m.cfg.Endpoints, cb.RedirectURI),
		cb:       cb,
		changed:  make(chan struct{}),
	}
	now := m.cfg.Clock.Now()
	l.st = LoginStatus{
		ID:               l.id,
		State:            LoginWaiting,
		Version:          1,
		AuthURL:          l.conf.AuthCodeURL(l.state.Reveal(), oauth2.S256ChallengeOption(l.verifier.Reveal())),
		RedirectURI:      cb.RedirectURI,
		CallbackDeadline: now.Add(timeout),
		ExpiresAt:        now.Add(timeout + m.cfg.PasteWindow),
	}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return LoginStatus{}, errors.New("the daemon is shutting down")
	}
	m.pruneLocked(now)
	for _, old := range m.logins {
		if !old.st.State.Done() {
			old.finishLocked(LoginCancelled, nil, &LoginError{Code: "superseded", Message: "a newer login was started"})
		}
	}
	// Listen with the lock held, after the superseded login has released
	// the port, so two logins never race for it.
	ln, lerr := net.Listen("tcp", cb.Addr)
	if lerr != nil {
		l.st.State = LoginAwaitingCode
		l.st.ListenError = fmt.Sprintf("could not listen on %s for X's redirect (%s): paste the redirect URL instead", cb.Addr, listenReason(lerr))
		l.st.CallbackDeadline = now
	} else {
		l.st.Listening = true
		l.ln = ln
		l.srv = &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelDebug)}
		srv := l.srv
		go func() { _ = srv.Serve(ln) }()
		l.timers = append(l.timers, time.AfterFunc(timeout, l.callbackTimedOut))
	}
	l.timers = append(l.timers, time.AfterFunc(l.st.ExpiresAt.Sub(now), l.expire))
	m.logins[l.id] = l
	st := l.st
	m.mu.Unlock()

	m.log.Info("login started", "login", l.id, "listening", st.Listening, "redirect_uri", st.RedirectURI, "client_type", app.Type())
	if opts.OpenBrowser {
		m.openBrowser(l, st.AuthURL)
	}
	return st, nil
}

func listenReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return textutil.FirstLine(oe.Err.Error())
	}
	return textutil.FirstLine(err.Error())
}

// openBrowser runs the injected opener without waiting more than
// browserTimeout for it, and records a failure in the login.
func (m *Logins) openBrowser(l *login, u string) {
	if m.cfg.OpenBrowser == nil {
		m.setBrowserError(l, "this daemon cannot open a browser; open the URL yourself")
		return
	}
	done := make(chan error, 1)
	go func() { done <- m.cfg.OpenBrowser(u) }()
	go func() {
		t := time.NewTimer(browserTimeout)
		defer t.Stop()
		select {
		case err := <-done:
			if err != nil {
				m.setBrowserError(l, "could not open a browser: "+textutil.FirstLine(err.Error()))
			}
		case <-t.C:
		}
	}()
}

func (m *Logins) setBrowserError(l *login, msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l.st.BrowserError = msg
	l.changedLocked()
}

// Get returns a login's status.
func (m *Logins) Get(id string) (LoginStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.logins[id]
	if l == nil {
		return LoginStatus{}, ErrLoginNotFound
	}
	return l.st, nil
}

// Wait returns the login's status once its Version exceeds after, it has
// ended, or ctx ends (then with the current status and no error).
func (m *Logins) Wait(ctx context.Context, id string, after int) (LoginStatus, error) {
	for {
		m.mu.Lock()
		l := m.logins[id]
		if l == nil {
			m.mu.Unlock()
			return LoginStatus{}, ErrLoginNotFound
		}
		st, ch := l.st, l.changed
		m.mu.Unlock()
		if st.Version > after || st.State.Done() {
			return st, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return st, nil
		}
	}
}

// Cancel ends a login that has not finished.
func (m *Logins) Cancel(id string) (LoginStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.logins[id]
	if l == nil {
		return LoginStatus{}, ErrLoginNotFound
	}
	if !l.st.State.Done() && l.st.State != LoginExchanging {
		l.finishLocked(LoginCancelled, nil, &LoginError{Code: "cancelled", Message: "login cancelled"})
	}
	return l.st, nil
}

// Close ends every login and stops its listener (daemon shutdown).
func (m *Logins) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for _, l := range m.logins {
		switch {
		case l.st.State == LoginExchanging:
			l.stopListenerLocked() // the exchange finishes on its own
		case !l.st.State.Done():
			l.finishLocked(LoginCancelled, nil, &LoginError{Code: "cancelled", Message: "the daemon stopped"})
		}
	}
}

func (m *Logins) pruneLocked(now time.Time) {
	for id, l := range m.logins {
		if l.st.State.Done() && now.Sub(l.finished) > keepFinished {
			delete(m.logins, id)
		}
	}
}

// SubmitCode finishes a login with what the user pasted: the full redirect
// URL (its state must match) or the bare code. A URL of another login
// (ErrStateMismatch) or without a code (ErrNoCode) leaves the login
// running, so the user can paste again. If the URL carries X's error (such
// as access_denied) the login fails with it. The returned status is final
// unless err is non-nil.
func (m *Logins) SubmitCode(ctx context.Context, id, input string) (LoginStatus, error) {
	m.mu.Lock()
	l := m.logins[id]
	m.mu.Unlock()
	if l == nil {
		return LoginStatus{}, ErrLoginNotFound
	}
	params, err := l.parsePasted(input)
	if err != nil {
		return l.status(), err
	}
	return l.complete(ctx, params, "pasted")
}

// parsePasted turns pasted input into callback parameters. A bare code
// cannot be checked against the state; PKCE still binds it to this login's
// verifier.
func (l *login) parsePasted(input string) (url.Values, error) {
	in := strings.TrimSpace(input)
	if in == "" {
		return nil, ErrNoCode
	}
	looksLikeURL := strings.Contains(in, "://") || strings.ContainsAny(in, "?&=")
	if !looksLikeURL {
		for _, c := range in {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
				return nil, fmt.Errorf("%w: paste the whole URL from the browser's address bar, or just the value of its code parameter", ErrNoCode)
			}
		}
		return url.Values{"code": {in}}, nil
	}
	raw := in
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[i+1:]
	}
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the pasted URL's query does not parse", ErrNoCode)
	}
	if q.Get("state") == "" {
		return nil, fmt.Errorf("%w: the pasted URL has no state parameter; paste the whole URL", ErrNoCode)
	}
	if !l.stateMatches(q.Get("state")) {
		return nil, ErrStateMismatch
	}
	if q.Get("code") == "" && q.Get("error") == "" {
		return nil, ErrNoCode
	}
	return q, nil
}

func (l *login) stateMatches(s string) bool {
	return subtle.ConstantTimeCompare([]byte(s), []byte(l.state.Reveal())) == 1
}

func (l *login) status() LoginStatus {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.st
}

// complete ends the login with callback parameters whose state matched:
// X's error, or a code that is exchanged at once.
func (l *login) complete(ctx context.Context, q url.Values, via string) (LoginStatus, error) {
	m := l.m
	m.mu.Lock()
	if l.st.State.Done() || l.st.State == LoginExchanging {
		st := l.st
		m.mu.Unlock()
		return st, ErrLoginDone
	}
	if xerr := q.Get("error"); xerr != "" {
		msg := "X answered " + xerr
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		if xerr == "access_denied" {
			msg = "access was denied at X (" + msg + "); run `psnd auth login` again and choose Authorize app"
		}
		l.finishLocked(LoginFailed, nil, &LoginError{Code: xerr, Message: msg})
		st := l.st
		m.mu.Unlock()
		m.log.Warn("login refused by X", "login", l.id, "error", xerr, "via", via)
		return st, nil
	}
	code := secrets.NewSecret(q.Get("code"))
	if code.IsZero() {
		st := l.st
		m.mu.Unlock()
		return st, ErrNoCode
	}
	l.st.State = LoginExchanging
	l.stopTimersLocked()
	l.changedLocked()
	m.mu.Unlock()

	acct, lerr := l.exchange(ctx, code)
	m.mu.Lock()
	if lerr != nil {
		l.finishLocked(LoginFailed, nil, lerr)
		m.log.Warn("login failed", "login", l.id, "code", lerr.Code, "err", lerr.Message)
	} else {
		l.finishLocked(LoginSucceeded, &acct, nil)
		m.log.Info("logged in", "login", l.id, "account", acct.ID, "username", acct.Username, "via", via)
	}
	st := l.st
	m.mu.Unlock()
	return st, nil
}

// exchange trades the code for tokens, asks X whose they are, and stores
// account and sealed tokens in one transaction. It runs under a context
// the caller cannot cancel: the code is single-use.
func (l *login) exchange(ctx context.Context, code secrets.Secret) (post.Account, *LoginError) {
	m := l.m
	xctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.ExchangeTimeout)
	defer cancel()
	tok, err := l.conf.Exchange(context.WithValue(xctx, oauth2.HTTPClient, m.cfg.HTTPClient), code.Reveal(),
		oauth2.VerifierOption(l.verifier.Reveal()))
	if err != nil {
		msg := "X refused the authorization code"
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			msg += " (" + re.ErrorCode
			if re.ErrorDescription != "" {
				msg += ": " + re.ErrorDescription
			}
			msg += ")"
		} else {
			msg = "could not reach X's token endpoint: " + textutil.FirstLine(describe(err))
		}
		return post.Account{}, &LoginError{Code: "exchange_failed",
			Message: msg + "; codes expire 30 seconds after approval, so run `psnd auth login` again"}
	}
	access := secrets.NewSecret(tok.AccessToken)
	refresh := secrets.NewSecret(tok.RefreshToken)
	u, _, err := m.cfg.Identify.Me(xctx, access.Reveal())
	if err != nil {
		return post.Account{}, &LoginError{Code: "identify_failed", Message: "X issued tokens but GET /2/users/me failed: " + textutil.FirstLine(err.Error())}
	}
	acct := post.Account{ID: u.ID, Username: u.Username, DisplayName: u.Name, SubscriptionType: u.SubscriptionType}
	if err := l.save(xctx, acct, tok, access, refresh); err != nil {
		return post.Account{}, &LoginError{Code: "save_failed", Message: "could not store the tokens: " + textutil.FirstLine(err.Error())}
	}
	var saved post.Account
	if err := m.cfg.Store.View(xctx, func(tx *sqlstore.Tx) error {
		var err error
		saved, err = tx.Account(acct.ID)
		return err
	}); err == nil {
		acct = saved
	}
	return acct, nil
}

func (l *login) save(ctx context.Context, acct post.Account, tok *oauth2.Token, access, refresh secrets.Secret) error {
	now := l.m.cfg.Clock.Now()
	iss := Issued{Access: access, Refresh: refresh, TokenType: tok.TokenType, ExpiresAt: expiry(now, tok)}
	if sc, ok := tok.Extra("scope").(string); ok {
		iss.Scopes = sc
	}
	if err := SaveLogin(ctx, l.m.cfg.Store, l.m.cfg.Keys, acct, iss, now); err != nil {
		return err
	}
	if l.m.cfg.LoggedIn != nil {
		l.m.cfg.LoggedIn(acct.ID)
	}
	return nil
}

// Issued is what X issued at a login.
type Issued struct {
	Access, Refresh secrets.Secret
	TokenType       string
	ExpiresAt       *time.Time
	Scopes          string // space-separated
}

// SaveLogin stores an account and its freshly issued tokens, sealed, in one
// transaction, replacing any earlier tokens of the account. Logins use it;
// so can the sandbox, which seeds its accounts without a browser.
func SaveLogin(ctx context.Context, store *sqlstore.Store, keys KeySource, acct post.Account, iss Issued, now time.Time) error {
	key, err := keys.Key()
	if err != nil {
		return err
	}
	row := sqlstore.Token{AccountID: acct.ID, TokenType: iss.TokenType, ExpiresAt: iss.ExpiresAt, Scopes: iss.Scopes,
		Meta: sqlstore.TokenMeta{ObtainedAt: &now}}
	if row.AccessEnc, err = sealToken(key, acct.ID, "access_token", iss.Access); err != nil {
		return err
	}
	if row.RefreshEnc, err = sealToken(key, acct.ID, "refresh_token", iss.Refresh); err != nil {
		return err
	}
	return store.Update(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.UpsertAccount(acct, now); err != nil {
			return err
		}
		return tx.PutToken(row, now)
	})
}

// callbackTimedOut closes the listener; the login goes on waiting for a
// pasted URL.
func (l *login) callbackTimedOut() {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if l.st.State != LoginWaiting {
		return
	}
	l.stopListenerLocked()
	l.st.State = LoginAwaitingCode
	l.st.Listening = false
	l.st.ListenError = "no redirect from the browser in time: paste the redirect URL instead"
	l.changedLocked()
	m.log.Info("login callback timed out; waiting for a pasted URL", "login", l.id)
}

func (l *login) expire() {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if l.st.State.Done() || l.st.State == LoginExchanging {
		return
	}
	l.finishLocked(LoginExpired, nil, &LoginError{Code: "timeout", Message: "the login expired without a callback or pasted URL; run `psnd auth login` again"})
}

func (l *login) finishLocked(state LoginState, acct *post.Account, lerr *LoginError) {
	l.st.State = state
	l.st.Account = acct
	l.st.Error = lerr
	l.st.Listening = false
	l.finished = l.m.cfg.Clock.Now()
	l.stopTimersLocked()
	l.stopListenerLocked()
	l.changedLocked()
}

func (l *login) stopTimersLocked() {
	for _, t := range l.timers {
		t.Stop()
	}
	l.timers = nil
}

// stopListenerLocked releases the callback port at once and lets the
// server finish in the background: it may be called from inside its own
// handler, whose answer must still go out.
func (l *login) stopListenerLocked() {
	if l.srv == nil {
		return
	}
	srv := l.srv
	l.srv = nil
	_ = l.ln.Close()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
	}()
}

func (l *login) changedLocked() {
	l.st.Version++
	close(l.changed)
	l.changed = make(chan struct{})
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
