package publishing

import "time"

// alarm wakes the scheduler at a wall-clock instant. It exists because Go's
// timers run on the monotonic clock, which stops while a laptop sleeps: a
// timer set at 08:00 for 09:00 on a machine asleep from 08:30 to 10:00 would
// fire at about 10:30. The Linux implementation uses a timerfd on
// CLOCK_REALTIME, which fires at the wall-clock time across suspend and
// reports clock changes; elsewhere a Go timer with a short cap bounds the
// lateness after a wake-up.
type Alarm interface {
	// Set arms the alarm for at, replacing any earlier setting; a zero at
	// disarms it. An instant in the past fires at once.
	Set(at time.Time)
	// C delivers a value each time the alarm fires (or the wall clock is
	// changed, so that the caller re-reads the time).
	C() <-chan struct{}
	Stop()
}

// ArmWatcher is an Alarm that also wants the due time each round armed it
// for (a lead before which Set was called; zero: nothing scheduled). A fake
// alarm in tests implements it to know when a scheduler round is over.
type ArmWatcher interface {
	Armed(next time.Time)
}

// goTimerAlarm is the portable alarm: a Go timer capped at maxSleep so a
// suspended machine is noticed within that bound after it wakes.
type goTimerAlarm struct {
	now      func() time.Time
	maxSleep time.Duration
	t        *time.Timer
	c        chan struct{}
	stop     chan struct{}
}

func newGoTimerAlarm(now func() time.Time, maxSleep time.Duration) *goTimerAlarm {
	a := &goTimerAlarm{now: now, maxSleep: maxSleep, c: make(chan struct{}, 1), stop: make(chan struct{})}
	a.t = time.AfterFunc(time.Hour, a.fire)
	a.t.Stop()
	return a
}

func (a *goTimerAlarm) fire() {
	select {
	case a.c <- struct{}{}:
	default:
	}
}

func (a *goTimerAlarm) Set(at time.Time) {
	a.t.Stop()
	if at.IsZero() {
		if a.maxSleep > 0 {
			a.t.Reset(a.maxSleep)
		}
		return
	}
	d := at.Sub(a.now())
	if a.maxSleep > 0 && d > a.maxSleep {
		d = a.maxSleep
	}
	a.t.Reset(max(d, 0))
}

func (a *goTimerAlarm) C() <-chan struct{} { return a.c }
func (a *goTimerAlarm) Stop()              { a.t.Stop() }
