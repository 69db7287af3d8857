package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"

	"github.com/psnd/psnd/internal/textutil"
)

// SourceConfig holds a Source's dependencies.
type SourceConfig struct {
	Store      *sqlstore.Store // required
	Keys       KeySource       // required
	HTTPClient *http.Client    // required: talks to X's token endpoint
	TokenURL   string          // required
	// Identify, if set, is asked GET /2/users/me after every refresh, to
	// keep the account's username and subscription type (its post length
	// limit, SPEC §5) current. One call per refresh, about every two hours.
	Identify Identifier
	// FallbackApp is used when no app credentials are stored.
	FallbackApp App
	Clock       clock.Clock  // default system
	Logger      *slog.Logger // default discard; never gets a token
	// Sleep waits between refresh retries; default a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Margin is how long before expiry a token is refreshed; default 5
	// minutes, and never more than half the token's lifetime, so a short
	// lifetime cannot make every call refresh.
	Margin time.Duration
	// Retries is how many times a refresh that failed on the network or
	// with a 5xx is retried before giving up; default 3.
	Retries int
	// Backoff is the wait before retry n (1-based); default 1s, 2s, 4s, …
	// up to 30s.
	Backoff func(n int) time.Duration
	// RequestTimeout bounds one refresh request and its commit, which run
	// under a context the caller cannot cancel; default 30s.
	RequestTimeout time.Duration
	// NeedsLogin, if set, hears once each time an account is marked as
	// needing a new login (X refused its refresh token, or gave none), so
	// the daemon can tell the user. Called on the refreshing goroutine:
	// it must not block.
	NeedsLogin func(*ReauthError)
}

// Source hands out valid access tokens per account for the daemon's
// lifetime. It refreshes ahead of expiry and, on request, after X answered
// 401. Refreshes of one account are serialised in this process (the only
// one that opens the database), and each is committed — rotated refresh
// token and new access token in one transaction — before the new access
// token is returned, under a context the caller's cancellation cannot
// abort, so a refresh token X has spent is never lost nor presented twice.
//
// No token is cached in memory: each call is answered by a read of the
// account's row (one indexed read and an AES-GCM open) that began after
// the call did, so a login, a logout or a restart is seen at once. Calls
// made while a read is under way share the next one (see sharedRead): a
// burst of publishes costs a few reads, not one each.
type Source struct {
	store    *sqlstore.Store
	keys     KeySource
	hc       *http.Client
	tokenURL string
	identify Identifier
	fallback App
	clock    clock.Clock
	log      *slog.Logger
	sleep    func(context.Context, time.Duration) error
	margin   time.Duration
	needs    func(*ReauthError)
	retries  int
	backoff  func(int) time.Duration
	timeout  time.Duration

	mu    sync.Mutex
	accts map[string]*account

	// readHook, if set (tests), runs after each shared read, before its
	// callers are answered.
	readHook func(accountID string)
}

// account serialises one account's refreshes. sem is a one-slot lock that
// a waiting caller can give up on.
type account struct {
	sem chan struct{}
	// pending holds refreshed tokens X issued that could not be committed
	// (the database failed): the next caller commits them instead of
	// presenting the spent refresh token again.
	pending *pendingCommit

	// Reads shared by concurrent Token calls (sharedRead). rsem lets one
	// read run at a time; next collects the callers waiting for the read
	// after it.
	rsem chan struct{}
	rmu  sync.Mutex
	next *sharedRead
}

// sharedRead is one read of an account's tokens and the callers it
// answers, all of which called before it began.
type sharedRead struct {
	done    chan struct{}
	callers int // joined so far (tests wait on it)
	cur     current
	err     error
}

type pendingCommit struct {
	prevRefreshEnc []byte
	row            sqlstore.Token
}

// NewSource checks cfg and returns a Source.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.HTTPClient == nil || cfg.TokenURL == "" {
		return nil, errors.New("oauth: NewSource needs Store, Keys, HTTPClient and TokenURL")
	}
	s := &Source{
		store: cfg.Store, keys: cfg.Keys, hc: cfg.HTTPClient, tokenURL: cfg.TokenURL,
		identify: cfg.Identify, fallback: cfg.FallbackApp, clock: cfg.Clock, log: cfg.Logger,
		sleep: cfg.Sleep, margin: cfg.Margin, retries: cfg.Retries, backoff: cfg.Backoff,
		timeout: cfg.RequestTimeout, needs: cfg.NeedsLogin, accts: map[string]*account{},
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.sleep == nil {
		s.sleep = clock.Sleep
	}
	if s.margin <= 0 {
		s.margin = 5 * time.Minute
	}
	if s.retries < 0 {
		s.retries = 0
	} else if s.retries == 0 {
		s.retries = 3
	}
	if s.backoff == nil {
		s.backoff = defaultBackoff
	}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	return s, nil
}

