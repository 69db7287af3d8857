package fakex

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// User is an X account known to the fake.
type User struct {
	ID       string
	Username string
	Name     string
	// SubscriptionType is Basic, Premium, PremiumPlus or None ("" = None).
	SubscriptionType string
	CreatedAt        time.Time
}

// Stats counts token-endpoint outcomes, so tests can assert for example
// "exactly one refresh, zero rejected" under concurrent callers.
type Stats struct {
	CodeExchanges     int // successful authorization_code grants
	RejectedCodes     int // authorization_code grants refused (reused, expired, PKCE, ...)
	Refreshes         int // successful refresh_token grants
	RejectedRefreshes int // refresh_token grants refused (spent or unknown token, ...)
	Revocations       int // calls to /2/oauth2/revoke that revoked a token
}

type oauthClient struct {
	id, secret string // secret "" = public client
	redirects  []string
}

func (c *oauthClient) confidential() bool { return c.secret != "" }

type authCode struct {
	clientID, redirectURI, challenge, userID string
	scopes                                   []string
	issued                                   time.Time
	used                                     bool
	family                                   int64 // grant created by the exchange, once used
}

type accessToken struct {
	userID, clientID string
	scopes           []string
	expiry           time.Time
	family           int64
	revoked          bool
}

type refreshToken struct {
	userID, clientID string // clientID "" = any client (seeded with IssueToken)
	scopes           []string
	family           int64
	used, revoked    bool
}

// scopes X knows; others are refused with invalid_scope.
var knownScopes = []string{
	"tweet.read", "tweet.write", "tweet.moderate.write", "users.email", "users.read",
	"follows.read", "follows.write", "offline.access", "space.read", "mute.read",
	"mute.write", "like.read", "like.write", "list.read", "list.write", "block.read",
	"block.write", "bookmark.read", "bookmark.write", "dm.read", "dm.write", "media.write",
}

// PsndScopes are the scopes psnd asks for; IssueToken grants them.
var PsndScopes = []string{"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}

// AddClient registers an app. secret "" makes it a public client (PKCE
// only, client_id in the body); otherwise it is confidential and must use
// HTTP Basic at the token endpoint. Redirect URIs match exactly. Adding an
// existing id replaces it.
func (s *Server) AddClient(id, secret string, redirectURIs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[id] = &oauthClient{id: id, secret: secret, redirects: append([]string(nil), redirectURIs...)}
}

// AddUser registers an account. The id must be numeric (X's format).
func (s *Server) AddUser(u User) {
	if !validID(u.ID) {
		panic(fmt.Sprintf("fakex: user id %q is not an X id", u.ID))
	}
	if u.SubscriptionType == "" {
		u.SubscriptionType = "None"
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; !ok {
		s.userOrder = append(s.userOrder, u.ID)
	}
	uu := u
	s.users[u.ID] = &uu
}

// SetAuthorizingUser picks the account that "approves" at the authorize
// endpoint. With a single registered user it is chosen by default.
func (s *Server) SetAuthorizingUser(id string) {
	s.mu.Lock()
	s.authUser = id
	s.mu.Unlock()
}

// SetDenyAuthorization makes the authorize endpoint act as if the user
// clicked Cancel: redirect with error=access_denied.
func (s *Server) SetDenyAuthorization(deny bool) {
	s.mu.Lock()
	s.deny = deny
	s.mu.Unlock()
}

// Stats returns the token-endpoint counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// IssueToken seeds a grant for a user with PsndScopes, as if the user had
// logged in; any registered client may refresh it. The sandbox uses it.
func (s *Server) IssueToken(userID string) (access, refresh string, expiry time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return "", "", time.Time{}, fmt.Errorf("fakex: issue token: %w %s", errNoUser, userID)
	}
	s.nextFamily++
	a, r, exp := s.issueLocked(userID, "", PsndScopes, s.nextFamily)
	return a, r, exp, nil
}

// RegisterToken makes a fresh fake accept a grant issued by an earlier one
// (the sandbox keeps its tokens in psnd's store across daemon restarts,
// while the fake's memory does not survive). refresh may be "". Any
// registered client may refresh it.
func (s *Server) RegisterToken(userID, access, refresh string, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return fmt.Errorf("fakex: register token: %w %s", errNoUser, userID)
	}
	if access == "" {
		return errors.New("fakex: register token: empty access token")
	}
	s.nextFamily++
	s.access[access] = &accessToken{userID: userID, scopes: PsndScopes, expiry: expiry, family: s.nextFamily}
	if refresh != "" {
		s.refresh[refresh] = &refreshToken{userID: userID, scopes: PsndScopes, family: s.nextFamily}
	}
	return nil
}

