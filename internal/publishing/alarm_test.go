package publishing

import (
	"testing"
	"time"
)

// TestSystemAlarm checks the real alarm fires for an instant just ahead,
// fires at once for an instant in the past, and stays quiet when disarmed.
// It asserts that it fires, never how fast.
func TestSystemAlarm(t *testing.T) {
	a := NewSystemAlarm(time.Now, testLogger(t))
	defer a.Stop()
	wait := func(what string) {
		t.Helper()
		select {
		case <-a.C():
		case <-time.After(10 * time.Second):
			t.Fatalf("alarm did not fire (%s)", what)
		}
	}
	a.Set(time.Now().Add(20 * time.Millisecond))
	wait("future instant")
	a.Set(time.Now().Add(-time.Hour))
	wait("past instant")
	// Re-arming replaces the earlier setting, and zero disarms.
	a.Set(time.Now().Add(time.Hour))
	a.Set(time.Time{})
	select {
	case <-a.C():
		t.Fatal("disarmed alarm fired")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestGoTimerAlarmCapsSleep(t *testing.T) {
	a := newGoTimerAlarm(time.Now, 20*time.Millisecond)
	defer a.Stop()
	// An instant a day away still wakes the loop within the cap, so a
	// machine that slept is noticed.
	a.Set(time.Now().Add(24 * time.Hour))
	select {
	case <-a.C():
	case <-time.After(10 * time.Second):
		t.Fatal("capped alarm did not fire")
	}
}
