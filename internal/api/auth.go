package api

import "time"

// Routes of logins, accounts and the X app (SPEC §4).
const (
	PathApp        = "/v1/app"                  // GET the X app; PUT it (the secret is write-only)
	PathAuthStatus = "/v1/auth/status"          // GET every account's login
	PathAuthLogin  = "/v1/auth/login"           // POST start a login
	PathLogin      = "/v1/auth/login/{id}"      // GET (long poll: ?after=VERSION&wait=30s), DELETE cancel
	PathLoginCode  = "/v1/auth/login/{id}/code" // POST a pasted redirect URL or code
	PathAuthLogout = "/v1/auth/logout"          // POST
	PathAuthVerify = "/v1/auth/verify"          // POST: ask X who the account's token belongs to
)

// Error codes of the auth endpoints.
const (
	// CodeNeedsReauth: the account must log in again (`psnd auth login`).
	CodeNeedsReauth = "needs_reauth"
	// CodeNotConfigured: no X app credentials are stored (`psnd setup`).
	CodeNotConfigured = "not_configured"
	// CodeXError: X refused a request or could not be reached.
	CodeXError = "x_error"
)

// App is the X app psnd logs in with. The client secret never leaves the
// daemon: only whether there is one.
type App struct {
	Configured      bool   `json:"configured"`
	ClientID        string `json:"client_id,omitempty"`
	ClientType      string `json:"client_type,omitempty"` // "confidential" (has a secret) or "public"
	HasClientSecret bool   `json:"has_client_secret"`
	// Source is "stored" (the database) or "daemon_env" (the daemon's
	// X_CLIENT_ID/X_CLIENT_SECRET, used when nothing is stored).
	Source string `json:"source,omitempty"`
	// CallbackURL is the redirect URI to register at X, from
	// PSN_CALLBACK_ADDR; CallbackError says why that setting is unusable.
	CallbackURL   string `json:"callback_url,omitempty"`
	CallbackError string `json:"callback_error,omitempty"`
}

// SetAppRequest stores the X app's credentials. An empty secret stores a
// public (Native App) client.
type SetAppRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// SetAppResult is the stored app; Changed is false when the request
// stored what was already there.
type SetAppResult struct {
	App
	Changed bool `json:"changed"`
}

// MaxLoginTimeoutMS bounds LoginRequest.TimeoutMS: ten minutes. The callback
// port stays open that long, and a pasted URL is accepted for ten minutes
// more; a longer wait helps no one (X's codes expire 30 seconds after
// approval anyway).
const MaxLoginTimeoutMS = 10 * 60 * 1000

// LoginRequest starts a login.
type LoginRequest struct {
	// TimeoutMS overrides how long the callback listener waits for the
	// browser (default two minutes) before the login falls back to a
	// pasted URL.
	// At most MaxLoginTimeoutMS.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// OpenBrowser asks the daemon to open the authorize URL itself (the
	// CLI opens it in the user's session instead).
	OpenBrowser bool `json:"open_browser,omitempty"`
}

// Login states.
const (
	LoginWaiting      = "waiting"       // listener up, waiting for the browser (a paste works too)
	LoginAwaitingCode = "awaiting_code" // no listener: paste the redirect URL or code
	LoginExchanging   = "exchanging"
	LoginSucceeded    = "succeeded"
	LoginFailed       = "failed"
	LoginCancelled    = "cancelled"
	LoginExpired      = "expired"
)

// Login is a login in progress or just finished.
type Login struct {
	ID               string      `json:"id"`
	State            string      `json:"state"`
	Version          int         `json:"version"`
	AuthURL          string      `json:"auth_url"`
	RedirectURI      string      `json:"redirect_uri"`
	Listening        bool        `json:"listening"`
	ListenError      string      `json:"listen_error,omitempty"`
	CallbackDeadline time.Time   `json:"callback_deadline"`
	ExpiresAt        time.Time   `json:"expires_at"`
	BrowserError     string      `json:"browser_error,omitempty"`
	Account          *Account    `json:"account,omitempty"`
	Error            *LoginError `json:"error,omitempty"`
}

// Done reports whether the login has ended.
func (l Login) Done() bool {
	switch l.State {
	case LoginSucceeded, LoginFailed, LoginCancelled, LoginExpired:
		return true
	}
	return false
}

// LoginError is why a login failed: X's callback error (access_denied, …)
// or psnd's (exchange_failed, identify_failed, timeout, cancelled,
// superseded).
type LoginError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// LoginCodeRequest carries what the user pasted: the full redirect URL
// (its state is checked) or the bare code.
type LoginCodeRequest struct {
	Input string `json:"input"`
}

// Account is a connected X account.
type Account struct {
	ID               string `json:"id"`
	Username         string `json:"username"`
	DisplayName      string `json:"display_name"`
	SubscriptionType string `json:"subscription_type"`
	Default          bool   `json:"default"`
}

// AuthStatus is every account's login, and the app.
type AuthStatus struct {
	Accounts []AccountStatus `json:"accounts"`
	App      App             `json:"app"`
	// Sandbox: the daemon publishes to the built-in offline X, where
	// @sandbox is always logged in and no X app is needed.
	Sandbox bool `json:"sandbox"`
}

// AccountStatus is one account's login.
type AccountStatus struct {
	Account
	LoggedIn         bool       `json:"logged_in"`
	LoggedInAt       *time.Time `json:"logged_in_at"`
	TokenExpiresAt   *time.Time `json:"token_expires_at"`
	LastRefreshAt    *time.Time `json:"last_refresh_at"`
	Scopes           []string   `json:"scopes"`
	NeedsReauth      bool       `json:"needs_reauth"`
	ReauthReason     string     `json:"reauth_reason,omitempty"`
	ReauthAt         *time.Time `json:"reauth_at,omitempty"`
	RefreshFailures  int        `json:"refresh_failures"`
	LastRefreshError string     `json:"last_refresh_error,omitempty"`
	// Problems say what needs attention and what to do; empty when fine.
	Problems []string `json:"problems"`
}

// LogoutRequest names the account to log out ("" = the default).
type LogoutRequest struct {
	Account string `json:"account,omitempty"`
}

// LogoutResult reports a logout: the local tokens are gone; Revoked says
// whether X confirmed revoking them.
type LogoutResult struct {
	Account     Account `json:"account"`
	HadTokens   bool    `json:"had_tokens"`
	Revoked     bool    `json:"revoked"`
	RevokeError string  `json:"revoke_error,omitempty"`
}

// VerifyRequest names the account to check with X ("" = the default).
type VerifyRequest struct {
	Account string `json:"account,omitempty"`
}
