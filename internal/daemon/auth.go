package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// auth is the daemon's login side: the token source every X call goes
// through, and the logins in progress.
type auth struct {
	tokens *oauth.Source
	logins *oauth.Logins
	x      *xapi.Client // asks X who a token belongs to
}

// maxLoginWait caps a long poll of a login.
const maxLoginWait = 60 * time.Second

// setupAuth builds the token source and the login manager. Logins end (and
// their callback listeners close) when ctx ends.
func (d *Daemon) setupAuth(ctx context.Context) error {
	hc := d.cfg.XHTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	xc, err := xapi.New(xapi.Config{BaseURL: d.cfg.Env.APIURL, HTTPClient: hc, Logger: d.log, Clock: d.clock,
		UserAgent: "psnd/" + d.cfg.Version})
	if err != nil {
		return err
	}
	// X_CLIENT_ID/X_CLIENT_SECRET in the daemon's own environment are used
	// only while no app is stored (`psnd setup` stores the CLI's).
	fallback := oauth.App{ClientID: d.cfg.Env.ClientID, Secret: secrets.NewSecret(d.cfg.Env.ClientSecret)}
	tokens, err := oauth.NewSource(oauth.SourceConfig{
		Store: d.store, Keys: d.keys, HTTPClient: hc, TokenURL: d.cfg.Env.TokenURL, Identify: xc,
		FallbackApp: fallback, Clock: d.clock, Logger: d.log,
	})
	if err != nil {
		return err
	}
	logins, err := oauth.NewLogins(oauth.LoginsConfig{
		Store: d.store, Keys: d.keys, HTTPClient: hc,
		Endpoints:    oauth.Endpoints{AuthURL: d.cfg.Env.AuthURL, TokenURL: d.cfg.Env.TokenURL},
		CallbackAddr: d.cfg.Env.CallbackAddr, Identify: xc, FallbackApp: fallback,
		OpenBrowser: d.cfg.OpenBrowser, Clock: d.clock, Logger: d.log, CallbackTimeout: d.cfg.LoginTimeout,
	})
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, logins.Close)
	d.auth = &auth{tokens: tokens, logins: logins, x: xc}
	return nil
}

// Tokens is the access-token source for everything that calls X.
func (d *Daemon) Tokens() *oauth.Source { return d.auth.tokens }

func (d *Daemon) authRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+api.PathApp, d.handleGetApp)
	mux.HandleFunc("PUT "+api.PathApp, d.handlePutApp)
	mux.HandleFunc("GET "+api.PathAuthStatus, d.handleAuthStatus)
	mux.HandleFunc("POST "+api.PathAuthLogin, d.handleStartLogin)
	mux.HandleFunc("GET "+api.PathLogin, d.handleGetLogin)
	mux.HandleFunc("DELETE "+api.PathLogin, d.handleCancelLogin)
	mux.HandleFunc("POST "+api.PathLoginCode, d.handleLoginCode)
	mux.HandleFunc("POST "+api.PathAuthLogout, d.handleLogout)
	mux.HandleFunc("POST "+api.PathAuthVerify, d.handleVerify)
}

// authFail maps the login side's errors to API errors.
func (d *Daemon) authFail(w http.ResponseWriter, op string, err error) {
	var e *api.Error
	switch {
	case errors.Is(err, oauth.ErrNeedsReauth):
		e = &api.Error{Code: api.CodeNeedsReauth, Status: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, oauth.ErrNoApp):
		e = &api.Error{Code: api.CodeNotConfigured, Status: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, secrets.ErrWaiting), errors.Is(err, ErrKeyMismatch):
		e = &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable, Message: err.Error()}
	case errors.Is(err, oauth.ErrLoginNotFound):
		e = &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound, Message: err.Error()}
	case errors.Is(err, oauth.ErrLoginDone):
		e = &api.Error{Code: api.CodeConflict, Status: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, oauth.ErrStateMismatch), errors.Is(err, oauth.ErrNoCode):
		e = badRequest(err.Error())
	default:
		d.fail(w, op, err)
		return
	}
	writeError(w, e)
}

// authBody are the auth routes' body rules: every field is optional, so an
// empty body is the zero value, and unknown fields are ignored.
var authBody = bodyRules{allowEmpty: true, allowUnknown: true}

