package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/publishing"
	"github.com/psnd/psnd/internal/xapi"
)

// setupX builds the X client, the publisher and the scheduler.
func (d *Daemon) setupX() error {
	hc := d.cfg.XHTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	xc, err := xapi.New(xapi.Config{BaseURL: d.cfg.Env.APIURL, HTTPClient: hc, Logger: d.log, Clock: d.clock,
		Sleep: d.cfg.XSleep, UserAgent: "psnd/" + d.cfg.Version})
	if err != nil {
		return err
	}
	d.x = xc
	d.tokens = d.cfg.Tokens
	if d.tokens == nil && d.auth != nil {
		d.tokens = d.auth.Tokens
	}
	if d.tokens == nil {
		d.tokens = noLogin{}
	}
	al := d.cfg.Alarm
	if al == nil {
		al = publishing.NewSystemAlarm(d.clock.Now, d.log)
	}
	d.sched = publishing.New(publishing.Config{
		Store: d.store, Clock: d.clock, X: d.x, Tokens: d.tokens, Alarm: al, Owner: d.owner,
		Lease: 5 * time.Minute, Lead: claimLead, Workers: d.cfg.Workers, Logger: d.log, Rand: d.cfg.Rand,
		Ready: d.waitForKey, OnArm: d.cfg.OnArm,
		// d.api is built after the scheduler and before either runs.
		Changed:  func(int64) { d.api.Notify() },
		Progress: func(id, sent, total int64) { d.api.SetUpload(id, sent, total); d.api.Notify() },
	})
	return nil
}

// claimLead is how early the scheduler claims a post: enough for the claim
// and the send mark (two commits, each with an fsync that can take tens of
// milliseconds on a busy disk) to be done when the post is due, so that
// only the request itself remains. Edits in that last moment are refused
// as for any post being published.
const claimLead = 100 * time.Millisecond

// waitForKey blocks until the data key is readable: nothing is published
// while the keyring is locked (tokens cannot be decrypted), and posts that
// fell due meanwhile go out as soon as it unlocks.
func (d *Daemon) waitForKey(ctx context.Context) error {
	if d.cfg.Tokens != nil {
		return nil // tests with their own token source need no key
	}
	for {
		ch := d.keys.changed()
		if _, err := d.keys.Key(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// noLogin is the token source until the login component is wired: every
// account needs to log in.
type noLogin struct{}

func (noLogin) Token(context.Context, string) (string, error) {
	return "", fmt.Errorf("no login component: %w", oauth.ErrNeedsReauth)
}

func (noLogin) ForceRefresh(context.Context, string, string) (string, error) {
	return "", fmt.Errorf("no login component: %w", oauth.ErrNeedsReauth)
}
