package localapi

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

// Auth is the daemon's login side: the token source every X call goes
// through, and the logins in progress.
type Auth struct {
	Tokens *oauth.Source
	Logins *oauth.Logins
	X      oauth.Identifier // asks X who a token belongs to
}

// maxLoginWait caps a long poll of a login.
const maxLoginWait = 60 * time.Second

func (s *Server) authRoutes(mux *routeMux) {
	mux.HandleFunc("GET "+api.PathApp, s.handleGetApp)
	mux.HandleFunc("PUT "+api.PathApp, s.handlePutApp)
	mux.HandleFunc("GET "+api.PathAuthStatus, s.handleAuthStatus)
	mux.HandleFunc("POST "+api.PathAuthLogin, s.handleStartLogin)
	mux.HandleFunc("GET "+api.PathLogin, s.handleGetLogin)
	mux.HandleFunc("DELETE "+api.PathLogin, s.handleCancelLogin)
	mux.HandleFunc("POST "+api.PathLoginCode, s.handleLoginCode)
	mux.HandleFunc("POST "+api.PathAuthLogout, s.handleLogout)
	mux.HandleFunc("POST "+api.PathAuthVerify, s.handleVerify)
}

// authFail maps the login side's errors to API errors.
func (s *Server) authFail(w http.ResponseWriter, op string, err error) {
	var e *api.Error
	switch {
	case errors.Is(err, oauth.ErrNeedsReauth):
		e = &api.Error{Code: api.CodeNeedsReauth, Status: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, oauth.ErrNoApp):
		e = &api.Error{Code: api.CodeNotConfigured, Status: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, secrets.ErrWaiting), errors.Is(err, secrets.ErrKeyMismatch):
		e = &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable, Message: err.Error()}
	case errors.Is(err, oauth.ErrLoginNotFound):
		e = &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound, Message: err.Error()}
	case errors.Is(err, oauth.ErrLoginDone):
		e = &api.Error{Code: api.CodeConflict, Status: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, oauth.ErrStateMismatch), errors.Is(err, oauth.ErrNoCode):
		e = badRequest(err.Error())
	default:
		s.fail(w, op, err)
		return
	}
	writeError(w, e)
}

// authBody are the auth routes' body rules: every field is optional, so an
// empty body is the zero value, and unknown fields are ignored.
var authBody = bodyRules{allowEmpty: true, allowUnknown: true}

func (s *Server) app(r *http.Request) (api.App, error) {
	var st sqlstore.Settings
	if err := s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
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
	case s.cfg.Env.ClientID != "":
		out.Configured, out.ClientID, out.Source = true, s.cfg.Env.ClientID, "daemon_env"
		out.HasClientSecret = s.cfg.Env.ClientSecret != ""
	}
	if out.Configured {
		out.ClientType = "public"
		if out.HasClientSecret {
			out.ClientType = "confidential"
		}
	}
	if cb, err := oauth.ParseCallbackAddr(s.cfg.Env.CallbackAddr); err != nil {
		out.CallbackError = err.Error()
	} else {
		out.CallbackURL = cb.RedirectURI
	}
	return out, nil
}