func (d *Daemon) app(r *http.Request) (api.App, error) {
	var st sqlstore.Settings
	if err := d.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		var err error
		st, err = tx.Settings()
		return err
	}); err != nil {
		return api.App{}, err
	}
	out := api.App{}
	switch {
	case st.ClientID != "":
		out.Configured, out.ClientID, out.Source = true, st.ClientID, "stored"
		out.HasClientSecret = len(st.ClientSecretEnc) > 0
	case d.cfg.Env.ClientID != "":
		out.Configured, out.ClientID, out.Source = true, d.cfg.Env.ClientID, "daemon_env"
		out.HasClientSecret = d.cfg.Env.ClientSecret != ""
	}
	if out.Configured {
		out.ClientType = "public"
		if out.HasClientSecret {
			out.ClientType = "confidential"
		}
	}
	if cb, err := oauth.ParseCallbackAddr(d.cfg.Env.CallbackAddr); err != nil {
		out.CallbackError = err.Error()
	} else {
		out.CallbackURL = cb.RedirectURI
	}
	return out, nil
}

func (d *Daemon) handleGetApp(w http.ResponseWriter, r *http.Request) {
	a, err := d.app(r)
	if err != nil {
		d.fail(w, "read app", err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (d *Daemon) handlePutApp(w http.ResponseWriter, r *http.Request) {
	if d.cfg.Sandbox {
		// Credentials stored here would sit unused in the sandbox's
		// database while the user believes X is set up.
		writeError(w, sandboxConflict("the sandbox needs no X app: it publishes to psnd's built-in offline X; "+
			"stop it and run `psnd serve`, then `psnd setup`, to set up the real X"))
		return
	}
	var req api.SetAppRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		d.fail(w, "store app", err)
		return
	}
	if err := oauth.ValidateClientID(req.ClientID); err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	app := oauth.App{ClientID: req.ClientID, Secret: secrets.NewSecret(req.ClientSecret)}
	changed, err := oauth.SaveApp(r.Context(), d.store, d.keys, app, d.clock.Now())
	if err != nil {
		d.authFail(w, "store app", err)
		return
	}
	if changed {
		d.log.Info("X app credentials stored", "client_id", req.ClientID, "client_type", app.Type())
	}
	a, err := d.app(r)
	if err != nil {
		d.fail(w, "store app", err)
		return
	}
	writeJSON(w, http.StatusOK, api.SetAppResult{App: a, Changed: changed})
}

func wireAccount(a post.Account) api.Account {
	sub := a.SubscriptionType
	if sub == "" {
		sub = "None"
	}
	return api.Account{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, SubscriptionType: sub, Default: a.IsDefault}
}

func (d *Daemon) handleAuthStatus(w http.ResponseWriter, r *http.Request) {
	all, err := d.auth.tokens.Status(r.Context())
	if err != nil {
		d.fail(w, "auth status", err)
		return
	}
	app, err := d.app(r)
	if err != nil {
		d.fail(w, "auth status", err)
		return
	}
	out := api.AuthStatus{Accounts: make([]api.AccountStatus, 0, len(all)), App: app, Sandbox: d.cfg.Sandbox}
	for _, s := range all {
		m := s.Meta
		st := api.AccountStatus{
			Account: wireAccount(s.Account), LoggedIn: s.LoggedIn, LoggedInAt: utcPtr(m.ObtainedAt),
			TokenExpiresAt: utcPtr(s.ExpiresAt), LastRefreshAt: utcPtr(m.LastRefreshAt), Scopes: nonNil(s.Scopes),
			NeedsReauth: s.NeedsReauth(), ReauthReason: m.ReauthReason, ReauthAt: utcPtr(m.ReauthAt),
			RefreshFailures: m.RefreshFailures, LastRefreshError: m.LastError, Problems: nonNil(s.Problems),
		}
		if d.cfg.Sandbox && s.Account.ID == sandboxUserID {
			st = d.sandboxStatus(st.Account)
		}
		out.Accounts = append(out.Accounts, st)
	}
	writeJSON(w, http.StatusOK, out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func wireLogin(s oauth.LoginStatus) api.Login {
	out := api.Login{
		ID: s.ID, State: string(s.State), Version: s.Version, AuthURL: s.AuthURL, RedirectURI: s.RedirectURI,
		Listening: s.Listening, ListenError: s.ListenError, CallbackDeadline: s.CallbackDeadline.UTC(),
		ExpiresAt: s.ExpiresAt.UTC(), BrowserError: s.BrowserError,
	}
	if s.Account != nil {
		a := wireAccount(*s.Account)
		out.Account = &a
	}
	if s.Error != nil {
		out.Error = &api.LoginError{Code: s.Error.Code, Message: s.Error.Message}
	}
	return out
}

func (d *Daemon) handleStartLogin(w http.ResponseWriter, r *http.Request) {
	var req api.LoginRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		d.fail(w, "start login", err)
		return
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > api.MaxLoginTimeoutMS {
		writeError(w, badRequest(fmt.Sprintf("timeout_ms must be between 0 (the default, two minutes) and %d (ten minutes), not %d",
			api.MaxLoginTimeoutMS, req.TimeoutMS)))
		return
	}
	if d.cfg.Sandbox {
		// The sandbox's fake X has no consent page a browser could open.
		writeError(w, sandboxConflict("the sandbox needs no login: @"+sandboxUsername+" is always logged in; "+
			"stop it and run `psnd serve` to log in to X"))
		return
	}
	if _, err := oauth.ParseCallbackAddr(d.cfg.Env.CallbackAddr); err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	st, err := d.auth.logins.Start(r.Context(), oauth.StartOptions{
		CallbackTimeout: time.Duration(req.TimeoutMS) * time.Millisecond, OpenBrowser: req.OpenBrowser})
	if err != nil {
		d.authFail(w, "start login", err)
		return
	}
	writeJSON(w, http.StatusCreated, wireLogin(st))
}

func (d *Daemon) handleGetLogin(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	var wait time.Duration
	if s := q.Get("wait"); s != "" {
		var err error
		if wait, err = time.ParseDuration(s); err != nil || wait < 0 {
			writeError(w, badRequest(fmt.Sprintf("wait must be a duration such as 30s, not %q", s)))
			return
		}
	}
	after := 0
	if s := q.Get("after"); s != "" {
		var err error
		if after, err = strconv.Atoi(s); err != nil {
			writeError(w, badRequest(fmt.Sprintf("after must be a login version number, not %q", s)))
			return
		}
	}
	var st oauth.LoginStatus
	var err error
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), min(wait, maxLoginWait))
		defer cancel()
		st, err = d.auth.logins.Wait(ctx, id, after)
	} else {
		st, err = d.auth.logins.Get(id)
	}
	if err != nil {
		d.authFail(w, "get login", err)
		return
	}
	writeJSON(w, http.StatusOK, wireLogin(st))
}

func (d *Daemon) handleCancelLogin(w http.ResponseWriter, r *http.Request) {
	st, err := d.auth.logins.Cancel(r.PathValue("id"))
	if err != nil {
		d.authFail(w, "cancel login", err)
		return
	}
	writeJSON(w, http.StatusOK, wireLogin(st))
}

func (d *Daemon) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	var req api.LoginCodeRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		d.fail(w, "submit login code", err)
		return
	}
	st, err := d.auth.logins.SubmitCode(r.Context(), r.PathValue("id"), req.Input)
	if err != nil {
		d.authFail(w, "submit login code", err)
		return
	}
	writeJSON(w, http.StatusOK, wireLogin(st))
}