func defaultBackoff(n int) time.Duration {
	d := time.Second
	for i := 1; i < n && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// Token returns a valid access token for the account (X user id),
// refreshing it first when it expires within the margin. Errors match
// ErrNeedsReauth when the user must log in again, and wrap
// secrets.ErrWaiting while the keyring is locked.
func (s *Source) Token(ctx context.Context, accountID string) (string, error) {
	return s.get(ctx, accountID, "", false)
}

// ForceRefresh refreshes after X answered 401 to stale, unless another
// caller already replaced stale, and returns the new access token. Errors
// as for Token.
func (s *Source) ForceRefresh(ctx context.Context, accountID, stale string) (string, error) {
	return s.get(ctx, accountID, stale, true)
}

// Prove refreshes the account's token now, whatever its expiry: a
// refresh is the one proof X gives that the grant is still alive (X does
// not bill it), and it leaves a token good for its full lifetime. It is
// serialised with every other refresh of the account. A grant X refuses
// marks the account as needing a login (an error matching
// ErrNeedsReauth), as a refresh at publish time would; an account already
// so marked fails at once, without asking X.
func (s *Source) Prove(ctx context.Context, accountID string) error {
	key, err := s.key()
	if err != nil {
		return err
	}
	tok, refreshed, err := s.locked(ctx, key, accountID, "", refreshAlways)
	if err != nil {
		return err
	}
	if refreshed {
		s.updateProfile(ctx, accountID, tok)
	}
	return nil
}

func (s *Source) get(ctx context.Context, accountID, stale string, force bool) (string, error) {
	if !force {
		cur, err := s.readShared(ctx, accountID)
		if err != nil {
			return "", err
		}
		if s.usable(cur) {
			return cur.access.Reveal(), nil
		}
	}
	key, err := s.key()
	if err != nil {
		return "", err
	}
	mode := refreshIfUnusable
	if force {
		mode = refreshIfStale
	}
	tok, refreshed, err := s.locked(ctx, key, accountID, stale, mode)
	if err != nil {
		return "", err
	}
	if refreshed {
		s.updateProfile(ctx, accountID, tok)
	}
	return tok.Reveal(), nil
}

func (s *Source) key() (secrets.Key, error) {
	key, err := s.keys.Key()
	if err != nil {
		if errors.Is(err, secrets.ErrWaiting) {
			return secrets.Key{}, fmt.Errorf("cannot read X tokens yet: %w", err)
		}
		return secrets.Key{}, fmt.Errorf("cannot read X tokens: %w", err)
	}
	return key, nil
}

func (s *Source) acct(id string) *account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accts[id]
	if a == nil {
		a = &account{sem: make(chan struct{}, 1), rsem: make(chan struct{}, 1)}
		s.accts[id] = a
	}
	return a
}

