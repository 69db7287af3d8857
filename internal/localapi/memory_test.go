package localapi

import (
	"log/slog"
	"testing"
	"time"
)

// A release asked for while another runs must not return before a
// release has run after it was asked: the big-list release used to find
// the quiet-timer's one running and return at once, leaving the list's
// stale posts for later (TestListWireFormsAsWritten failed under load).
func TestReleaseWaitsForTheRunningOne(t *testing.T) {
	entered := make(chan struct{}, 2)
	unblock := make(chan struct{})
	fills := 0
	m := newMemRelease(migratedStore(t), func() {
		fills++
		entered <- struct{}{}
		if fills == 1 {
			<-unblock
		}
	}, slog.New(slog.DiscardHandler))
	go m.release()
	<-entered // the first release is inside its fill
	second := make(chan struct{})
	go func() { m.release(); close(second) }()
	select {
	case <-second:
		t.Fatal("a release returned while another was still filling, without a fill of its own")
	case <-time.After(100 * time.Millisecond):
	}
	close(unblock)
	select {
	case <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("the second release never returned")
	}
	if fills != 2 {
		t.Fatalf("%d fills, want 2: the second release must fill after the first", fills)
	}
}
