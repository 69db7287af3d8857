package daemon

import (
	"context"
	"net/http"
	"time"

	"github.com/psnd/psnd/internal/localapi"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/xapi"
)

// setupAuth builds the token source and the login manager, reaching X's
// token endpoint through hc (nil: the network) and its API through xc.
// Logins end (and their callback listeners close) when ctx ends.
func (d *Daemon) setupAuth(ctx context.Context, hc *http.Client, xc *xapi.Client) error {
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	// X_CLIENT_ID/X_CLIENT_SECRET in the daemon's own environment are used
	// only while no app is stored (`psnd setup` stores the CLI's).
	// Every GET /2/users/me is counted (SPEC §9).
	me := countingMe{x: xc, c: d.budget.b, d: d}
	fallback := oauth.App{ClientID: d.cfg.Env.ClientID, Secret: secrets.NewSecret(d.cfg.Env.ClientSecret)}
	tokens, err := oauth.NewSource(oauth.SourceConfig{
		Store: d.store, Keys: d.keys, HTTPClient: hc, TokenURL: d.cfg.Env.TokenURL, Identify: me,
		FallbackApp: fallback, Clock: d.clock, Logger: d.log,
		NeedsLogin: func(re *oauth.ReauthError) { d.notices.Notify(needsLoginNotice(re)) },
	})
	if err != nil {
		return err
	}
	logins, err := oauth.NewLogins(oauth.LoginsConfig{
		Store: d.store, Keys: d.keys, HTTPClient: hc,
		Endpoints:    oauth.Endpoints{AuthURL: d.cfg.Env.AuthURL, TokenURL: d.cfg.Env.TokenURL},
		CallbackAddr: d.cfg.Env.CallbackAddr, Identify: me, FallbackApp: fallback,
		OpenBrowser: d.cfg.OpenBrowser, Clock: d.clock, Logger: d.log, CallbackTimeout: d.cfg.LoginTimeout,
		// A new login may clear posts pre-flight found at risk.
		LoggedIn: func(id string) {
			if d.sched != nil {
				d.sched.Recheck(id)
			}
		},
	})
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, logins.Close)
	d.auth = &localapi.Auth{Tokens: tokens, Logins: logins, X: me}
	return nil
}
