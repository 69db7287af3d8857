//go:build !linux

package publishing

import (
	"log/slog"
	"time"
)

// NewSystemAlarm on platforms without timerfd: macOS's monotonic clock also
// stops during sleep, so the Go timer is capped at a minute; a post due
// while the Mac slept goes out within a minute of waking.
func NewSystemAlarm(now func() time.Time, _ *slog.Logger) Alarm {
	return newGoTimerAlarm(now, time.Minute)
}