func (a *account) lock(ctx context.Context) error {
	select {
	case a.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *account) unlock() { <-a.sem }

// refreshMode says when locked refreshes.
type refreshMode int

const (
	refreshIfUnusable refreshMode = iota // the stored token is expired or about to be
	refreshIfStale                       // the stored token is still the one X refused (stale)
	refreshAlways                        // Prove: a refresh is the proof
)

// locked is the serialised part: re-read under the account's lock (another
// caller may just have refreshed), then refresh if mode still asks for it.
func (s *Source) locked(ctx context.Context, key secrets.Key, accountID, stale string, mode refreshMode) (secrets.Secret, bool, error) {
	a := s.acct(accountID)
	if err := a.lock(ctx); err != nil {
		return secrets.Secret{}, false, fmt.Errorf("wait for token refresh: %w", err)
	}
	defer a.unlock()
	if a.pending != nil {
		// Tokens X issued on an earlier call that the database refused:
		// commit them now rather than present the spent refresh token.
		if err := s.commitPending(ctx, a); err != nil && !errors.Is(err, sqlstore.ErrTokenChanged) {
			return secrets.Secret{}, false, err
		}
	}
	cur, err := s.read(ctx, key, accountID)
	if err != nil {
		return secrets.Secret{}, false, err
	}
	switch mode {
	case refreshIfStale:
		if cur.access.Reveal() != stale {
			return cur.access, false, nil // someone already replaced it
		}
	case refreshIfUnusable:
		if s.usable(cur) {
			return cur.access, false, nil
		}
	}
	return s.refresh(ctx, key, a, cur)
}

// readShared is key and read for Token, shared with the concurrent calls:
// the caller joins the read that begins next, one read of the account
// runs at a time, and its answer (tokens or error) goes to every caller
// that joined it. Each caller thus sees the row as it was after its call
// began, as with a read of its own, while a burst of calls (a thousand
// posts due at once, each asking for the same account's token) costs a
// handful of reads and decrypts instead of one per call. The tokens are
// handed out read-only (Secret is immutable), so sharing them is safe.
func (s *Source) readShared(ctx context.Context, accountID string) (current, error) {
	a := s.acct(accountID)
	for {
		a.rmu.Lock()
		r := a.next
		if r == nil {
			r = &sharedRead{done: make(chan struct{})}
			a.next = r
		}
		r.callers++
		a.rmu.Unlock()
		select {
		case <-r.done:
		case a.rsem <- struct{}{}:
			a.rmu.Lock()
			lead := a.next == r // not yet read: this caller reads for all
			if lead {
				a.next = nil // later callers wait for the read after this one
			}
			a.rmu.Unlock()
			if lead {
				key, err := s.key()
				if err == nil {
					r.cur, err = s.read(ctx, key, accountID)
				}
				r.err = err
				if s.readHook != nil {
					s.readHook(accountID)
				}
				close(r.done)
			}
			<-a.rsem
			<-r.done
		case <-ctx.Done():
			return current{}, ctx.Err()
		}
		if r.err != nil && ctx.Err() == nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) {
			continue // the caller that read for the others gave up: read again
		}
		return r.cur, r.err
	}
}

// current is an account's stored tokens, opened.
type current struct {
	row      sqlstore.Token
	username string
	access   secrets.Secret
	refresh  secrets.Secret
}

// read loads and opens an account's tokens. A missing row, a needs-reauth
// mark or a token that does not open are all ReauthErrors.
func (s *Source) read(ctx context.Context, key secrets.Key, accountID string) (current, error) {
	var c current
	err := s.store.View(ctx, func(tx *sqlstore.Tx) error {
		if a, err := tx.Account(accountID); err == nil {
			c.username = a.Username
		}
		var err error
		c.row, err = tx.Token(accountID)
		return err
	})
	if errors.Is(err, sqlstore.ErrNotFound) {
		return c, &ReauthError{AccountID: accountID, Username: c.username, Reason: "not logged in"}
	}
	if err != nil {
		return c, err
	}
	if m := c.row.Meta; m.NeedsReauth {
		return c, &ReauthError{AccountID: accountID, Username: c.username, Reason: m.ReauthReason, Since: m.ReauthAt}
	}
	if c.access, err = openToken(key, accountID, "access_token", c.row.AccessEnc); err == nil {
		c.refresh, err = openToken(key, accountID, "refresh_token", c.row.RefreshEnc)
	}
	if err != nil {
		return c, &ReauthError{AccountID: accountID, Username: c.username,
			Reason: "its stored tokens cannot be decrypted with this data key", Err: err}
	}
	return c, nil
}

// usable reports whether the stored access token is good for at least the
// margin (never more than half its lifetime). An unknown expiry counts as
// good: the caller's 401 then forces a refresh.
func (s *Source) usable(c current) bool {
	if c.access.IsZero() {
		return false
	}
	exp := c.row.ExpiresAt
	if exp == nil {
		return true
	}
	margin := s.margin
	issued := c.row.Meta.LastRefreshAt
	if issued == nil || (c.row.Meta.ObtainedAt != nil && c.row.Meta.ObtainedAt.After(*issued)) {
		issued = c.row.Meta.ObtainedAt
	}
	if issued != nil {
		if life := exp.Sub(*issued); life > 0 && life/2 < margin {
			margin = life / 2
		}
	}
	return s.clock.Now().Before(exp.Add(-margin))
}

// failure classes of a refresh attempt.
type failKind int

const (
	failTransient failKind = iota // network, 5xx, 429: retry with backoff
	failRefused                   // X refused the refresh token: needs re-auth
	failPermanent                 // anything else X refused: retrying will not help
)

