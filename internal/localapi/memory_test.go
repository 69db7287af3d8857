package localapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/idlegc"
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

// The quiet-time release puts the collector to rest (idlegc), and the
// next request runs with it awake: a big list must not run under the
// resting daemon's tight memory limit.
func TestQuietReleaseRestsTheCollectorUntilARequest(t *testing.T) {
	t.Cleanup(idlegc.Wake)
	m := newMemRelease(migratedStore(t), nil, slog.New(slog.DiscardHandler))
	m.drop = func() {}
	m.releaseQuiet()
	if !idlegc.Resting() {
		t.Fatal("the collector still runs on its timer after the quiet-time release")
	}
	restingDuring := true
	h := m.track(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		restingDuring = idlegc.Resting()
		m.releaseQuiet() // a release that fires while the request runs
		restingDuring = restingDuring || idlegc.Resting()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/posts", nil))
	m.mu.Lock()
	m.timer.Stop()
	m.mu.Unlock()
	if restingDuring {
		t.Fatal("a request ran with the collector resting")
	}
}

// The executable's pages go only once the API has been quiet for
// exeQuiet, not at each release: requests a little apart, each followed
// by a release, keep them.
func TestExecutablePagesGoAfterTheLongerQuiet(t *testing.T) {
	t.Cleanup(idlegc.Wake)
	m := newMemRelease(migratedStore(t), nil, slog.New(slog.DiscardHandler))
	m.quiet, m.exeQuiet = 10*time.Millisecond, time.Second
	drops := make(chan time.Time, 8)
	m.drop = func() { drops <- time.Now() }
	h := m.track(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	get := func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/posts", nil))
	}
	var last time.Time // when the last request ended
	for t0 := time.Now(); time.Since(t0) < 1500*time.Millisecond; {
		time.Sleep(40 * time.Millisecond) // a release runs in each gap
		get()
		last = time.Now()
	}
	select {
	case <-drops:
		t.Fatal("the executable's pages went while requests kept coming")
	default:
	}
	select {
	case at := <-drops:
		if d := at.Sub(last); d < m.exeQuiet {
			t.Fatalf("the executable's pages went %v after the last request, before %v", d, m.exeQuiet)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the executable's pages never went")
	}
	m.mu.Lock()
	m.timer.Stop()
	m.mu.Unlock()
}