// RevokeUserTokens revokes every token of a user, as when the user removes
// the app's access in X's settings.
func (s *Server) RevokeUserTokens(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		if t.userID == userID {
			s.revoked[t.family] = true
		}
	}
	for _, t := range s.refresh {
		if t.userID == userID {
			s.revoked[t.family] = true
		}
	}
}

func randomToken() string {
	return strings.ToLower(rand.Text()) + strings.ToLower(rand.Text())
}

// issueLocked creates an access token (and a refresh token when
// offline.access is granted) in a grant family.
func (s *Server) issueLocked(userID, clientID string, scopes []string, family int64) (access, refresh string, expiry time.Time) {
	access = randomToken()
	expiry = s.clock.Now().Add(s.opts.AccessTokenTTL)
	s.access[access] = &accessToken{userID: userID, clientID: clientID, scopes: scopes, expiry: expiry, family: family}
	if slices.Contains(scopes, "offline.access") {
		refresh = randomToken()
		s.refresh[refresh] = &refreshToken{userID: userID, clientID: clientID, scopes: scopes, family: family}
	}
	return access, refresh, expiry
}

// authorize is GET /i/oauth2/authorize: X's consent page, acting at once
// as if the configured user approved (or denied).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.violation(r, errors.New("authorize must be a GET (the browser navigates to it)"))
		errorPage(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	q := r.URL.Query()
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" || redirectURI == "" {
		s.violation(r, errors.New("authorize needs client_id and redirect_uri"))
	}
	s.mu.Lock()
	c := s.clients[clientID]
	s.mu.Unlock()
	// X never redirects to an unverified URI: it shows an error page.
	if c == nil {
		errorPage(w, http.StatusBadRequest, "Something went wrong. You weren't able to give access to the App. Go back and try logging in again.")
		return
	}
	if !slices.Contains(c.redirects, redirectURI) {
		errorPage(w, http.StatusBadRequest, "Something went wrong. You weren't able to give access to the App. Go back and try logging in again.")
		return
	}
	state := q.Get("state")
	fail := func(code, desc string, violation bool) {
		if violation {
			s.violation(r, fmt.Errorf("authorize: %s: %s", code, desc))
		}
		v := url.Values{"error": {code}, "error_description": {desc}}
		if state != "" {
			v.Set("state", state)
		}
		redirectWith(w, redirectURI, v)
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code", true)
		return
	}
	if state == "" || len(state) > 500 {
		fail("invalid_request", "state is required (at most 500 characters)", true)
		return
	}
	challenge := q.Get("code_challenge")
	if challenge == "" || q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "code_challenge with code_challenge_method=S256 is required", true)
		return
	}
	if len(challenge) != 43 || !isBase64URL(challenge) {
		fail("invalid_request", "code_challenge must be an unpadded base64url SHA-256", true)
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if len(scopes) == 0 {
		fail("invalid_request", "scope is required", true)
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(knownScopes, sc) {
			fail("invalid_scope", "unknown scope "+sc, true)
			return
		}
	}

	s.mu.Lock()
	deny := s.deny
	userID := s.authUser
	if userID == "" && len(s.userOrder) == 1 {
		userID = s.userOrder[0]
	}
	_, known := s.users[userID]
	s.mu.Unlock()
	if deny {
		v := url.Values{"error": {"access_denied"}, "state": {state}}
		redirectWith(w, redirectURI, v)
		return
	}
	if !known {
		errorPage(w, http.StatusInternalServerError, "fakex: no authorizing user (AddUser, then SetAuthorizingUser).")
		return
	}
	code := randomToken()
	s.mu.Lock()
	s.codes[code] = &authCode{clientID: clientID, redirectURI: redirectURI, challenge: challenge,
		userID: userID, scopes: scopes, issued: s.clock.Now()}
	s.mu.Unlock()
	redirectWith(w, redirectURI, url.Values{"code": {code}, "state": {state}})
}

func redirectWith(w http.ResponseWriter, base string, v url.Values) {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	w.Header().Set("Location", base+sep+v.Encode())
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}

func errorPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>X</title><p>%s</p>\n", html.EscapeString(msg))
}

func isBase64URL(s string) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validVerifier checks RFC 7636's code_verifier: 43–128 unreserved chars.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

