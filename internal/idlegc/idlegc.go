// Package idlegc stops the Go runtime's timed garbage collection while the
// daemon is idle, and starts it again when work comes.
//
// The runtime forces a collection every two minutes, whether or not
// anything was allocated since. In an idle daemon that collection is the
// one regular piece of work left: it scans stacks and globals, maps back in
// the collector's code that the quiet-time release let go of (exepages),
// and measured 1.4–3.5 ms of CPU in the idle minutes it fell in, against a
// goal of 2 ms per idle minute, and a wake-up on a laptop that should sleep.
//
// While resting, the collector is switched off (GOGC=off) under a memory
// limit set just above what the runtime holds, so a daemon that does
// allocate while idle (a scheduler tick, a publish that came before the
// next request) still collects once it has allocated Headroom: the same
// rhythm as GOGC=100 with the runtime's 4 MB minimum heap, without the
// timer. That limit is soft (the runtime exceeds it rather than thrash),
// and Wake restores the settings found before.
//
// A GOGC=off or a memory limit the user chose is left as it is: Rest does
// nothing when the collector is already off, or when the user's limit is
// below the one it would set.
package idlegc

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Headroom is how much a resting daemon may allocate before it collects.
const Headroom = 4 << 20

var state struct {
	sync.Mutex
	busy    int // calls of Busy not yet ended
	resting bool
	percent int   // GOGC before Rest
	limit   int64 // memory limit before Rest
}

// Rest switches off the timed collection if nothing is busy, and reports
// whether it did.
func Rest() bool {
	state.Lock()
	defer state.Unlock()
	if state.resting || state.busy > 0 {
		return false
	}
	limit := debug.SetMemoryLimit(-1) // (-1 reads it)
	resting := inUse() + Headroom
	if limit <= resting {
		return false
	}
	// The limit first: the collector is never off without one.
	debug.SetMemoryLimit(resting)
	percent := debug.SetGCPercent(-1)
	if percent < 0 {
		debug.SetMemoryLimit(limit)
		return false
	}
	state.resting, state.percent, state.limit = true, percent, limit
	return true
}

// Wake restores the collection Rest switched off, if it did.
func Wake() {
	state.Lock()
	defer state.Unlock()
	wakeLocked()
}

// Busy wakes the collector and keeps Rest from switching it off until
// the returned function is called: a request runs with the settings the
// user chose, whatever the quiet-time release does meanwhile.
func Busy() (done func()) {
	state.Lock()
	state.busy++
	wakeLocked()
	state.Unlock()
	return func() {
		state.Lock()
		state.busy--
		state.Unlock()
	}
}

// Resting reports whether the timed collection is off.
func Resting() bool {
	state.Lock()
	defer state.Unlock()
	return state.resting
}

func wakeLocked() {
	if !state.resting {
		return
	}
	// The collector first, then the limit: never off without one.
	debug.SetGCPercent(state.percent)
	debug.SetMemoryLimit(state.limit)
	state.resting = false
}

// inUse is the memory the runtime counts against its limit: all it has
// mapped less the heap it has returned to the OS. (runtime/metrics says
// the same, but its first Read builds a table of every metric, which
// would be the resting daemon's largest allocation.)
func inUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.Sys - m.HeapReleased)
}
