// Package oauth is psnd's login to X (SPEC §4): the OAuth 2.0 authorization
// code flow with PKCE, the loopback callback that catches X's redirect,
// sealed token persistence, and the one component that hands out valid
// access tokens and refreshes them safely.
//
// Everything here runs in the daemon, the only process that opens the
// database. The daemon keeps no token state in memory between calls: the
// database row is the truth, so a restart between two refreshes simply
// reads the rotated refresh token back.
//
// The store is the real *sqlstore.Store rather than an interface declared
// here: the queries are single methods on a transaction and tests run them
// against real SQLite files, so an interface would only mirror sqlstore's.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// Scopes are the scopes psnd asks for: posting needs tweet.read,
// tweet.write and users.read; media.write uploads; offline.access makes X
// issue a refresh token at all.
var Scopes = []string{"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}

var (
	// ErrNeedsReauth means the account must log in again (`psnd auth
	// login`): X refused its refresh token, it has none, it was logged out,
	// or its stored tokens cannot be decrypted. Errors matching it are
	// *ReauthError values that say which account and why.
	ErrNeedsReauth = errors.New("needs to log in again")
	// ErrNoApp means no X app credentials are stored (and none came from
	// the daemon's environment).
	ErrNoApp = errors.New("no X app configured: run `psnd setup` (or set X_CLIENT_ID/X_CLIENT_SECRET and run `psnd setup`)")
)

// ReauthError says which account must log in again, and why.
type ReauthError struct {
	AccountID string
	Username  string // "" if unknown
	Reason    string
	Since     *time.Time // when X refused, if known
	Err       error      // underlying cause, if any
}

func (e *ReauthError) Error() string {
	who := e.AccountID
	if e.Username != "" {
		who = "@" + e.Username
	}
	return fmt.Sprintf("account %s must log in again (%s): run `psnd auth login`", who, e.Reason)
}

// Is makes errors.Is(err, ErrNeedsReauth) true.
func (e *ReauthError) Is(target error) bool { return target == ErrNeedsReauth }

func (e *ReauthError) Unwrap() error { return e.Err }

// KeySource hands out the data key once it is ready and bound to the
// database; otherwise an error (wrapping secrets.ErrWaiting while the
// keyring is locked). The daemon's key holder provides it.
type KeySource interface {
	Key() (secrets.Key, error)
}

// Identifier asks X whose token it is (GET /2/users/me); *xapi.Client
// provides it.
type Identifier interface {
	Me(ctx context.Context, token string) (xapi.User, xapi.RateLimit, error)
}

type accountKey struct{}

// WithAccount names, for an Identifier, the account a request is made for,
// so that it can be counted before it is sent (SPEC §9); a login's request
// names none (X answers with it).
func WithAccount(ctx context.Context, accountID string) context.Context {
	return context.WithValue(ctx, accountKey{}, accountID)
}

// AccountOf is the account WithAccount named, or "".
func AccountOf(ctx context.Context) string {
	s, _ := ctx.Value(accountKey{}).(string)
	return s
}

// Endpoints are X's OAuth endpoints (PSN_X_AUTH_URL, PSN_X_TOKEN_URL).
type Endpoints struct {
	AuthURL  string
	TokenURL string
}

// RevokeURL derives X's revocation endpoint from the token endpoint by
// replacing the last path segment "token" with "revoke":
// https://api.x.com/2/oauth2/token → https://api.x.com/2/oauth2/revoke.
// SPEC §7 has no variable for it, X serves the two side by side, and a
// fake X reached through PSN_X_TOKEN_URL is then revoked at too.
func RevokeURL(tokenURL string) (string, error) {
	u, err := url.Parse(tokenURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("token URL %q is not an absolute URL", tokenURL)
	}
	dir, last := "", u.Path
	if i := strings.LastIndexByte(u.Path, '/'); i >= 0 {
		dir, last = u.Path[:i], u.Path[i+1:]
	}
	if last != "token" {
		return "", fmt.Errorf("cannot derive the revoke URL from token URL %q (its path does not end in /token)", tokenURL)
	}
	u.Path = dir + "/revoke"
	u.RawPath = ""
	return u.String(), nil
}

// App is the X app's credentials. A confidential app (Web App, Automated
// App) has a secret and authenticates with HTTP Basic; a public app (Native
// App) has none and sends client_id in the body.
type App struct {
	ClientID string
	Secret   secrets.Secret
}

// Confidential reports whether the app has a client secret.
func (a App) Confidential() bool { return !a.Secret.IsZero() }

// Type names the client type as X's developer portal groups them.
func (a App) Type() string {
	if a.Confidential() {
		return "confidential"
	}
	return "public"
}

// config builds the x/oauth2 configuration. AuthStyle is chosen, never
// auto-detected: auto-detection retries a failed Basic attempt with body
// parameters and reports the second error, hiding X's real answer.
func (a App) config(ep Endpoints, redirectURL string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if a.Confidential() {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.Secret.Reveal(),
		Endpoint:     oauth2.Endpoint{AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, AuthStyle: style},
		RedirectURL:  redirectURL,
		Scopes:       Scopes,
	}
}

// Associated data binds each sealed value to where it is stored, so a
// ciphertext copied to another row or column does not open.
func tokenAD(accountID, field string) []byte {
	return []byte("psnd oauth_tokens account_id=" + accountID + " field=" + field)
}

var clientSecretAD = []byte("psnd settings field=x_client_secret")

func sealToken(key secrets.Key, accountID, field string, s secrets.Secret) ([]byte, error) {
	if s.IsZero() {
		return nil, nil
	}
	b, err := secrets.Seal(key, []byte(s.Reveal()), tokenAD(accountID, field))
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", field, err)
	}
	return b, nil
}

