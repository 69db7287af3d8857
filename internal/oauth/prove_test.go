package oauth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestProveRefreshesEvenAValidToken: a token that is valid locally proves
// nothing; Prove sends a real refresh, and a revoked grant is found at
// once and marks the account as needing a login, without retries; a
// login clears it and is heard by LoggedIn.
func TestProveRefreshesEvenAValidToken(t *testing.T) {
	e := newEnv(t, envOpts{})
	var heard []string
	e.logins.cfg.LoggedIn = func(id string) { heard = append(heard, id) }
	e.login()
	if len(heard) != 1 || heard[0] != testUserID {
		t.Fatalf("LoggedIn heard %v", heard)
	}
	ctx := context.Background()
	a1, _ := e.opened(testUserID)
	if err := e.src.Prove(ctx, testUserID); err != nil {
		t.Fatal(err)
	}
	if s := e.x.Stats(); s.Refreshes != 1 {
		t.Fatalf("refreshes %d, want 1 for a token valid for two hours", s.Refreshes)
	}
	a2, _ := e.opened(testUserID)
	if a2 == a1 {
		t.Fatal("the proven token was not stored")
	}
	// The proven token is then served without another request.
	e.clk.Advance(90 * time.Minute)
	if tok, err := e.src.Token(ctx, testUserID); err != nil || tok != a2 {
		t.Fatalf("token after prove: %v", err)
	}

	e.x.RevokeUserTokens(testUserID)
	err := e.src.Prove(ctx, testUserID)
	if !errors.Is(err, ErrNeedsReauth) || !strings.Contains(err.Error(), "invalid_request") {
		t.Fatalf("revoked: %v", err)
	}
	if m := e.meta(testUserID); !m.NeedsReauth {
		t.Fatalf("meta %+v: not marked", m)
	}
	for range 3 {
		if err := e.src.Prove(ctx, testUserID); !errors.Is(err, ErrNeedsReauth) {
			t.Fatalf("again: %v", err)
		}
	}
	if s := e.x.Stats(); s.RejectedRefreshes != 1 || len(e.sleeps) != 0 {
		t.Fatalf("stats %+v, sleeps %v: a refused grant is asked once", s, e.sleeps)
	}
	e.login()
	if err := e.src.Prove(ctx, testUserID); err != nil {
		t.Fatalf("after login: %v", err)
	}
	if len(heard) != 2 {
		t.Fatalf("LoggedIn heard %v", heard)
	}
}
