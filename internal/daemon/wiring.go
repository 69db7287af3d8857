package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/publishing"
	"github.com/psnd/psnd/internal/xapi"
)

// xEdge is how the daemon reaches X, chosen once before anything is built:
// the HTTP client every request to X goes through (nil: the network, with
// timeouts) and the access-token source (nil: the logins' own, which needs
// the data key).
type xEdge struct {
	http   *http.Client
	tokens publishing.TokenSource
}

// chooseX picks the daemon's X: the one the config gives or, in the
// sandbox, the built-in fake with tokens it issues itself.
func chooseX(cfg Config, clk clock.Clock, log *slog.Logger) xEdge {
	e := xEdge{http: cfg.XHTTPClient, tokens: cfg.Tokens}
	if cfg.Sandbox {
		fx := sandboxX(clk, log)
		e.http = &http.Client{Transport: fx.Transport()}
		if e.tokens == nil {
			e.tokens = &sandboxTokens{x: fx, tok: map[string]string{}}
		}
	}
	return e
}

// sleeper is a clock that can also wait; a fake clock in tests advances
// itself. X's media-processing polls wait on it when the clock is one.
type sleeper interface {
	Sleep(ctx context.Context, d time.Duration) error
}

// newXClient builds the one X API client the daemon uses: for logins
// (identifying the account) and for publishing.
func (d *Daemon) newXClient(e xEdge) (*xapi.Client, error) {
	hc := e.http
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute, Transport: xTransport(d.cfg.Workers)}
	}
	var sleep func(ctx context.Context, d time.Duration) error
	if s, ok := d.clock.(sleeper); ok {
		sleep = s.Sleep
	}
	return xapi.New(xapi.Config{BaseURL: d.cfg.Env.APIURL, HTTPClient: hc, Logger: d.log, Clock: d.clock,
		Sleep: sleep, UserAgent: "psnd/" + d.cfg.Version})
}

// xTransport is the default transport with room to keep a connection to X
// open for each publish worker. http.DefaultTransport keeps 2 idle
// connections per host and closes the rest as each answer is read: in a
// burst of creates, each worker's next request then dialled (and, to
// api.x.com, shook hands over TLS) again, for every post.
func xTransport(workers int) *http.Transport {
	if workers <= 0 {
		workers = publishing.DefaultWorkers
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(workers, t.MaxIdleConnsPerHost)
	t.MaxIdleConns = max(workers, t.MaxIdleConns)
	return t
}

// setupX builds the publisher and the scheduler around the X client.
func (d *Daemon) setupX(e xEdge, xc *xapi.Client) {
	d.x = xc
	d.tokens = e.tokens
	// Tokens of the logins' own source are sealed with the data key:
	// nothing is published before it is readable. Others (the sandbox's)
	// need no key.
	d.tokensNeedKey = d.tokens == nil
	if d.tokens == nil {
		d.tokens = d.auth.Tokens
	}
	al := d.cfg.Alarm
	if al == nil {
		al = publishing.NewSystemAlarm(d.clock.Now, d.log)
	}
	notices := d.notices
	if d.cfg.hooks.notifier != nil {
		notices = d.cfg.hooks.notifier // a test hears every notice
	}
	d.sched = publishing.New(publishing.Config{
		Store: d.store, Clock: d.clock, X: d.x, Tokens: d.tokens, Alarm: al, Owner: d.owner,
		Lease: 5 * time.Minute, Lead: claimLead, Workers: d.cfg.Workers, Logger: d.log, Rand: d.cfg.Rand,
		Ready: d.waitForKey, Notifier: notices, Preflight: d.cfg.Env.Preflight, Budget: d.budget.b,
		// d.api is built after the scheduler and before either runs.
		Changed:  func(int64) { d.api.Notify() },
		Progress: func(id, sent, total int64) { d.api.SetUpload(id, sent, total); d.api.Notify() },
	})
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
	if !d.tokensNeedKey {
		return nil
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
