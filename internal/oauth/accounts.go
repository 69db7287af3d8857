package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/textutil"
	"github.com/psnd/psnd/internal/xapi"
)

// AccountStatus is one account's login as `psnd auth status` shows it.
type AccountStatus struct {
	Account   post.Account
	LoggedIn  bool // has tokens
	ExpiresAt *time.Time
	Scopes    []string
	Meta      sqlstore.TokenMeta
	// Problems are one-line descriptions of what needs attention, each
	// saying what to do; empty when all is well.
	Problems []string
}

// NeedsReauth reports whether the account must log in again.
func (a AccountStatus) NeedsReauth() bool { return !a.LoggedIn || a.Meta.NeedsReauth }

// Status lists every connected account (the default first) with its
// login state. It needs no key: nothing is decrypted.
func (s *Source) Status(ctx context.Context) ([]AccountStatus, error) {
	var accts []post.Account
	var toks []sqlstore.Token
	err := s.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		if accts, err = tx.Accounts(); err != nil {
			return err
		}
		toks, err = tx.Tokens()
		return err
	})
	if err != nil {
		return nil, err
	}
	byID := map[string]sqlstore.Token{}
	for _, t := range toks {
		byID[t.AccountID] = t
	}
	out := make([]AccountStatus, 0, len(accts))
	for _, a := range accts {
		st := AccountStatus{Account: a}
		if t, ok := byID[a.ID]; ok {
			st.LoggedIn, st.ExpiresAt, st.Meta = true, t.ExpiresAt, t.Meta
			st.Scopes = strings.Fields(t.Scopes)
		}
		st.Problems = problems(st)
		out = append(out, st)
	}
	return out, nil
}

// AccountProblem returns the reason an account cannot post, or "" if its
// login looks fine (for `list` and a failed post's reason).
func (s *Source) AccountProblem(ctx context.Context, accountID string) (string, error) {
	all, err := s.Status(ctx)
	if err != nil {
		return "", err
	}
	for _, st := range all {
		if st.Account.ID == accountID && len(st.Problems) > 0 {
			return st.Problems[0], nil
		}
	}
	return "", nil
}

func problems(st AccountStatus) []string {
	var p []string
	switch {
	case !st.LoggedIn:
		p = append(p, "not logged in: run `psnd auth login`")
	case st.Meta.NeedsReauth:
		msg := "needs to log in again: " + st.Meta.ReauthReason
		if st.Meta.ReauthAt != nil {
			msg += " (since " + st.Meta.ReauthAt.UTC().Format(time.RFC3339) + ")"
		}
		p = append(p, msg+"; run `psnd auth login`")
	}
	if st.LoggedIn && !st.Meta.NeedsReauth && st.Meta.RefreshFailures > 0 {
		p = append(p, fmt.Sprintf("token refresh failing (%d attempts): %s", st.Meta.RefreshFailures, st.Meta.LastError))
	}
	if st.LoggedIn && len(st.Scopes) > 0 {
		var missing []string
		for _, sc := range Scopes {
			if !slices.Contains(st.Scopes, sc) {
				missing = append(missing, sc)
			}
		}
		if len(missing) > 0 {
			p = append(p, "missing scopes "+strings.Join(missing, " ")+": log in again and approve them")
		}
	}
	return p
}

// Account finds a connected account by id or username ("" is the default
// one), with the error sentence every command shows when there is none.
func (s *Source) Account(ctx context.Context, name string) (post.Account, error) {
	return s.lookup(ctx, name)
}

// lookup finds an account by id or username; "" is the default account.
func (s *Source) lookup(ctx context.Context, name string) (post.Account, error) {
	var a post.Account
	err := s.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		a, err = tx.Account(name)
		return err
	})
	if errors.Is(err, sqlstore.ErrNotFound) {
		if name == "" {
			return a, sqlstore.Explain(sqlstore.ErrNotFound, "no account is connected: run `psnd auth login`")
		}
		return a, sqlstore.Explain(sqlstore.ErrNotFound, "no connected account %q: `psnd auth status` lists the connected ones", name)
	}
	return a, err
}

