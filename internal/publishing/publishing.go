// Package publishing sends due posts to X: the scheduler (claims, the
// wall-clock alarm, the worker bound), the pre-flight a window before a
// post is due (its login proven, its media uploaded ahead), the publisher
// (one attempt per claimed post, the retry policy of SPEC §6, media
// upload), reconciliation
// of creates whose answer was lost, and the gate that keeps X's rate
// limits. It knows nothing of the local API: the daemon wires it with a
// store, a clock, an X client and a token source, and hears of changes
// through callbacks.
package publishing

import (
	"context"
	"log/slog"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/sqlstore"
)

// Config holds a publishing run's dependencies.
type Config struct {
	Store *sqlstore.Store
	Clock clock.Clock
	X     XClient
	// Counter counts every request sent to X; nil counts in Store.
	Counter Counter
	Tokens  TokenSource
	// Alarm wakes the scheduler at a wall-clock time (NewSystemAlarm); one
	// that is also an ArmWatcher hears of every round.
	Alarm  Alarm
	Owner  string // this daemon instance, the lease holder
	Lease  time.Duration
	Lead   time.Duration // see schedulerConfig.Lead
	Logger *slog.Logger
	// Workers bounds how many posts are published at once; zero is the
	// default.
	Workers int
	// Rand is the jitter source for retry delays; nil is random.
	Rand func() float64
	// Ready blocks until publishing may start (the data key is readable).
	Ready func(ctx context.Context) error
	// Changed reports a post publishing changed, so waiting readers see it.
	Changed func(id int64)
	// Progress reports a media upload's progress.
	Progress func(id, sent, total int64)
	// Notifier shows the user what needs them (a failed post, a post at
	// risk or held, a lost login); nil shows nothing.
	Notifier Notifier
	// Budget holds posts past PSN_MONTHLY_BUDGET (SPEC §9) and counts
	// every request through Counter (or Store); nil holds nothing.
	Budget *Budget
	// Preflight is how long before a post is due its pre-flight runs
	// (SPEC §6, PSN_PREFLIGHT): the account's grant proven by a refresh
	// when Tokens is also a GrantProver, the media uploaded. Zero: off.
	Preflight time.Duration
}

// New builds the scheduler and its publisher, sharing one view of X's rate
// limits. Run starts it.
func New(c Config) *Scheduler {
	changed := c.Changed
	if changed == nil {
		changed = func(int64) {}
	}
	progress := c.Progress
	if progress == nil {
		progress = func(int64, int64, int64) {}
	}
	rnd := c.Rand
	if rnd == nil {
		rnd = jitter
	}
	lease := c.Lease
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	notifier := c.Notifier
	if notifier == nil {
		notifier = noNotifier{}
	}
	counter := c.Counter
	if c.Budget != nil {
		if c.Budget.inner == nil {
			c.Budget.inner = counter
			if c.Budget.inner == nil {
				c.Budget.inner = storeCounter{c.Store}
			}
		}
		counter = c.Budget
	}
	var s *Scheduler
	gate := newRateGate(func() { s.Kick() })
	pub := &publisher{
		store: c.Store, clock: c.Clock, x: c.X, tokens: c.Tokens, owner: c.Owner, lease: lease,
		log: c.Logger, rand: rnd, gate: gate, counter: counter, notifier: notifier, budget: c.Budget,
		// Not a kick: every change here is made under a worker slot, and
		// the scheduler is kicked when the slot is freed (round). A kick
		// on each recorded id and outcome ran a round, a write
		// transaction, that found no free worker, twice per post.
		changed:  changed,
		progress: func(id, sent, total int64) { progress(id, sent, total) },
	}
	s = newScheduler(schedulerConfig{
		Store: c.Store, Clock: c.Clock, Alarm: c.Alarm, Owner: c.Owner, Lease: lease, Lead: c.Lead, Workers: c.Workers,
		Logger: c.Logger, Publish: pub.publishSafely, Ready: c.Ready,
		Gate: gate, Changed: changed, Budget: c.Budget, Notifier: notifier,
	})
	if c.Budget != nil {
		c.Budget.kick = s.Kick
	}
	if c.Preflight > 0 {
		// Through the budget, when there is one: what pre-flight
		// uploads counts against the month at once.
		pc := counter
		if pc == nil {
			pc = storeCounter{c.Store}
		}
		prover, _ := c.Tokens.(GrantProver)
		s.pre = &preflighter{
			store: c.Store, clock: c.Clock, x: c.X, counter: pc, tokens: c.Tokens, prover: prover,
			window: c.Preflight, log: c.Logger, notifier: notifier, changed: changed, kick: s.Kick,
			trigger: make(chan struct{}, 1), proven: map[string]time.Time{},
			riskGen: 1, // posts may be at risk from an earlier run
		}
	}
	return s
}