func (s *Server) handleGetApp(w http.ResponseWriter, r *http.Request) {
	a, err := s.app(r)
	if err != nil {
		s.fail(w, "read app", err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) handlePutApp(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Sandbox {
		// Credentials stored here would sit unused in the sandbox's
		// database while the user believes X is set up.
		writeError(w, sandboxConflict("the sandbox needs no X app: it publishes to psnd's built-in offline X; "+
			"stop it and run `psnd serve`, then `psnd setup`, to set up the real X"))
		return
	}
	var req api.SetAppRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		s.fail(w, "store app", err)
		return
	}
	if err := oauth.ValidateClientID(req.ClientID); err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	app := oauth.App{ClientID: req.ClientID, Secret: secrets.NewSecret(req.ClientSecret)}
	changed, err := oauth.SaveApp(r.Context(), s.store, s.keys, app, s.clock.Now())
	if err != nil {
		s.authFail(w, "store app", err)
		return
	}
	if changed {
		s.log.Info("X app credentials stored", "client_id", req.ClientID, "client_type", app.Type())
	}
	a, err := s.app(r)
	if err != nil {
		s.fail(w, "store app", err)
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

func (s *Server) handleAuthStatus(w http.ResponseWriter, r *http.Request) {
	all, err := s.auth.Tokens.Status(r.Context())
	if err != nil {
		s.fail(w, "auth status", err)
		return
	}
	app, err := s.app(r)
	if err != nil {
		s.fail(w, "auth status", err)
		return
	}
	out := api.AuthStatus{Accounts: make([]api.AccountStatus, 0, len(all)), App: app, Sandbox: s.cfg.Sandbox}
	for _, as := range all {
		m := as.Meta
		st := api.AccountStatus{
			Account: wireAccount(as.Account), LoggedIn: as.LoggedIn, LoggedInAt: utcPtr(m.ObtainedAt),
			TokenExpiresAt: utcPtr(as.ExpiresAt), LastRefreshAt: utcPtr(m.LastRefreshAt), Scopes: nonNil(as.Scopes),
			NeedsReauth: as.NeedsReauth(), ReauthReason: m.ReauthReason, ReauthAt: utcPtr(m.ReauthAt),
			RefreshFailures: m.RefreshFailures, LastRefreshError: m.LastError, Problems: nonNil(as.Problems),
		}
		if s.cfg.Sandbox && as.Account.ID == SandboxUserID {
			st = s.sandboxStatus(st.Account)
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

func (s *Server) handleStartLogin(w http.ResponseWriter, r *http.Request) {
	var req api.LoginRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		s.fail(w, "start login", err)
		return
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > api.MaxLoginTimeoutMS {
		writeError(w, badRequest(fmt.Sprintf("timeout_ms must be between 0 (the default, two minutes) and %d (ten minutes), not %d",
			api.MaxLoginTimeoutMS, req.TimeoutMS)))
		return
	}
	if s.cfg.Sandbox {
		// The sandbox's fake X has no consent page a browser could open.
		writeError(w, sandboxConflict("the sandbox needs no login: @"+SandboxUsername+" is always logged in; "+
			"stop it and run `psnd serve` to log in to X"))
		return
	}
	if _, err := oauth.ParseCallbackAddr(s.cfg.Env.CallbackAddr); err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	st, err := s.auth.Logins.Start(r.Context(), oauth.StartOptions{
		CallbackTimeout: time.Duration(req.TimeoutMS) * time.Millisecond, OpenBrowser: req.OpenBrowser})
	if err != nil {
		s.authFail(w, "start login", err)
		return
	}
	writeJSON(w, http.StatusCreated, wireLogin(st))
}

func (s *Server) handleGetLogin(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	wait, err := parseWait(q.Get("wait"))
	if err != nil {
		s.fail(w, "get login", err)
		return
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
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), min(wait, maxLoginWait))
		defer cancel()
		st, err = s.auth.Logins.Wait(ctx, id, after)
	} else {
		st, err = s.auth.Logins.Get(id)
	}
	if err != nil {
		s.authFail(w, "get login", err)
		return
	}
	writeJSON(w, http.StatusOK, wireLogin(st))
}

func (s *Server) handleCancelLogin(w http.ResponseWriter, r *http.Request) {
	st, err := s.auth.Logins.Cancel(r.PathValue("id"))
	if err != nil {
		s.authFail(w, "cancel login", err)
		return
	}
	writeJSON(w, http.StatusOK, wireLogin(st))
}

func (s *Server) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	var req api.LoginCodeRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		s.fail(w, "submit login code", err)
		return
	}
	st, err := s.auth.Logins.SubmitCode(r.Context(), r.PathValue("id"), req.Input)
	if err != nil {
		s.authFail(w, "submit login code", err)
		return
	}
	writeJSON(w, http.StatusOK, wireLogin(st))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	var req api.LogoutRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		s.fail(w, "logout", err)
		return
	}
	if s.cfg.Sandbox {
		// An account that is not there is named as such, as outside the
		// sandbox; only @sandbox itself gets the sandbox's answer.
		if _, err := s.auth.Tokens.Account(r.Context(), req.Account); err != nil {
			s.authFail(w, "logout", err)
			return
		}
		writeError(w, sandboxConflict("the sandbox's @"+SandboxUsername+" is always logged in: there is nothing to log out; "+
			"stop the sandbox and run `psnd serve` to manage your X accounts"))
		return
	}
	res, err := s.auth.Tokens.Logout(r.Context(), req.Account)
	if err != nil {
		s.authFail(w, "logout", err)
		return
	}
	writeJSON(w, http.StatusOK, api.LogoutResult{Account: wireAccount(res.Account), HadTokens: res.HadTokens,
		Revoked: res.Revoked, RevokeError: res.RevokeError})
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	var req api.VerifyRequest
	if err := decodeBody(w, r, &req, authBody); err != nil {
		s.fail(w, "verify account", err)
		return
	}
	verify := s.auth.Tokens.Verify
	if s.cfg.Sandbox {
		verify = s.sandboxVerify
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
		s.authFail(w, "verify account", err)
		return
	}
	writeJSON(w, http.StatusOK, wireAccount(a))
}