func classify(err error) (failKind, string) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return failTransient, "could not reach X's token endpoint: " + textutil.FirstLine(describe(err))
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	what := fmt.Sprintf("%d %s", status, re.ErrorCode)
	if re.ErrorDescription != "" {
		what += ": " + re.ErrorDescription
	}
	switch {
	case status >= 500 || status == http.StatusTooManyRequests:
		return failTransient, "X's token endpoint answered " + textutil.FirstLine(what)
	case re.ErrorCode == "invalid_request" || re.ErrorCode == "invalid_grant":
		// X answers 400 invalid_request for a spent or unknown refresh
		// token; invalid_grant is the RFC's name for the same.
		return failRefused, "X refused the refresh token (" + textutil.FirstLine(what) + ")"
	case status == http.StatusUnauthorized || re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_client":
		return failPermanent, "X refused the app's credentials (" + textutil.FirstLine(what) + "); check the client id and secret with `psnd setup`"
	}
	return failPermanent, "X refused the refresh (" + textutil.FirstLine(what) + ")"
}

// describe drops url.Error's "Post <url>:" prefix, keeping the cause.
func describe(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if strings.HasPrefix(err.Error(), "Post ") {
			if inner := ue.Unwrap(); inner != nil {
				return inner.Error()
			}
		}
	}
	return err.Error()
}

// refresh presents the stored refresh token once per attempt, retrying only
// failures that mean X did not spend it (network, 5xx), and commits what X
// returns before handing out the new access token.
func (s *Source) refresh(ctx context.Context, key secrets.Key, a *account, cur current) (secrets.Secret, bool, error) {
	id := cur.row.AccountID
	if cur.refresh.IsZero() {
		return secrets.Secret{}, false, s.markReauth(ctx, cur, "X issued no refresh token (the offline.access scope was not granted)")
	}
	app, err := LoadApp(ctx, s.store, s.keys, s.fallback)
	if err != nil {
		return secrets.Secret{}, false, fmt.Errorf("refresh token of %s: %w", who(cur), err)
	}
	conf := app.config(Endpoints{TokenURL: s.tokenURL}, "")
	meta := cur.row.Meta
	for attempt := 1; ; attempt++ {
		tok, err := s.exchangeRefresh(ctx, conf, cur.refresh)
		if err == nil {
			return s.commit(ctx, key, a, cur, tok)
		}
		kind, msg := classify(err)
		if kind == failRefused {
			s.log.Warn("refresh token refused; account needs to log in again", "account", id, "reason", msg)
			return secrets.Secret{}, false, s.markReauth(ctx, cur, msg)
		}
		now := s.clock.Now()
		meta.RefreshFailures++
		meta.LastError, meta.LastErrorAt = msg, &now
		if err := s.saveMeta(ctx, cur, meta); err != nil {
			return secrets.Secret{}, false, err
		}
		s.log.Warn("token refresh failed", "account", id, "attempt", attempt, "err", msg)
		if kind == failPermanent || attempt > s.retries {
			return secrets.Secret{}, false, fmt.Errorf("refresh token of %s: %s", who(cur), msg)
		}
		if err := s.sleep(ctx, s.backoff(attempt)); err != nil {
			return secrets.Secret{}, false, fmt.Errorf("refresh token of %s: %s (gave up waiting to retry: %w)", who(cur), msg, err)
		}
	}
}

// exchangeRefresh sends one refresh_token grant. The request runs under a
// context the caller cannot cancel: once it is sent X may spend the token,
// and the answer must be read and committed.
func (s *Source) exchangeRefresh(ctx context.Context, conf *oauth2.Config, refresh secrets.Secret) (*oauth2.Token, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	rctx = context.WithValue(rctx, oauth2.HTTPClient, s.hc)
	// A token with only a refresh token is never Valid, so the source
	// refreshes exactly once and we keep what it returns.
	return conf.TokenSource(rctx, &oauth2.Token{RefreshToken: refresh.Reveal()}).Token()
}

// commit seals and stores what X returned, in one transaction, guarded by
// the refresh token that was presented.
func (s *Source) commit(ctx context.Context, key secrets.Key, a *account, cur current, tok *oauth2.Token) (secrets.Secret, bool, error) {
	id := cur.row.AccountID
	access := secrets.NewSecret(tok.AccessToken)
	refresh := secrets.NewSecret(tok.RefreshToken)
	if refresh.IsZero() {
		refresh = cur.refresh // X always rotates; keep the old one if it did not
	}
	now := s.clock.Now()
	row := sqlstore.Token{AccountID: id, TokenType: tok.TokenType, Scopes: cur.row.Scopes, ExpiresAt: expiry(now, tok)}
	if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
		row.Scopes = sc
	}
	row.Meta = cur.row.Meta
	row.Meta.LastRefreshAt = &now
	row.Meta.RefreshFailures, row.Meta.LastError, row.Meta.LastErrorAt = 0, "", nil
	var err error
	if row.AccessEnc, err = sealToken(key, id, "access_token", access); err != nil {
		return secrets.Secret{}, false, err
	}
	if row.RefreshEnc, err = sealToken(key, id, "refresh_token", refresh); err != nil {
		return secrets.Secret{}, false, err
	}
	a.pending = &pendingCommit{prevRefreshEnc: cur.row.RefreshEnc, row: row}
	if err := s.commitPending(ctx, a); errors.Is(err, sqlstore.ErrTokenChanged) {
		// A login replaced the row while X answered: use the new login's
		// token if it is good, else report the race.
		if now, rerr := s.read(ctx, key, id); rerr == nil && s.usable(now) {
			return now.access, false, nil
		}
		return secrets.Secret{}, false, err
	} else if err != nil {
		return secrets.Secret{}, false, err
	}
	s.log.Info("token refreshed", "account", id, "expires_at", row.ExpiresAt)
	return access, true, nil
}

