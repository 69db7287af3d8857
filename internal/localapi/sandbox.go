package localapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// The sandbox account: a fixed X-style id so that its posts keep their
// owner across restarts. The daemon creates it; the API shows it logged in.
const (
	SandboxUserID   = "1000000000000000001"
	SandboxUsername = "sandbox"
)

// sandboxStatus is @sandbox's login as `auth status` shows it: always
// logged in, since the sandbox's tokens come from its fake X on demand and
// are never stored (so the stored-token view would call it logged out).
func (s *Server) sandboxStatus(a api.Account) api.AccountStatus {
	since := s.started.UTC()
	return api.AccountStatus{Account: a, LoggedIn: true, LoggedInAt: &since,
		Scopes: slices.Clone(oauth.Scopes), Problems: []string{}}
}

// sandboxVerify is Verify in the sandbox: it asks the fake X who @sandbox's
// token belongs to, with a token from the sandbox's own source.
func (s *Server) sandboxVerify(ctx context.Context, name string) (post.Account, error) {
	var a post.Account
	err := s.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		a, err = tx.Account(name)
		return err
	})
	if err != nil {
		return a, fmt.Errorf("find account %q: %w", name, err)
	}
	tok, err := s.tokens.Token(ctx, a.ID)
	if err != nil {
		return a, err
	}
	u, _, err := s.auth.X.Me(ctx, tok)
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