func (d *Daemon) handleLogout(w http.ResponseWriter, r *http.Request) {
	var req api.LogoutRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		d.fail(w, "logout", err)
		return
	}
	if d.cfg.Sandbox {
		// An account that is not there is named as such, as outside the
		// sandbox; only @sandbox itself gets the sandbox's answer.
		if _, err := d.auth.tokens.Account(r.Context(), req.Account); err != nil {
			d.authFail(w, "logout", err)
			return
		}
		writeError(w, sandboxConflict("the sandbox's @"+sandboxUsername+" is always logged in: there is nothing to log out; "+
			"stop the sandbox and run `psnd serve` to manage your X accounts"))
		return
	}
	res, err := d.auth.tokens.Logout(r.Context(), req.Account)
	if err != nil {
		d.authFail(w, "logout", err)
		return
	}
	writeJSON(w, http.StatusOK, api.LogoutResult{Account: wireAccount(res.Account), HadTokens: res.HadTokens,
		Revoked: res.Revoked, RevokeError: res.RevokeError})
}

func (d *Daemon) handleVerify(w http.ResponseWriter, r *http.Request) {
	var req api.VerifyRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		d.fail(w, "verify account", err)
		return
	}
	verify := d.auth.tokens.Verify
	if d.cfg.Sandbox {
		verify = d.sandboxVerify
	}
	a, err := verify(r.Context(), req.Account)
	if err != nil {
		var xe *xapi.Error
		var ne *xapi.NetError
		if errors.As(err, &xe) || errors.As(err, &ne) {
			// X's answer (or its silence), not a daemon failure.
			writeError(w, &api.Error{Code: api.CodeXError, Status: http.StatusBadGateway, Message: err.Error()})
			return
		}
		d.authFail(w, "verify account", err)
		return
	}
	writeJSON(w, http.StatusOK, wireAccount(a))
}
