package publishing

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// scheduler claims posts when they fall due and hands them to the
// publisher. It never polls: each round claims what is due, arms the alarm
// for the next due time read from the database, and sleeps until the alarm,
// a kick (any change to posts), or shutdown. The database is the only
// queue, so a restart, a sleep or a crash loses nothing: whatever became due
// meanwhile is claimed on the first round.
type Scheduler struct {
	store   *sqlstore.Store
	clock   clock.Clock
	alarm   Alarm
	owner   string // this daemon instance, the lease holder
	lease   time.Duration
	lead    time.Duration // claim this long before the due time (see schedulerConfig)
	workers int
	log     *slog.Logger
	// publish publishes a claimed post, sending nothing to X before due.
	publish func(ctx context.Context, p *post.Post, due time.Time)
	// ready blocks until publishing may start (the data key is readable).
	ready func(ctx context.Context) error
	// onArm, if set, is called after every round with the next due time
	// (zero: nothing scheduled); the alarm is set a lead before it. It is
	// the alarm's Armed when the alarm is an ArmWatcher (tests synchronise
	// on it).
	onArm func(next time.Time)
	// gate says which due posts X's rate limit lets through now.
	gate *rateGate
	// changed reports a post the scheduler changed itself (held back for
	// a rate limit), so that waiting clients see it.
	changed func(id int64)
	// budget holds posts past the monthly budget; nil holds nothing.
	budget   *Budget
	notifier Notifier
	// held is how many posts the budget held after the last round: while
	// any is, the scheduler also wakes when the UTC month turns.
	held int

	// busy holds the posts a publish goroutine is working on: never
	// claimed again meanwhile, whatever their lease says.
	busyMu sync.Mutex
	busy   map[int64]bool

	// pre is the pre-flight (preflight.go); nil when it is off. The round
	// sets preWake, the next instant a post enters its window.
	pre     *preflighter
	preWake time.Time

	kick   chan struct{}
	slots  chan struct{}
	active sync.WaitGroup
}

type schedulerConfig struct {
	Store *sqlstore.Store
	Clock clock.Clock
	Alarm Alarm
	Owner string
	Lease time.Duration
	// Lead is how long before its due time a post is claimed: the claim's
	// commit, the token and the send mark are then done when the due
	// instant comes, and the publisher only waits for it. Zero claims at
	// the due time.
	Lead    time.Duration
	Workers int
	Logger  *slog.Logger
	Publish func(ctx context.Context, p *post.Post, due time.Time)
	Ready   func(ctx context.Context) error
	// Gate holds posts back for X's rate limits; nil holds nothing back.
	Gate     *rateGate
	Changed  func(id int64)
	Budget   *Budget
	Notifier Notifier
}

// defaultWorkers bounds the posts published at once. A create waits on X
// (tens of ms, more on a slow link), so the bound, not the CPU, sets how
// fast a burst goes out: 1,000 posts due at one instant against an X that
// answers in 50 ms take about 3.5 s with 16 workers and under 1 s with 128
// (BENCHMARKS.md). Idle workers cost nothing (they are slots, not
// goroutines), and X's own limits are kept by the rate gate, not by this.
const defaultWorkers = 128

// DefaultWorkers is how many posts are published at once when Config
// leaves Workers zero.
const DefaultWorkers = defaultWorkers

