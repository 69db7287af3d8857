package publishing

import (
	"errors"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// timerfdAlarm arms an absolute CLOCK_REALTIME timerfd: the kernel fires it
// at the wall-clock instant even if the machine slept through it, and
// TFD_TIMER_CANCEL_ON_SET wakes the reader when the clock is set (NTP step,
// manual change) so the scheduler re-reads the time. While disarmed nothing
// runs: the reader goroutine is parked in the netpoller.
type timerfdAlarm struct {
	fd  int
	f   *os.File
	c   chan struct{}
	log *slog.Logger
}

func NewSystemAlarm(now func() time.Time, log *slog.Logger) Alarm {
	fd, err := unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		log.Warn("timerfd unavailable; using a Go timer checked every minute", "err", err)
		return newGoTimerAlarm(now, time.Minute)
	}
	a := &timerfdAlarm{fd: fd, f: os.NewFile(uintptr(fd), "timerfd"), c: make(chan struct{}, 1), log: log}
	go a.read()
	return a
}

func (a *timerfdAlarm) read() {
	buf := make([]byte, 8)
	for {
		_, err := a.f.Read(buf)
		if err != nil && !errors.Is(err, unix.ECANCELED) {
			return // closed by Stop
		}
		// Fired, or the clock was set (ECANCELED): either way, re-check.
		select {
		case a.c <- struct{}{}:
		default:
		}
	}
}

func (a *timerfdAlarm) Set(at time.Time) {
	var spec unix.ItimerSpec
	if !at.IsZero() {
		ns := at.UnixNano()
		if ns <= 0 {
			ns = 1 // 0 would disarm; anything in the past fires at once
		}
		spec.Value = unix.NsecToTimespec(ns)
	}
	flags := unix.TFD_TIMER_ABSTIME | unix.TFD_TIMER_CANCEL_ON_SET
	if err := unix.TimerfdSettime(a.fd, flags, &spec, nil); err != nil {
		a.log.Error("arm timerfd", "err", err)
		// Fire so the loop re-arms instead of sleeping forever.
		select {
		case a.c <- struct{}{}:
		default:
		}
	}
}

func (a *timerfdAlarm) C() <-chan struct{} { return a.c }
func (a *timerfdAlarm) Stop()              { a.f.Close() }
