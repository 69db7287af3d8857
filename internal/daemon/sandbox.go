package daemon

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// The sandbox account: a fixed X-style id so that its posts keep their
// owner across restarts.
const (
	sandboxUserID   = "1000000000000000001"
	sandboxUsername = "sandbox"
)

// setupSandbox replaces X with the built-in fake, in process (no network),
// and connects the @sandbox account. The fake keeps its state in memory:
// posts published before a restart are not known to the next one.
func (d *Daemon) setupSandbox(ctx context.Context) error {
	fx := fakex.New(fakex.Options{Clock: d.clock, Logger: d.log.With("component", "sandbox-x")})
	fx.AddUser(fakex.User{ID: sandboxUserID, Username: sandboxUsername, Name: "psnd sandbox"})
	d.cfg.XHTTPClient = &http.Client{Transport: fx.Transport()}
	if d.cfg.Tokens == nil {
		d.cfg.Tokens = &sandboxTokens{x: fx, tok: map[string]string{}}
	}
	err := d.store.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.UpsertAccount(post.Account{ID: sandboxUserID, Username: sandboxUsername, DisplayName: "psnd sandbox"}, d.clock.Now())
	})
	if err != nil {
		return fmt.Errorf("create sandbox account: %w", err)
	}
	d.log.Info("sandbox: publishing to a built-in offline X as @" + sandboxUsername)
	return nil
}

// sandboxStatus is @sandbox's login as `auth status` shows it: always
// logged in, since the sandbox's tokens come from its fake X on demand and
// are never stored (so the stored-token view would call it logged out).
func (d *Daemon) sandboxStatus(a api.Account) api.AccountStatus {
	since := d.started.UTC()
	return api.AccountStatus{Account: a, LoggedIn: true, LoggedInAt: &since,
		Scopes: slices.Clone(oauth.Scopes), Problems: []string{}}
}

// sandboxVerify is Verify in the sandbox: it asks the fake X who @sandbox's
// token belongs to, with a token from the sandbox's own source.
func (d *Daemon) sandboxVerify(ctx context.Context, name string) (post.Account, error) {
	var a post.Account
	err := d.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		a, err = tx.Account(name)
		return err
	})
	if err != nil {
		return a, fmt.Errorf("find account %q: %w", name, err)
	}
	tok, err := d.tokens.Token(ctx, a.ID)
	if err != nil {
		return a, err
	}
	u, _, err := d.auth.x.Me(ctx, tok)
	if err != nil {
		return a, fmt.Errorf("check @%s with the sandbox's X: %w", a.Username, err)
	}
	if u.ID != a.ID {
		return a, fmt.Errorf("the sandbox's X says the token of @%s is @%s's", a.Username, u.Username)
	}
	return a, nil
}

// sandboxConflict refuses what the sandbox has no use for, saying why.
func sandboxConflict(msg string) *api.Error {
	return &api.Error{Code: api.CodeConflict, Status: http.StatusConflict, Message: msg}
}

// sandboxTokens issues access tokens from the fake X directly: the sandbox
// has no login to perform.
type sandboxTokens struct {
	x   *fakex.Server
	mu  sync.Mutex
	tok map[string]string
}

func (s *sandboxTokens) Token(_ context.Context, account string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tok[account]; ok {
		return t, nil
	}
	return s.issue(account)
}

func (s *sandboxTokens) ForceRefresh(_ context.Context, account, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tok[account]; t != "" && t != stale {
		return t, nil
	}
	return s.issue(account)
}

func (s *sandboxTokens) issue(account string) (string, error) {
	a, _, _, err := s.x.IssueToken(account)
	if err != nil {
		return "", fmt.Errorf("sandbox token for %s: %w", account, err)
	}
	s.tok[account] = a
	return a, nil
}