const (
	descBadCode        = "Value passed for the authorization code was invalid."
	descBadToken       = "Value passed for the token was invalid."
	descMissingAuthHdr = "Missing valid authorization header"
)

// tokenForm parses a token/revoke request by RFC 6749's rules: POST,
// form-encoded, no repeated parameters. Failures are violations.
func (s *Server) tokenForm(w http.ResponseWriter, r *http.Request, body []byte) (url.Values, bool) {
	if r.Method != http.MethodPost {
		s.violation(r, errors.New("token endpoints take POST"))
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed.")
		return nil, false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		s.violation(r, fmt.Errorf("content type %q, want application/x-www-form-urlencoded", r.Header.Get("Content-Type")))
		oauthError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.violation(r, fmt.Errorf("malformed form body: %v", err))
		oauthError(w, http.StatusBadRequest, "invalid_request", "Malformed request body.")
		return nil, false
	}
	for k, v := range form {
		if len(v) > 1 {
			s.violation(r, fmt.Errorf("parameter %s repeated", k))
			oauthError(w, http.StatusBadRequest, "invalid_request", "Parameter "+k+" included more than once.")
			return nil, false
		}
	}
	if len(r.URL.RawQuery) > 0 {
		s.violation(r, errors.New("token endpoint parameters belong in the body, not the query"))
	}
	return form, true
}

// clientAuth authenticates the client: HTTP Basic for confidential
// clients (required), client_id in the body for public ones.
func (s *Server) clientAuth(w http.ResponseWriter, r *http.Request, form url.Values) (*oauthClient, bool) {
	bodyID := form.Get("client_id")
	if id, secret, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
		s.mu.Lock()
		c := s.clients[id]
		s.mu.Unlock()
		if c == nil || !c.confidential() || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
			oauthError(w, http.StatusUnauthorized, "unauthorized_client", descMissingAuthHdr)
			return nil, false
		}
		if bodyID != "" && bodyID != id {
			oauthError(w, http.StatusBadRequest, "invalid_request", "client_id does not match the authorization header.")
			return nil, false
		}
		return c, true
	}
	if bodyID == "" {
		s.violation(r, errors.New("no client authentication: neither Basic nor client_id"))
		oauthError(w, http.StatusUnauthorized, "unauthorized_client", descMissingAuthHdr)
		return nil, false
	}
	s.mu.Lock()
	c := s.clients[bodyID]
	s.mu.Unlock()
	if c == nil || c.confidential() {
		// A confidential client must use Basic, even with client_secret in
		// the body; X answers exactly this.
		oauthError(w, http.StatusUnauthorized, "unauthorized_client", descMissingAuthHdr)
		return nil, false
	}
	return c, true
}

// token is POST /2/oauth2/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	form, ok := s.tokenForm(w, r, body)
	if !ok {
		return
	}
	c, ok := s.clientAuth(w, r, form)
	if !ok {
		s.mu.Lock()
		switch form.Get("grant_type") {
		case "refresh_token":
			s.stats.RejectedRefreshes++
		case "authorization_code":
			s.stats.RejectedCodes++
		}
		s.mu.Unlock()
		return
	}
	switch form.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r, c, form)
	case "refresh_token":
		s.refreshGrant(w, r, c, form)
	case "":
		s.violation(r, errors.New("grant_type missing"))
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter [grant_type].")
	default:
		s.violation(r, fmt.Errorf("grant_type %q not used by psnd", form.Get("grant_type")))
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type.")
	}
}

