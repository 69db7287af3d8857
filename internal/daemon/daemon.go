// Package daemon is psnd's long-running process, its lifecycle and wiring
// only: the lock, the data directory and the database, the data key's
// binding (keys.go), the Unix socket and its peer check (listen.go), the
// sandbox (a choice of fake X and tokens), the watch for a lost database
// file and the shutdown order. What it serves is internal/localapi; what it
// publishes is internal/publishing. Run is the whole lifecycle; main only
// wires signals to its context.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/desktop"
	"github.com/psnd/psnd/internal/localapi"
	"github.com/psnd/psnd/internal/publishing"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

// Config holds the daemon's settings and its edges to the outside world.
// Every edge left nil is the real one; a test passes a fake for it, and
// the sandbox is a choice of edges (chooseX), not a rewrite of this.
type Config struct {
	Env     config.Config
	Version string
	Logger  *slog.Logger
	Sandbox bool
	// ShutdownTimeout bounds how long the local API's connections may take
	// to wind down at shutdown (their requests are cancelled at once);
	// after it they are closed. The store still waits for the handlers.
	ShutdownTimeout time.Duration
	// Ready, if set, is called once the socket accepts connections.
	Ready func()
	// Workers bounds how many posts are published at once.
	Workers int
	// OpenBrowser opens a login's authorize URL when an API client asks
	// the daemon to (the CLI opens it itself); main wires pkg/browser.
	OpenBrowser func(url string) error
	// LoginTimeout is how long a login's callback listener waits for the
	// browser before falling back to a pasted URL; default 2 minutes.
	LoginTimeout time.Duration
	// KeyBackoff spaces keyring retries while it is locked.
	KeyBackoff secrets.Backoff

	// Clock is the wall clock; nil is the system's. A clock that also has
	// Sleep(ctx, d) paces the polls of X's media processing.
	Clock clock.Clock
	// Keyring holds the data key; nil is the one Env.KeyringMode names
	// (in the sandbox, a file).
	Keyring secrets.Keyring
	// XHTTPClient carries every request to X (API and OAuth); nil is a
	// client with sensible timeouts, and the sandbox's X in the sandbox.
	XHTTPClient *http.Client
	// Tokens is the access-token source; nil is the logins' own (or, in
	// the sandbox, tokens its X issues).
	Tokens publishing.TokenSource
	// Alarm wakes the scheduler at a wall-clock time; nil is the system's.
	Alarm publishing.Alarm
	// Rand is the jitter source for retry delays; nil is random.
	Rand func() float64
	// Reload receives a value on SIGHUP: the daemon re-reads the price
	// file and looks at posts held by the budget again. nil: never.
	Reload <-chan struct{}

	hooks testHooks
}

// testHooks let tests of this package watch the lifecycle from inside.
type testHooks struct {
	started      func(*Daemon) // the daemon is built, before it serves
	storeClosing func()        // just before the store is closed
	requestEnd   func()        // as a local API handler returns
	notifier     publishing.Notifier
}

// Daemon is a running psnd daemon.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	clock   clock.Clock
	store   *sqlstore.Store
	keys    *keys
	started time.Time
	owner   string // this run's lease-holder id
	dataDir string // $PSN_HOME, or $PSN_HOME/sandbox
	sched   *publishing.Scheduler
	x       publishing.XClient
	tokens  publishing.TokenSource
	auth    *localapi.Auth // logins and the token source (auth.go)
	// tokensNeedKey: the token source is the logins' own, sealed with the
	// data key (see waitForKey).
	tokensNeedKey bool
	api           *localapi.Server
	budget        *budgetKeeper
	// desktop shows notices on the desktop (notify.go); notices is what
	// publishing and the logins call.
	desktop *desktop.Notifier
	notices publishing.Notifier
}

// errShuttingDown is the cause of every request context's cancellation at
// shutdown. http.Server.Shutdown cancels nothing itself: without it a
// client long-polling `post --now` held SIGTERM for the whole shutdown
// timeout.
var errShuttingDown = errors.New("psnd is shutting down")

// keySettle bounds how long a start waits for the data key before it
// answers requests (a locked keyring is waited for in the background).
const keySettle = time.Second

