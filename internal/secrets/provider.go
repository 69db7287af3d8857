package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/clock"
)

// KeyState is the data key's availability, shown to the user (SPEC §3).
type KeyState string

const (
	// StateWaiting: the keyring is locked or unreachable; retrying.
	StateWaiting KeyState = "waiting_for_keyring"
	// StateReady: the key is read and cached in memory.
	StateReady KeyState = "ready"
	// StateError: the keyring answered but the key is unusable (for
	// example a malformed entry). Retried slowly in case the user fixes it.
	StateError KeyState = "error"
)

// ErrWaiting is returned for a key requested while the keyring is locked
// or unreachable.
var ErrWaiting = errors.New("waiting for keyring")

// ErrKeyMismatch means the data key the keyring holds did not seal this
// database: stored tokens cannot be decrypted and the user must log in
// again. Nothing sealed is overwritten while in this state.
var ErrKeyMismatch = errors.New("the data key does not match this database: stored tokens and the client secret cannot be decrypted; run `psnd auth reset-key`, then `psnd setup` to log in again")

// KeyStatus is a snapshot of a KeyProvider.
type KeyStatus struct {
	State     KeyState
	Since     time.Time // when State last changed
	LastError string    // the latest failure; "" if none yet
	Attempts  int       // attempts to read the key so far
	NextTry   time.Time // next attempt; zero when ready
	Created   bool      // ready with a key this provider created
}

// Backoff spaces attempts while the keyring is unavailable: Initial, then
// doubling up to Max, each delay shortened by a random fraction of up to
// Jitter so that several daemons do not knock in step.
type Backoff struct {
	Initial time.Duration  // default 1s
	Max     time.Duration  // default 1m
	Jitter  float64        // 0..1, default 0.2
	Rand    func() float64 // [0,1); default math/rand/v2
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = time.Minute
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Jitter <= 0 || b.Jitter > 1 {
		b.Jitter = 0.2
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// Delay is the wait after the n-th consecutive failure (n >= 1).
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d - time.Duration(float64(d)*b.Jitter*b.Rand())
}

// ProviderConfig holds a KeyProvider's dependencies.
type ProviderConfig struct {
	Keyring Keyring      // required
	ID      string       // required: the entry's user, from EntryID
	Logger  *slog.Logger // default: discard
	Clock   clock.Clock  // for Since and NextTry; default clock.System
	Backoff Backoff
	// AttemptTimeout bounds one load-or-create (up to three keyring calls,
	// each already bounded by System); default 15s. A keyring that does not
	// answer in time counts as unavailable.
	AttemptTimeout time.Duration
}

// KeyProvider reads (or creates) the data key in the background and keeps
// it in memory. While the keyring is locked — a daemon started at boot under
// systemd linger, before anyone has logged in — it stays in StateWaiting and
// retries with backoff instead of exiting, so the service never
// crash-loops; once the key is read it is cached for the life of the process.
type KeyProvider struct {
	kr      Keyring
	id      string
	log     *slog.Logger
	clock   clock.Clock
	backoff Backoff
	timeout time.Duration
	poke    chan struct{}

	mu      sync.Mutex
	running bool
	status  KeyStatus
	lastErr error
	key     Key
	changed chan struct{} // closed and replaced on every status change
}

// NewKeyProvider returns a provider in StateWaiting; call Run to start it.
func NewKeyProvider(cfg ProviderConfig) (*KeyProvider, error) {
	if cfg.Keyring == nil {
		return nil, errors.New("key provider: no keyring")
	}
	if cfg.ID == "" {
		return nil, errors.New("key provider: no entry id")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 15 * time.Second
	}
	return &KeyProvider{
		kr:      cfg.Keyring,
		id:      cfg.ID,
		log:     cfg.Logger,
		clock:   cfg.Clock,
		backoff: cfg.Backoff.withDefaults(),
		timeout: cfg.AttemptTimeout,
		poke:    make(chan struct{}, 1),
		status:  KeyStatus{State: StateWaiting, Since: cfg.Clock.Now()},
		changed: make(chan struct{}),
	}, nil
}

// Run tries to load or create the key until it succeeds, then returns nil;
// it returns ctx's error if ctx ends first. Each failed attempt is logged
// once, at warn (keyring unavailable) or error (key unusable).
func (p *KeyProvider) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("key provider: Run called twice")
	}
	p.running = true
	p.mu.Unlock()

	failures := 0
	for {
		key, created, err := p.attempt(ctx)
		if err == nil {
			p.setReady(key, created)
			p.log.Info("data key ready", "keyring", describe(p.kr), "created", created, "attempts", failures+1)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failures++
		delay := p.backoff.Delay(failures)
		next := p.clock.Now().Add(delay)
		state := StateWaiting
		if !errors.Is(err, ErrUnavailable) {
			state = StateError
		}
		p.setFailure(state, err, next)
		if state == StateWaiting {
			p.log.Warn("waiting for keyring", "err", err, "attempt", failures, "retry_in", delay.Round(time.Millisecond))
		} else {
			p.log.Error("data key unusable", "err", err, "attempt", failures, "retry_in", delay.Round(time.Millisecond))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-p.poke:
			t.Stop()
		}
	}
}

func (p *KeyProvider) attempt(ctx context.Context) (Key, bool, error) {
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	key, created, err := LoadOrCreateKey(actx, p.kr, p.id)
	if err != nil && ctx.Err() == nil && actx.Err() != nil && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: no answer from %s within %s", ErrUnavailable, describe(p.kr), p.timeout)
	}
	return key, created, err
}

// RetryNow cuts the current wait short, for example when the user says the
// keyring is unlocked. It does nothing once the key is ready.
func (p *KeyProvider) RetryNow() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

func (p *KeyProvider) setReady(key Key, created bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key = key
	p.status.Attempts++
	p.status.State = StateReady
	p.status.Since = p.clock.Now()
	p.status.NextTry = time.Time{}
	p.status.Created = created
	p.lastErr = nil
	p.notifyLocked()
}

func (p *KeyProvider) setFailure(state KeyState, err error, next time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.Attempts++
	if p.status.State != state {
		p.status.State = state
		p.status.Since = p.clock.Now()
	}
	p.status.LastError = err.Error()
	p.status.NextTry = next
	p.lastErr = err
	p.notifyLocked()
}

func (p *KeyProvider) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// State returns a snapshot of the provider's status.
func (p *KeyProvider) State() KeyStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// TryKey returns the key if it is ready, without waiting: otherwise an
// ErrWaiting error (keyring locked or unreachable, or not yet tried) or the
// error that makes the key unusable.
func (p *KeyProvider) TryKey() (Key, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keyLocked()
}

func (p *KeyProvider) keyLocked() (Key, error) {
	switch p.status.State {
	case StateReady:
		return p.key, nil
	case StateError:
		return Key{}, p.lastErr
	default:
		if p.lastErr != nil {
			return Key{}, fmt.Errorf("%w: %w", ErrWaiting, p.lastErr)
		}
		return Key{}, ErrWaiting
	}
}

// Key waits until the key is ready and returns it. It returns at once with
// the error in StateError, and an ErrWaiting error when ctx ends first.
func (p *KeyProvider) Key(ctx context.Context) (Key, error) {
	for {
		p.mu.Lock()
		k, err := p.keyLocked()
		waiting := p.status.State == StateWaiting
		ch := p.changed
		p.mu.Unlock()
		if !waiting {
			return k, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Key{}, fmt.Errorf("%w: %w", err, ctx.Err())
		}
	}
}
