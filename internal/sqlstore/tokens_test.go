package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

func TestTokenLifecycle(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	exp := now.Add(2 * time.Hour)

	err := s.View(ctx, func(tx *Tx) error {
		_, err := tx.Token("7")
		return err
	})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing token: err = %v, want ErrNotFound", err)
	}

	login := Token{AccountID: "7", AccessEnc: []byte("sealed-a1"), RefreshEnc: []byte("sealed-r1"),
		ExpiresAt: &exp, Scopes: "tweet.read offline.access", Meta: TokenMeta{ObtainedAt: &now}}
	err = s.Update(ctx, func(tx *Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: "7", Username: "alice"}, now); err != nil {
			return err
		}
		return tx.PutToken(login, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got Token
	s.View(ctx, func(tx *Tx) error { got, err = tx.Token("7"); return err })
	if err != nil || !bytes.Equal(got.AccessEnc, login.AccessEnc) || !bytes.Equal(got.RefreshEnc, login.RefreshEnc) ||
		!got.ExpiresAt.Equal(exp) || got.TokenType != "bearer" || got.Meta.ObtainedAt == nil || !got.Meta.ObtainedAt.Equal(now) {
		t.Fatalf("read back %+v, %v", got, err)
	}

	// A refresh that presented r1 replaces the row.
	later := now.Add(time.Hour)
	refreshed := login
	refreshed.AccessEnc, refreshed.RefreshEnc = []byte("sealed-a2"), []byte("sealed-r2")
	refreshed.Meta.LastRefreshAt = &later
	if err := s.Update(ctx, func(tx *Tx) error { return tx.ReplaceToken([]byte("sealed-r1"), refreshed, later) }); err != nil {
		t.Fatal(err)
	}
	// A second refresh that still thinks r1 is current is refused, and so
	// is a metadata update made against r1.
	stale := refreshed
	stale.AccessEnc, stale.RefreshEnc = []byte("sealed-a3"), []byte("sealed-r3")
	err = s.Update(ctx, func(tx *Tx) error { return tx.ReplaceToken([]byte("sealed-r1"), stale, later) })
	if !errors.Is(err, ErrTokenChanged) {
		t.Fatalf("stale replace: err = %v, want ErrTokenChanged", err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		return tx.SetTokenMeta("7", []byte("sealed-r1"), TokenMeta{NeedsReauth: true}, later)
	})
	if !errors.Is(err, ErrTokenChanged) {
		t.Fatalf("stale meta: err = %v, want ErrTokenChanged", err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		return tx.SetTokenMeta("7", []byte("sealed-r2"), TokenMeta{NeedsReauth: true, ReauthReason: "refused"}, later)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(ctx, func(tx *Tx) error { got, err = tx.Token("7"); return err })
	if !bytes.Equal(got.AccessEnc, []byte("sealed-a2")) || !got.Meta.NeedsReauth || got.Meta.ReauthReason != "refused" {
		t.Fatalf("after meta: %+v", got)
	}

	// No refresh token: NULL, matched by a nil previous value.
	noRefresh := Token{AccountID: "7", AccessEnc: []byte("sealed-a4")}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.PutToken(noRefresh, later) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.SetTokenMeta("7", nil, TokenMeta{}, later) }); err != nil {
		t.Fatalf("meta against NULL refresh token: %v", err)
	}
	s.View(ctx, func(tx *Tx) error { got, err = tx.Token("7"); return err })
	if got.RefreshEnc != nil || got.ExpiresAt != nil || got.Meta.NeedsReauth {
		t.Fatalf("re-login did not replace: %+v", got)
	}

	var deleted bool
	s.Update(ctx, func(tx *Tx) error { deleted, err = tx.DeleteToken("7"); return err })
	if err != nil || !deleted {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	var accts []post.Account
	s.View(ctx, func(tx *Tx) error { accts, err = tx.Accounts(); return err })
	if len(accts) != 1 {
		t.Fatalf("logout removed the account: %v", accts)
	}
	var all []Token
	s.View(ctx, func(tx *Tx) error { all, err = tx.Tokens(); return err })
	if err != nil || len(all) != 0 {
		t.Fatalf("tokens after delete: %v %v", all, err)
	}
}