// Run starts the daemon and blocks until ctx is cancelled (SIGINT/SIGTERM)
// or a fatal error occurs. Shutdown order: stop accepting, let in-flight
// requests finish, stop background work, close the store last.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	log := cfg.Logger
	home := cfg.Env.Home

	if err := ensureHome(home, log); err != nil {
		return err
	}
	lock, err := acquireLock(home, cfg.Env.LockPath())
	if err != nil {
		return err
	}
	defer lock.release()

	// The sandbox keeps its own database and key under $PSN_HOME/sandbox,
	// so trying psnd never touches real accounts or posts; the socket and
	// lock stay where every client looks.
	dataDir := home
	if cfg.Sandbox {
		dataDir = cfg.Env.SandboxDir()
		if err := ensureHome(dataDir, log); err != nil {
			return err
		}
	}
	dbPath := filepath.Join(dataDir, filepath.Base(cfg.Env.DBPath()))
	// A directory that had a database and lost it must not quietly get an
	// empty one (posts and logins gone): see sqlstore/identity.go.
	if err := sqlstore.CheckPresent(dbPath); err != nil {
		return err
	}
	store, err := sqlstore.Open(ctx, dbPath, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer func() {
		if cfg.hooks.storeClosing != nil {
			cfg.hooks.storeClosing()
		}
		if err := store.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "applied", applied)
	}
	if err := sqlstore.MarkInitialized(dbPath, cfg.Clock.Now()); err != nil {
		log.Warn("cannot record that this data directory has a database", "err", err)
	}

	kr := cfg.Keyring
	keyMode := cfg.Env.KeyringMode
	switch {
	case kr != nil:
	case cfg.Sandbox:
		// Nothing secret lives in the sandbox: its key is a file.
		kr, keyMode = secrets.NewFile(dataDir), "file"
	default:
		if kr, err = secrets.KeyringFromEnv(cfg.Env.KeyringMode, home); err != nil {
			return err
		}
	}
	if cfg.Env.KeyringMode == "file" && !cfg.Sandbox {
		log.Warn("PSN_KEYRING=file: the data key is kept in a file, not the OS keyring", "path", cfg.Env.MasterKeyPath())
	}
	k, err := newKeys(kr, dataDir, keyMode, store, cfg.Clock, cfg.KeyBackoff, log)
	if err != nil {
		return err
	}

	d := &Daemon{cfg: cfg, log: log, clock: cfg.Clock, store: store, keys: k, started: cfg.Clock.Now(),
		owner: fmt.Sprintf("%d-%s", os.Getpid(), sqlstore.NewRunID()), dataDir: dataDir}
	if cfg.Sandbox {
		if err := d.seedSandbox(ctx); err != nil {
			return err
		}
	}
	d.setupNotify()
	x := chooseX(cfg, d.clock, log)
	xc, err := d.newXClient(x)
	if err != nil {
		return err
	}
	if d.budget, err = d.setupBudget(ctx); err != nil {
		return err
	}
	if err := d.setupAuth(ctx, x.http, xc); err != nil {
		return err
	}
	d.setupX(x, xc)
	d.api = localapi.New(localapi.Config{Store: store, Clock: d.clock, Logger: log, Env: cfg.Env, Version: cfg.Version,
		Sandbox: cfg.Sandbox, DataDir: dataDir, Started: d.started, Keys: k, Auth: d.auth,
		X: countingDelete{x: d.x, c: d.budget.b, d: d}, Tokens: d.tokens,
		Scheduler: d.sched, RequestEnd: cfg.hooks.requestEnd, Budget: d.budget})
	d.api.Start(ctx)

	ln, err := listenSocket(cfg.Env.SocketPath(), log)
	if err != nil {
		return err
	}
	// Requests run under the daemon's context (its values, not its
	// cancellation, which is explicit below), as Tailscale's LocalAPI
	// does: shutdown cancels them all at once.
	reqCtx, cancelReqs := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelReqs(errShuttingDown)
	srv := &http.Server{
		Handler:           d.api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	if cfg.hooks.started != nil {
		cfg.hooks.started(d)
	}

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	keySettled := k.changed() // taken before k.run can close it
	wg.Go(func() { k.run(bg) })
	wg.Go(func() { d.sched.Run(bg) })
	wg.Go(func() { d.watchDB(bg) })
	if cfg.Reload != nil {
		wg.Go(func() {
			for {
				select {
				case <-bg.Done():
					return
				case <-cfg.Reload:
					d.budget.reload()
				}
			}
		})
	}
	wg.Go(func() { d.desktop.Run(bg) })

	// A key in a file or an unlocked keyring is read in milliseconds: give
	// it that long before answering, so the first command after a start is
	// not told "waiting for the keyring" for nothing. The socket already
	// listens; a client only waits. A locked keyring is not waited for.
	select {
	case <-keySettled:
	case <-time.After(keySettle):
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("psnd daemon started", "version", cfg.Version, "home", home, "socket", cfg.Env.SocketPath(),
		"pid", os.Getpid(), "sandbox", cfg.Sandbox)
	if cfg.Ready != nil {
		cfg.Ready()
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		runErr = fmt.Errorf("serve local API: %w", err)
	}

	// Cancel every request first: a client long-polling a post gets its
	// answer now instead of holding shutdown for the whole timeout.
	d.api.Stop()
	cancelReqs(errShuttingDown)
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("connections still open at shutdown; closing them", "err", err)
		_ = srv.Close()
	}
	// Shutdown returns when connections are idle, or at its timeout with
	// handlers possibly still running; none may outlive the store.
	if n := d.api.Active(); n > 0 {
		log.Info("waiting for requests to finish", "running", n)
	}
	<-d.api.Drain()
	stopBG()
	wg.Wait()
	log.Info("psnd daemon stopped")
	return runErr
}

// ensureHome creates the data directory 0700, or checks the existing one is
// a directory we can use. An existing directory is never chmod-ed behind the
// user's back; a loose mode is reported (psnd doctor explains the fix).
func ensureHome(home string, log *slog.Logger) error {
	if home == "" {
		return errors.New("no data directory (set PSN_HOME)")
	}
	fi, err := os.Stat(home)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(home, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		// MkdirAll honours the umask; make the mode exact.
		if err := os.Chmod(home, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		return nil
	case err != nil:
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return fmt.Errorf("data directory %s: %w", home, err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", home)
	}
	// Access is checked by trying: a directory we cannot write fails here
	// with a clear error instead of deep inside SQLite.
	f, err := os.CreateTemp(home, ".psnd-probe-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", home, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("data directory is readable by other users; run: chmod 700 "+home, "mode", fi.Mode().Perm().String())
	}
	return nil
}