func newScheduler(c schedulerConfig) *Scheduler {
	if c.Workers <= 0 {
		c.Workers = defaultWorkers
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	if c.Gate == nil {
		c.Gate = newRateGate(nil)
	}
	if c.Changed == nil {
		c.Changed = func(int64) {}
	}
	if c.Notifier == nil {
		c.Notifier = noNotifier{}
	}
	var onArm func(time.Time)
	if w, ok := c.Alarm.(ArmWatcher); ok {
		onArm = w.Armed
	}
	return &Scheduler{onArm: onArm,
		store: c.Store, clock: c.Clock, alarm: c.Alarm, owner: c.Owner, lease: c.Lease, lead: max(c.Lead, 0), workers: c.Workers,
		log: c.Logger, publish: c.Publish, ready: c.Ready, gate: c.Gate, changed: c.Changed,
		budget: c.Budget, notifier: c.Notifier,
		kick:  make(chan struct{}, 1),
		busy:  map[int64]bool{},
		slots: make(chan struct{}, c.Workers),
	}
}

// Kick makes the scheduler re-read the queue: called on every change to a
// post (create, edit, cancel, retry) and when a publish finishes.
func (s *Scheduler) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run loops until ctx ends, then waits for publishes in flight. Their own
// contexts end with ctx; a tweet whose id X already returned is still
// recorded (the publisher records ids with a context shutdown cannot cancel).
func (s *Scheduler) Run(ctx context.Context) {
	defer s.active.Wait()
	defer s.alarm.Stop()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			return
		}
	}
	now := s.clock.Now()
	err := s.store.Update(ctx, func(tx *sqlstore.Tx) error {
		n, err := tx.ResetForeignLeases(s.owner, now)
		if n > 0 {
			s.log.Info("resuming posts left in flight by an earlier run", "posts", n)
		}
		return err
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("reset leases", "err", err)
	}
	s.seedCaps(ctx, now)
	if s.pre != nil {
		s.active.Add(1)
		go func() {
			defer s.active.Done()
			s.pre.run(ctx)
		}()
	}
	backoff := time.Duration(0)
	for {
		next, err := s.round(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// A database error (disk full, busy beyond the timeout): try
			// again soon rather than sleeping until a kick.
			backoff = min(max(2*backoff, time.Second), time.Minute)
			s.log.Error("scheduler round failed", "err", err, "retry_in", backoff)
			next = s.clock.Now().Add(backoff)
		} else {
			backoff = 0
		}
		wake := next
		if !wake.IsZero() {
			wake = wake.Add(-s.lead)
		}
		if s.held > 0 {
			// Posts held by the budget go out when the UTC month turns
			// (the month the usage counts use).
			if turn := nextMonth(s.clock.Now()); wake.IsZero() || turn.Before(wake) {
				wake = turn
			}
		}
		if pw := s.preWake; !pw.IsZero() && (wake.IsZero() || pw.Before(wake)) {
			wake = pw
		}
		s.alarm.Set(wake)
		if s.onArm != nil {
			s.onArm(next)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.alarm.C():
		case <-s.kick:
		}
	}
}

// round claims every post due within the lead there is a worker for and
// returns the next due time (the alarm is set a lead earlier), or zero if
// nothing is scheduled. When all workers are busy it returns zero too: a finishing
// publish kicks the scheduler.
func (s *Scheduler) round(ctx context.Context) (time.Time, error) {
	free := s.workers - len(s.slots)
	now := s.clock.Now()
	dueBy := now.Add(s.lead)
	type claim struct {
		p   *post.Post
		due time.Time
	}
	var claimed []claim
	var admitted, deferred []sqlstore.DueRef
	var next time.Time
	var bs budgetRound
	busy := s.busyIDs()
	if s.pre != nil {
		if id := s.pre.holding(); id != 0 {
			busy = append(busy, id) // its pre-flight upload is under way
		}
	}
	// The gate is only asked here (a short in-memory lock, never held
	// while waiting), in due order, so that at a rate limit's reset the
	// posts X lets through are the earliest due.
	err := s.store.Update(ctx, func(tx *sqlstore.Tx) error {
		claimed, admitted, deferred = claimed[:0], admitted[:0], deferred[:0]
		if err := s.budgetStart(tx, &bs, now); err != nil {
			return err
		}
		if free > 0 {
			due, err := tx.DueAtExcept(busy, s.gate.waiting(now), dueBy, free)
			if err != nil {
				return err
			}
			for _, ref := range due {
				if held, err := s.budgetAdmit(tx, &bs, ref, now); err != nil {
					return err
				} else if held {
					continue
				}
				need := 1
				if ref.Status != post.StatusPublishing {
					if need, err = tx.CreatesLeft(ref.ID); err != nil {
						return err
					}
				}
				d, until := s.gate.admit(ref.AccountID, ref.ID, now, need)
				switch {
				case d == sendNow:
					admitted = append(admitted, ref)
				case d == waitNext:
					s.budgetUnreserve(ref.ID)
					continue // the answer X is about to give kicks the scheduler
				case ref.Status == post.StatusScheduled || ref.Status == post.StatusRetry:
					// No request left before the reset: wait for it
					// without asking X, visibly.
					s.budgetUnreserve(ref.ID)
					err := tx.DeferRateLimited(ref, until, rateLimitedReason(until), now)
					if errors.Is(err, sqlstore.ErrStale) {
						continue
					}
					if err != nil {
						return err
					}
					deferred = append(deferred, ref)
					continue
				}
				// A post left in publishing by a lapsed lease is claimed
				// even when held back: its publish records the wait.
				p, err := tx.ClaimDueBy(ref, s.owner, now, dueBy, now.Add(s.lease))
				if errors.Is(err, sqlstore.ErrStale) {
					s.budgetUnreserve(ref.ID)
					if d == sendNow {
						s.gate.done(ref.AccountID, ref.ID)
						admitted = admitted[:len(admitted)-1]
					}
					continue // changed under us; the next round sees the new version
				}
				if err != nil {
					return err
				}
				claimed = append(claimed, claim{p, ref.DueAt})
			}
		}
		for _, c := range claimed {
			busy = append(busy, c.p.ID)
		}
		ref, ok, err := tx.NextDueExcept(busy, s.gate.waiting(now))
		if err != nil {
			return err
		}
		if ok {
			next = ref.DueAt
		}
		if err := s.budgetCount(tx, &bs); err != nil {
			return err
		}
		return s.nextPreflight(tx, now)
	})
	if err != nil {
		for _, ref := range admitted {
			s.gate.done(ref.AccountID, ref.ID)
		}
		s.budgetFailed(&bs)
		return time.Time{}, err
	}
	s.budgetDone(&bs)
	for _, ref := range deferred {
		s.changed(ref.ID)
	}
	for _, c := range claimed {
		s.slots <- struct{}{}
		s.active.Add(1)
		s.setBusy(c.p.ID, true)
		go func() {
			defer func() {
				s.setBusy(c.p.ID, false)
				<-s.slots
				s.active.Done()
				s.Kick()
			}()
			s.publish(ctx, c.p, c.due)
		}()
	}
	if len(s.slots) >= s.workers {
		return time.Time{}, nil
	}
	if !next.IsZero() && !next.After(dueBy) && len(claimed) == 0 {
		// Due but not claimable now (all claims were stale): look again
		// after the kick that the change came with, or in a moment.
		return now.Add(time.Second), nil
	}
	return next, nil
}

