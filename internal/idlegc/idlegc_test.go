package idlegc

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// The tests change the process's collector settings, so none runs in
// parallel, and each puts the settings back.
func restore(t *testing.T) {
	t.Helper()
	percent, limit, _ := read()
	t.Cleanup(func() {
		Wake()
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

// rested sets GOGC to percent with no memory limit (put back after the
// test), collects, and puts the collector to rest.
func rested(t *testing.T, percent int) {
	t.Helper()
	restore(t)
	debug.SetGCPercent(percent)
	debug.SetMemoryLimit(math.MaxInt64)
	runtime.GC()
	if !Rest() {
		t.Fatalf("Rest left the collector on with GOGC=%d and no limit", percent)
	}
}

func TestRestSwitchesOffAndWakeRestores(t *testing.T) {
	rested(t, 150)
	percent, limit, inUse := read()
	if percent != -1 {
		t.Errorf("resting GOGC = %d, want off", percent)
	}
	if limit < inUse || limit > inUse+2*Headroom {
		t.Errorf("resting memory limit %d, want just above the %d in use (+%d)", limit, inUse, Headroom)
	}
	if !Resting() || Rest() {
		t.Error("a second Rest must find the collector resting and do nothing")
	}
	Wake()
	percent, limit, _ = read()
	if percent != 150 || limit != math.MaxInt64 {
		t.Errorf("after Wake: GOGC %d, limit %d; want the 150 and no limit found before", percent, limit)
	}
	if Resting() {
		t.Error("Resting after Wake")
	}
}

// Resting is not never collecting: a daemon that allocates while idle
// collects once it has allocated about Headroom.
func TestRestingStillCollectsWhatIsAllocated(t *testing.T) {
	rested(t, 100)
	before := gcCycles()
	var keep []byte
	for range 20 * Headroom / (64 << 10) {
		keep = make([]byte, 64<<10) // garbage: 20 × Headroom in all
	}
	_ = keep
	if gcCycles() == before {
		t.Fatalf("allocated %d MB while resting with no collection: the memory limit did not guard", 20*Headroom>>20)
	}
}

func TestBusyKeepsRestAway(t *testing.T) {
	rested(t, 100)
	done := Busy()
	if Resting() {
		t.Fatal("Busy did not wake the collector")
	}
	if Rest() {
		t.Fatal("Rest switched the collector off while busy")
	}
	done()
	if !Rest() {
		t.Fatal("Rest did nothing once the work was done")
	}
}

func TestRestLeavesTheUsersChoiceAlone(t *testing.T) {
	restore(t)
	t.Run("GOGC=off", func(t *testing.T) {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(math.MaxInt64)
		if Rest() {
			t.Fatal("Rest took over a collector the user had switched off")
		}
		Wake()
		if percent, limit, _ := read(); percent != -1 || limit != math.MaxInt64 {
			t.Fatalf("GOGC %d, limit %d: changed", percent, limit)
		}
	})
	t.Run("tight limit", func(t *testing.T) {
		debug.SetGCPercent(100)
		_, _, inUse := read()
		tight := inUse + Headroom/2
		debug.SetMemoryLimit(tight)
		if Rest() {
			t.Fatal("Rest raised a memory limit the user had set below its own")
		}
		if percent, limit, _ := read(); percent != 100 || limit != tight {
			t.Fatalf("GOGC %d, limit %d: changed", percent, limit)
		}
	})
}

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// read returns GOGC (negative when off), the memory limit and the memory
// the runtime counts against it, without changing any.
func read() (percent int, limit, inUse int64) {
	s := []metrics.Sample{
		{Name: "/gc/gogc:percent"},
		{Name: "/gc/gomemlimit:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	return int(s[0].Value.Uint64()), int64(s[1].Value.Uint64()), int64(s[2].Value.Uint64() - s[3].Value.Uint64())
}
