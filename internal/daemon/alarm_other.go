//go:build !linux

package daemon

import (
	"log/slog"
	"time"
)

// newSystemAlarm on platforms without timerfd: macOS's monotonic clock also
// stops during sleep, so the Go timer is capped at a minute; a post due
// while the Mac slept goes out within a minute of waking.
func newSystemAlarm(now func() time.Time, _ *slog.Logger) alarm {
	return newGoTimerAlarm(now, time.Minute)
}
