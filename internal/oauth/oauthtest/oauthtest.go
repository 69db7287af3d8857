// Package oauthtest seeds a finished login into a psnd database, for tests
// and benchmarks that run the daemon with its real token source against
// the fake X. Imported only by tests.
package oauthtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

// fixedKey hands oauth the data key the test holds.
type fixedKey struct{ k secrets.Key }

func (f fixedKey) Key() (secrets.Key, error) { return f.k, nil }

// SeedLogin connects user in s as a finished `psnd auth login` would: the
// key check of key, app credentials for clientID (registered with x), and
// tokens x issued, sealed with key.
func SeedLogin(tb testing.TB, s *sqlstore.Store, key secrets.Key, x *fakex.Server, user fakex.User, clientID string) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error { return tx.SetKeyCheck(secrets.KeyCheck(key), now) }); err != nil {
		tb.Fatal(err)
	}
	x.AddClient(clientID, "", "http://127.0.0.1:18923/callback")
	if _, err := oauth.SaveApp(ctx, s, fixedKey{key}, oauth.App{ClientID: clientID}, now); err != nil {
		tb.Fatal(err)
	}
	access, refresh, exp, err := x.IssueToken(user.ID)
	if err != nil {
		tb.Fatal(err)
	}
	iss := oauth.Issued{Access: secrets.NewSecret(access), Refresh: secrets.NewSecret(refresh), TokenType: "bearer",
		ExpiresAt: &exp, Scopes: strings.Join(oauth.Scopes, " ")}
	if err := oauth.SaveLogin(ctx, s, fixedKey{key}, post.Account{ID: user.ID, Username: user.Username}, iss, now); err != nil {
		tb.Fatal(err)
	}
}
