package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/localapi"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// sandboxX is the sandbox's X: the built-in fake, in process (no network),
// knowing the @sandbox account. The fake keeps its state in memory: posts
// published before a restart are not known to the next one.
func sandboxX(clk clock.Clock, log *slog.Logger) *fakex.Server {
	fx := fakex.New(fakex.Options{Clock: clk, Logger: log.With("component", "sandbox-x")})
	fx.AddUser(fakex.User{ID: localapi.SandboxUserID, Username: localapi.SandboxUsername, Name: "psnd sandbox"})
	return fx
}

// seedSandbox connects the @sandbox account in the sandbox's database.
func (d *Daemon) seedSandbox(ctx context.Context) error {
	err := d.store.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.UpsertAccount(post.Account{ID: localapi.SandboxUserID, Username: localapi.SandboxUsername, DisplayName: "psnd sandbox"}, d.clock.Now())
	})
	if err != nil {
		return fmt.Errorf("create sandbox account: %w", err)
	}
	d.log.Info("sandbox: publishing to a built-in offline X as @" + localapi.SandboxUsername)
	return nil
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