// nextPreflight sets preWake to when the next post not yet pre-flighted
// enters its window, and starts a pass if one is in it already (the pass
// kicks the scheduler when done, so an instant already past is not armed).
func (s *Scheduler) nextPreflight(tx *sqlstore.Tx, now time.Time) error {
	s.preWake = time.Time{}
	if s.pre == nil {
		return nil
	}
	due, ok, err := tx.NextPreflight()
	if err != nil {
		return err
	}
	if ok {
		if at := due.Add(-s.pre.window); at.After(now) {
			s.preWake = at
		} else {
			s.pre.Trigger()
		}
	}
	// Posts at risk are looked at again every recheckEvery while there
	// are any, so that a problem fixed outside psnd (a file put back)
	// stops showing within a minute. A recheck sends X nothing billed.
	gen, may := s.pre.mayBeAtRisk()
	if !may {
		return nil
	}
	n, err := tx.CountAtRisk()
	if err != nil {
		return err
	}
	if at := s.pre.recheckAt(now, n > 0, gen); !at.IsZero() && (s.preWake.IsZero() || at.Before(s.preWake)) {
		s.preWake = at
	}
	return nil
}

// Recheck runs pre-flight again for the account's posts in the window,
// with a fresh proof of its grant: called after a login, so posts put at
// risk by a lost login are cleared at once.
func (s *Scheduler) Recheck(accountID string) {
	if s.pre == nil {
		return
	}
	s.pre.forget(accountID)
	s.pre.Trigger()
}

func (s *Scheduler) setBusy(id int64, on bool) {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	if on {
		s.busy[id] = true
	} else {
		delete(s.busy, id)
	}
}

func (s *Scheduler) busyIDs() []int64 {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	ids := make([]int64, 0, len(s.busy))
	for id := range s.busy {
		ids = append(ids, id)
	}
	return ids
}

// seedCaps gives the rate gate the 24-hour user caps X reported before
// this run (SPEC §9): a post that would exceed a spent cap waits for its
// reset from the first round. A failure to read them only costs a probe.
func (s *Scheduler) seedCaps(ctx context.Context, now time.Time) {
	var caps map[string]sqlstore.UserCap
	if err := s.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		caps, err = tx.UserCaps()
		return err
	}); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("read X's 24-hour caps", "err", err)
		}
		return
	}
	for acct, c := range caps {
		if c.Reset != nil {
			s.gate.seed(acct, xapi.Window{Limit: c.Limit, Remaining: c.Remaining, Reset: *c.Reset}, now)
		}
	}
}