func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request, c *oauthClient, form url.Values) {
	for _, p := range []string{"code", "redirect_uri", "code_verifier"} {
		if form.Get(p) == "" {
			s.violation(r, fmt.Errorf("authorization_code grant without %s", p))
			s.mu.Lock()
			s.stats.RejectedCodes++
			s.mu.Unlock()
			oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter ["+p+"].")
			return
		}
	}
	verifier := form.Get("code_verifier")
	if !validVerifier(verifier) {
		s.violation(r, errors.New("code_verifier is not 43–128 unreserved characters"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reject := func(desc string) {
		s.stats.RejectedCodes++
		oauthError(w, http.StatusBadRequest, "invalid_request", desc)
	}
	code := s.codes[form.Get("code")]
	now := s.clock.Now()
	switch {
	case code == nil || code.clientID != c.id:
		reject(descBadCode)
		return
	case code.used:
		if s.opts.RevokeFamilyOnReuse && code.family != 0 {
			s.revoked[code.family] = true
		}
		reject(descBadCode)
		return
	case now.Sub(code.issued) > s.opts.CodeTTL:
		code.used = true
		reject(descBadCode)
		return
	}
	code.used = true // single use, whatever happens next
	if form.Get("redirect_uri") != code.redirectURI {
		reject("Value passed for the redirect uri was invalid.")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != code.challenge {
		reject("Value passed for the code verifier was invalid.")
		return
	}
	// A new login of the same user to the same app invalidates the earlier grant.
	for _, t := range s.refresh {
		if t.userID == code.userID && t.clientID == c.id {
			s.revoked[t.family] = true
		}
	}
	for _, t := range s.access {
		if t.userID == code.userID && t.clientID == c.id {
			s.revoked[t.family] = true
		}
	}
	s.nextFamily++
	code.family = s.nextFamily
	access, refresh, _ := s.issueLocked(code.userID, c.id, code.scopes, code.family)
	s.stats.CodeExchanges++
	s.writeTokenLocked(w, access, refresh, code.scopes)
}

func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, c *oauthClient, form url.Values) {
	rt := form.Get("refresh_token")
	if rt == "" {
		s.violation(r, errors.New("refresh_token grant without refresh_token"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.refresh[rt]
	if t == nil || t.revoked || s.revoked[t.family] || (t.clientID != "" && t.clientID != c.id) {
		s.stats.RejectedRefreshes++
		oauthError(w, http.StatusBadRequest, "invalid_request", descBadToken)
		return
	}
	if t.used {
		if s.opts.RevokeFamilyOnReuse {
			s.revoked[t.family] = true
		}
		s.stats.RejectedRefreshes++
		oauthError(w, http.StatusBadRequest, "invalid_request", descBadToken)
		return
	}
	scopes := t.scopes
	if sc := form.Get("scope"); sc != "" {
		scopes = strings.Fields(sc)
		for _, x := range scopes {
			if !slices.Contains(t.scopes, x) {
				s.stats.RejectedRefreshes++
				oauthError(w, http.StatusBadRequest, "invalid_scope", "Requested scope exceeds the grant.")
				return
			}
		}
	}
	t.used = true
	access, refresh, _ := s.issueLocked(t.userID, t.clientID, scopes, t.family)
	s.stats.Refreshes++
	s.writeTokenLocked(w, access, refresh, scopes)
}

func (s *Server) writeTokenLocked(w http.ResponseWriter, access, refresh string, scopes []string) {
	out := map[string]any{
		"token_type":   "bearer",
		"expires_in":   int(s.opts.AccessTokenTTL / time.Second),
		"access_token": access,
		"scope":        strings.Join(scopes, " "),
	}
	if refresh != "" {
		out["refresh_token"] = refresh
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, out)
}

// revokeEndpoint is POST /2/oauth2/revoke (RFC 7009): unknown tokens are
// not an error; revoking a refresh token ends its whole grant.
func (s *Server) revokeEndpoint(w http.ResponseWriter, r *http.Request, body []byte) {
	form, ok := s.tokenForm(w, r, body)
	if !ok {
		return
	}
	c, ok := s.clientAuth(w, r, form)
	if !ok {
		return
	}
	tok := form.Get("token")
	if tok == "" {
		s.violation(r, errors.New("revoke without token"))
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter [token].")
		return
	}
	if h := form.Get("token_type_hint"); h != "" && h != "access_token" && h != "refresh_token" {
		s.violation(r, fmt.Errorf("token_type_hint %q", h))
	}
	s.mu.Lock()
	if t := s.access[tok]; t != nil && (t.clientID == "" || t.clientID == c.id) {
		t.revoked = true
		s.stats.Revocations++
	}
	if t := s.refresh[tok]; t != nil && (t.clientID == "" || t.clientID == c.id) {
		t.revoked = true
		s.revoked[t.family] = true
		s.stats.Revocations++
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

// bearer finds the valid access token of an API request.
func (s *Server) bearerLocked(r *http.Request) (*accessToken, string) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return nil, ""
	}
	tok := h[len(p):]
	t := s.access[tok]
	if t == nil || t.revoked || s.revoked[t.family] || !s.clock.Now().Before(t.expiry) {
		return nil, tok
	}
	return t, tok
}

// revokeBearer revokes the access token a request presents (FaultRevokeToken).
func (s *Server) revokeBearer(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, _ := s.bearerLocked(r); t != nil {
		t.revoked = true
	}
}