// commitPending writes a.pending, under a context the caller cannot cancel.
// If the row changed meanwhile (a new login or a logout), the refreshed
// tokens belong to a replaced grant and are dropped.
func (s *Source) commitPending(ctx context.Context, a *account) error {
	p := a.pending
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	err := s.store.Update(cctx, func(tx *sqlstore.Tx) error {
		return tx.ReplaceToken(p.prevRefreshEnc, p.row, s.clock.Now())
	})
	if err != nil && !errors.Is(err, sqlstore.ErrTokenChanged) {
		s.log.Error("refreshed token not saved; will retry on the next request", "account", p.row.AccountID, "err", err)
		return fmt.Errorf("save refreshed token of account %s: %w", p.row.AccountID, err)
	}
	a.pending = nil
	if err != nil {
		return fmt.Errorf("account %s logged in or out during a refresh; try again: %w", p.row.AccountID, err)
	}
	return nil
}

func expiry(now time.Time, tok *oauth2.Token) *time.Time {
	// Computed from expires_in with psnd's clock: x/oauth2 stamps Expiry
	// with time.Now, which tests cannot move.
	if tok.ExpiresIn > 0 {
		t := now.Add(time.Duration(tok.ExpiresIn) * time.Second)
		return &t
	}
	if !tok.Expiry.IsZero() {
		t := tok.Expiry
		return &t
	}
	return nil
}

// markReauth records that the account must log in again, and stops
// refreshing it: every later call fails at once without contacting X.
func (s *Source) markReauth(ctx context.Context, cur current, reason string) error {
	now := s.clock.Now()
	meta := cur.row.Meta
	meta.NeedsReauth, meta.ReauthReason, meta.ReauthAt = true, reason, &now
	if err := s.saveMeta(ctx, cur, meta); err != nil {
		return err
	}
	re := &ReauthError{AccountID: cur.row.AccountID, Username: cur.username, Reason: reason, Since: &now}
	if s.needs != nil {
		s.needs(re)
	}
	return re
}

func (s *Source) saveMeta(ctx context.Context, cur current, meta sqlstore.TokenMeta) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	err := s.store.Update(cctx, func(tx *sqlstore.Tx) error {
		return tx.SetTokenMeta(cur.row.AccountID, cur.row.RefreshEnc, meta, s.clock.Now())
	})
	if errors.Is(err, sqlstore.ErrTokenChanged) {
		return fmt.Errorf("%s logged in or out during a refresh; try again: %w", who(cur), err)
	}
	return err
}

func who(c current) string {
	if c.username != "" {
		return "@" + c.username
	}
	return "account " + c.row.AccountID
}

// updateProfile asks X who the token belongs to and records the account's
// username, name and subscription type. Best effort: failures are logged.
func (s *Source) updateProfile(ctx context.Context, accountID string, tok secrets.Secret) {
	if s.identify == nil || ctx.Err() != nil {
		return
	}
	ictx, cancel := context.WithTimeout(WithAccount(ctx, accountID), s.timeout)
	defer cancel()
	u, _, err := s.identify.Me(ictx, tok.Reveal())
	if err != nil {
		s.log.Warn("refresh account profile", "account", accountID, "err", err)
		return
	}
	if err := s.saveProfile(ctx, accountID, u); err != nil {
		s.log.Warn("refresh account profile", "account", accountID, "err", err)
	}
}

func (s *Source) saveProfile(ctx context.Context, accountID string, u xapi.User) error {
	if u.ID != accountID {
		return fmt.Errorf("X says the token of account %s belongs to %s", accountID, u.ID)
	}
	return s.store.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.UpsertAccount(post.Account{ID: u.ID, Username: u.Username, DisplayName: u.Name,
			SubscriptionType: u.SubscriptionType}, s.clock.Now())
	})
}