// Verify checks that the account's login works by asking X who it is
// (GET /2/users/me), refreshing once if X answers 401, and records the
// account's current username and subscription type. "" is the default
// account.
func (s *Source) Verify(ctx context.Context, name string) (post.Account, error) {
	if s.identify == nil {
		return post.Account{}, errors.New("oauth: Verify needs an Identifier")
	}
	a, err := s.lookup(ctx, name)
	if err != nil {
		return a, err
	}
	tok, err := s.Token(ctx, a.ID)
	if err != nil {
		return a, err
	}
	mctx := WithAccount(ctx, a.ID)
	u, _, err := s.identify.Me(mctx, tok)
	if xapi.IsUnauthorized(err) {
		if tok, err = s.ForceRefresh(ctx, a.ID, tok); err != nil {
			return a, err
		}
		u, _, err = s.identify.Me(mctx, tok)
	}
	if err != nil {
		return a, fmt.Errorf("check the login of @%s with X: %w", a.Username, err)
	}
	if err := s.saveProfile(ctx, a.ID, u); err != nil {
		return a, err
	}
	return s.lookup(ctx, a.ID)
}

// LogoutResult reports a logout.
type LogoutResult struct {
	Account   post.Account
	HadTokens bool
	// Revoked says X confirmed the revocation; RevokeError says why not.
	Revoked     bool
	RevokeError string
}

// Logout deletes an account's tokens ("" = the default account) after
// revoking them at X, best effort: the local tokens go even when X cannot
// be reached. The account row and its posts stay. It waits for any
// refresh of the account in progress.
func (s *Source) Logout(ctx context.Context, name string) (LogoutResult, error) {
	a, err := s.lookup(ctx, name)
	if err != nil {
		return LogoutResult{}, err
	}
	res := LogoutResult{Account: a}
	acct := s.acct(a.ID)
	if err := acct.lock(ctx); err != nil {
		return res, fmt.Errorf("wait for token refresh: %w", err)
	}
	defer acct.unlock()
	acct.pending = nil

	var row sqlstore.Token
	err = s.store.View(ctx, func(tx *sqlstore.Tx) error {
		row, err = tx.Token(a.ID)
		return err
	})
	if errors.Is(err, sqlstore.ErrNotFound) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.HadTokens = true

	// Open the tokens before deleting them; revoking needs them.
	var access, refresh secrets.Secret
	var app App
	key, kerr := s.key()
	if kerr == nil {
		if access, kerr = openToken(key, a.ID, "access_token", row.AccessEnc); kerr == nil {
			refresh, kerr = openToken(key, a.ID, "refresh_token", row.RefreshEnc)
		}
	}
	if kerr == nil {
		app, kerr = LoadApp(ctx, s.store, s.keys, s.fallback)
	}

	if err := s.store.Update(context.WithoutCancel(ctx), func(tx *sqlstore.Tx) error {
		_, err := tx.DeleteToken(a.ID)
		return err
	}); err != nil {
		return res, err
	}
	if kerr != nil {
		res.RevokeError = "not revoked at X: " + kerr.Error()
		return res, nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	// The refresh token first: revoking it ends the whole grant at X.
	var errs []string
	for _, t := range []struct {
		tok  secrets.Secret
		hint string
	}{{refresh, "refresh_token"}, {access, "access_token"}} {
		if t.tok.IsZero() {
			continue
		}
		if err := s.revoke(rctx, app, t.tok, t.hint); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		res.RevokeError = strings.Join(errs, "; ")
		s.log.Warn("revoke at X failed; local tokens deleted", "account", a.ID, "err", res.RevokeError)
	} else {
		res.Revoked = true
	}
	return res, nil
}

// revoke calls X's revocation endpoint (RFC 7009): HTTP Basic for a
// confidential app, client_id in the body for a public one.
func (s *Source) revoke(ctx context.Context, app App, tok secrets.Secret, hint string) error {
	u, err := RevokeURL(s.tokenURL)
	if err != nil {
		return err
	}
	form := url.Values{"token": {tok.Reveal()}, "token_type_hint": {hint}}
	if !app.Confidential() {
		form.Set("client_id", app.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revoke %s: %w", hint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if app.Confidential() {
		// RFC 6749 §2.3.1: form-encode id and secret before Basic.
		req.SetBasicAuth(url.QueryEscape(app.ClientID), url.QueryEscape(app.Secret.Reveal()))
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("revoke %s: %s", hint, textutil.FirstLine(describe(err)))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	msg := fmt.Sprintf("revoke %s: X answered %d", hint, resp.StatusCode)
	if e.Error != "" {
		msg += " " + e.Error
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return errors.New(msg)
}
