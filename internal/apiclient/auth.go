package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// App returns the X app the daemon logs in with.
func (c *Client) App(ctx context.Context) (api.App, error) {
	var a api.App
	err := c.send(ctx, http.MethodGet, api.PathApp, nil, nil, &a)
	return a, err
}

// SetApp stores the X app's credentials (secret "" = public client).
func (c *Client) SetApp(ctx context.Context, req api.SetAppRequest) (api.SetAppResult, error) {
	var a api.SetAppResult
	err := c.send(ctx, http.MethodPut, api.PathApp, nil, req, &a)
	return a, err
}

// AuthStatus returns every account's login.
func (c *Client) AuthStatus(ctx context.Context) (api.AuthStatus, error) {
	var s api.AuthStatus
	err := c.send(ctx, http.MethodGet, api.PathAuthStatus, nil, nil, &s)
	return s, err
}

// StartLogin begins a login in the daemon.
func (c *Client) StartLogin(ctx context.Context, req api.LoginRequest) (api.Login, error) {
	var l api.Login
	err := c.send(ctx, http.MethodPost, api.PathAuthLogin, nil, req, &l)
	return l, err
}

// WaitLogin returns the login once its version exceeds after, it ends, or
// wait passes (the daemon caps it); wait 0 returns at once.
func (c *Client) WaitLogin(ctx context.Context, id string, after int, wait time.Duration) (api.Login, error) {
	q := url.Values{}
	if wait > 0 {
		q.Set("after", strconv.Itoa(after))
		q.Set("wait", wait.String())
	}
	var l api.Login
	err := c.send(ctx, http.MethodGet, loginPath(api.PathLogin, id), q, nil, &l)
	return l, err
}

// SubmitLoginCode hands the daemon what the user pasted.
func (c *Client) SubmitLoginCode(ctx context.Context, id, input string) (api.Login, error) {
	var l api.Login
	err := c.send(ctx, http.MethodPost, loginPath(api.PathLoginCode, id), nil, api.LoginCodeRequest{Input: input}, &l)
	return l, err
}

// CancelLogin ends a login.
func (c *Client) CancelLogin(ctx context.Context, id string) (api.Login, error) {
	var l api.Login
	err := c.send(ctx, http.MethodDelete, loginPath(api.PathLogin, id), nil, nil, &l)
	return l, err
}

// Logout revokes and deletes an account's tokens ("" = the default).
func (c *Client) Logout(ctx context.Context, account string) (api.LogoutResult, error) {
	var r api.LogoutResult
	err := c.send(ctx, http.MethodPost, api.PathAuthLogout, nil, api.LogoutRequest{Account: account}, &r)
	return r, err
}

// VerifyAccount asks X, through the daemon, who the account's token
// belongs to ("" = the default account).
func (c *Client) VerifyAccount(ctx context.Context, account string) (api.Account, error) {
	var a api.Account
	err := c.send(ctx, http.MethodPost, api.PathAuthVerify, nil, api.VerifyRequest{Account: account}, &a)
	return a, err
}

func loginPath(pattern, id string) string {
	return strings.Replace(pattern, "{id}", url.PathEscape(id), 1)
}
