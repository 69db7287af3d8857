// Package localapi is the daemon's HTTP API on its Unix socket (SPEC §7):
// routing, handlers, request decoding, conversion to the wire types of
// internal/api, long polls on posts, list streaming, the composition of a
// post's text and the import of its media files. It reads and writes the
// store and asks the scheduler to look again through Scheduler, a small
// interface of its own; it never reaches into publishing. The daemon
// (internal/daemon) builds a Server with its dependencies and serves
// Handler.
package localapi

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/doctor"
	"github.com/psnd/psnd/internal/idlegc"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/pricing"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// Scheduler is what the API asks of the publishing side: look at the
// queue again (a post was created, edited, cancelled or retried).
type Scheduler interface{ Kick() }

// Keys is the data key as the API sees it: its state for `health` and
// `doctor`, and the reset of a key that does not match the database.
type Keys interface {
	oauth.KeySource // logins and the X app seal their secrets with it
	Status() (api.Keyring, string)
	// Reset forgets what the database sealed with a lost key; it returns
	// ErrKeyFine when the key matches and there is nothing to reset.
	Reset(ctx context.Context) error
	DoctorState() doctor.DaemonKey
}

// XClient is the part of X the API calls itself: deleting published
// tweets.
// acct is the account the request is for: every request to X is counted
// (SPEC §9).
type XClient interface {
	DeleteTweet(ctx context.Context, acct, token, id string) (xapi.RateLimit, error)
}

// TokenSource hands out access tokens for an account.
type TokenSource interface {
	Token(ctx context.Context, accountID string) (string, error)
}

// Config holds a Server's dependencies.
type Config struct {
	Store  *sqlstore.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Env is the daemon's environment (home, time zone, the callback
	// address and X app logins use).
	Env     config.Config
	Version string
	Sandbox bool
	DataDir string    // $PSN_HOME, or $PSN_HOME/sandbox
	Started time.Time // when the daemon started
	Keys    Keys
	Auth    *Auth
	X       XClient
	Tokens  TokenSource
	// Scheduler is kicked on every change to a post; nil kicks nothing.
	Scheduler Scheduler
	// RequestEnd, if set, is called as each handler returns.
	RequestEnd func()
	// Budget is the monthly budget (SPEC §9); nil: none, and a command's
	// PSN_MONTHLY_BUDGET is ignored.
	Budget Budget
}

// Budget is the daemon's monthly budget, as the local API sees it.
type Budget interface {
	// Adopt takes the PSN_MONTHLY_BUDGET a command brought
	// (api.BudgetHeader).
	Adopt(ctx context.Context, value string) error
	// Budget is the budget in force in dollars; ok false when none.
	Budget() (usd float64, ok bool)
	// Estimate is the month's estimated cost as the budget measures it.
	Estimate() float64
	// UsePrices gives the budget the price table `psnd usage` just read
	// from $PSN_HOME/prices.json, so that the cost usage shows is the one
	// the budget measures.
	UsePrices(pricing.Table)
}

// Server answers the local API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	clock   clock.Clock
	store   *sqlstore.Store
	keys    Keys
	auth    *Auth
	x       XClient
	tokens  TokenSource
	sched   Scheduler
	started time.Time
	dataDir string
	changes *changes
	media   *mediaFiles
	mem     *memRelease // returns memory once the API is quiet (memory.go)
	handler http.Handler
	// routeList is every "METHOD /path" the API serves (routes).
	routeList []string

	gone     dbGone      // the database file was lost (dbgone.go)
	reqs     *requests   // running handlers (shutdown.go)
	stopping atomic.Bool // shutdown has begun
}

// New builds a Server; it does no I/O (Start does).
func New(c Config) *Server {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	s := &Server{cfg: c, log: c.Logger, clock: c.Clock, store: c.Store, keys: c.Keys, auth: c.Auth,
		x: c.X, tokens: c.Tokens, sched: c.Scheduler, started: c.Started, dataDir: c.DataDir,
		changes: newChanges(), reqs: newRequests(),
		media: newMediaFiles(filepath.Join(c.DataDir, "media"), c.Store, c.Logger)}
	s.handler = s.routes()
	return s
}

// Start tidies what an earlier run left in the media directory, drops the
// wire forms another psnd's encoding stored, and arms the quiet-time work
// (memory.go), which stores the wire forms of posts an older psnd, an
// import or the scheduler left stale.
func (s *Server) Start(ctx context.Context) {
	s.media.startup(ctx)
	s.useWireFormat(ctx)
	s.mem.arm()
}

// Handler is the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Notify wakes every reader long-polling a post: publishing changed one.
// It also arms the quiet-time release (memory.go), as a request does:
// publishing runs code and allocates memory the API never sees (a
// publish with nothing else faulted 8 MB of the executable back in), and
// without a request to follow, the daemon would keep it all while idle.
func (s *Server) Notify() {
	idlegc.Wake() // publishing is work: the collector runs as the user set it
	s.changes.notify()
	s.mem.arm()
}

// SetUpload records a media upload's progress for readers of the post.
func (s *Server) SetUpload(id, sent, total int64) { s.changes.setUpload(id, sent, total) }

// Stop begins shutdown: readers waiting on a post answer that psnd is
// shutting down, and errors from requests the daemon cancelled say so.
func (s *Server) Stop() { s.stopping.Store(true) }

// Drain refuses new requests and returns a channel closed once no
// handler runs.
func (s *Server) Drain() <-chan struct{} { return s.reqs.close() }

// Active is the number of handlers running.
func (s *Server) Active() int { return s.reqs.active() }