func openToken(key secrets.Key, accountID, field string, sealed []byte) (secrets.Secret, error) {
	if len(sealed) == 0 {
		return secrets.Secret{}, nil
	}
	b, err := secrets.Open(key, sealed, tokenAD(accountID, field))
	if err != nil {
		return secrets.Secret{}, fmt.Errorf("open %s: %w", field, err)
	}
	return secrets.NewSecret(string(b)), nil
}

// LoadApp reads the stored X app credentials, opening the sealed secret.
// With nothing stored it returns fallback (the daemon's X_CLIENT_ID and
// X_CLIENT_SECRET), or ErrNoApp if that is empty too. The key is needed
// only when a secret is stored.
func LoadApp(ctx context.Context, store *sqlstore.Store, keys KeySource, fallback App) (App, error) {
	var st sqlstore.Settings
	if err := store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		st, err = tx.Settings()
		return err
	}); err != nil {
		return App{}, err
	}
	if st.ClientID == "" {
		if fallback.ClientID != "" {
			return fallback, nil
		}
		return App{}, ErrNoApp
	}
	app := App{ClientID: st.ClientID}
	if len(st.ClientSecretEnc) > 0 {
		key, err := keys.Key()
		if err != nil {
			return App{}, fmt.Errorf("open the stored client secret: %w", err)
		}
		b, err := secrets.Open(key, st.ClientSecretEnc, clientSecretAD)
		if err != nil {
			return App{}, fmt.Errorf("open the stored client secret: %w (store it again with `psnd setup`)", err)
		}
		app.Secret = secrets.NewSecret(string(b))
	}
	return app, nil
}

// SaveApp stores the X app credentials, the secret sealed with the data
// key; a zero secret stores a public client. It reports whether anything
// changed: storing what is already stored writes nothing, so `psnd setup`
// can run again and again.
func SaveApp(ctx context.Context, store *sqlstore.Store, keys KeySource, app App, now time.Time) (changed bool, err error) {
	if err := ValidateClientID(app.ClientID); err != nil {
		return false, err
	}
	if cur, err := LoadApp(ctx, store, keys, App{}); err == nil && cur.ClientID == app.ClientID && cur.Secret.Equal(app.Secret) {
		return false, nil
	}
	var enc []byte
	if app.Confidential() {
		key, err := keys.Key()
		if err != nil {
			return false, fmt.Errorf("seal the client secret: %w", err)
		}
		if enc, err = secrets.Seal(key, []byte(app.Secret.Reveal()), clientSecretAD); err != nil {
			return false, fmt.Errorf("seal the client secret: %w", err)
		}
	}
	err = store.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.SetClientCredentials(app.ClientID, enc, now)
	})
	return err == nil, err
}

// ValidateClientID rejects values that cannot be an X client id (which is
// printable ASCII without spaces), so a pasted line with junk fails early.
func ValidateClientID(id string) error {
	if id == "" {
		return errors.New("the client id is empty")
	}
	if len(id) > 200 {
		return errors.New("the client id is too long (X's are about 34 characters)")
	}
	for _, c := range id {
		if c <= ' ' || c > '~' {
			return errors.New("the client id contains spaces or non-ASCII characters; copy it again from the X developer portal")
		}
	}
	return nil
}

// Callback is the loopback redirect endpoint.
type Callback struct {
	Addr        string // host:port to listen on, a loopback IP literal
	RedirectURI string // http://host:port/callback, registered at X
}

// ParseCallbackAddr checks PSN_CALLBACK_ADDR: a loopback IP literal and a
// fixed port. Host names are refused: X matches the registered callback
// exactly, and a name such as localhost may resolve to another address
// than the one bound (RFC 8252 §8.3).
func ParseCallbackAddr(addr string) (Callback, error) {
	bad := func(why string) (Callback, error) {
		return Callback{}, fmt.Errorf("PSN_CALLBACK_ADDR %q %s; use a loopback address and port such as 127.0.0.1:18923", addr, why)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return bad("is not host:port")
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return bad("names a host, not a loopback IP address")
	}
	if !ip.IsLoopback() {
		return bad("is not a loopback address (the callback must not be reachable from other machines)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("needs a fixed port (X matches the registered callback URL exactly)")
	}
	hp := net.JoinHostPort(ip.String(), port)
	return Callback{Addr: hp, RedirectURI: "http://" + hp + "/callback"}, nil
}
