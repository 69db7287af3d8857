package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/secrets"
)

// TestShutdownAnswersWaitingClients stops a daemon while clients long-poll
// a post being published now (`post --now`): each gets a clear "shutting
// down" answer, Run returns long before the shutdown timeout, and the store
// is closed only after the last handler has returned.
func TestShutdownAnswersWaitingClients(t *testing.T) {
	// An hour is far longer than the test may take: returning at all
	// proves the waits were cut short, not timed out. A nanosecond makes
	// http.Server.Shutdown give up at once and close the connections with
	// the handlers perhaps still running: the store must wait for them.
	for _, timeout := range []time.Duration{time.Hour, time.Nanosecond} {
		t.Run(timeout.String(), func(t *testing.T) { testShutdownWaiting(t, timeout) })
	}
}

func testShutdownWaiting(t *testing.T, timeout time.Duration) {
	home := shortHome(t)
	// A locked keyring keeps the post due and unpublished (nothing is
	// published without the data key), so the waits cannot end on their own.
	kr := &secrets.Memory{}
	kr.FailWith(fmt.Errorf("%w: collection is locked", secrets.ErrUnavailable))
	cfg := testConfig(t, home, kr)
	cfg.ShutdownTimeout = timeout
	var d *Daemon
	activeAtClose := -1
	cfg.hooks.started = func(dd *Daemon) { d = dd }
	storeClosed := make(chan struct{})
	cfg.hooks.storeClosing = func() { activeAtClose = d.api.Active(); close(storeClosed) }
	stopping := make(chan struct{})
	// Handlers ending at shutdown linger a little, as a slow one would: a
	// store closed without waiting for them closes meanwhile.
	cfg.hooks.requestEnd = func() {
		select {
		case <-stopping:
		default:
			return
		}
		select {
		case <-storeClosed:
		case <-time.After(200 * time.Millisecond):
		}
	}
	seedAccount(t, cfg)
	r := start(t, cfg)
	ctx := context.Background()
	p, err := r.client.CreatePost(ctx, api.CreatePost{Text: "now, über alles 🐦‍🔥", Account: "alice", Now: true})
	if err != nil {
		t.Fatal(err)
	}

	const clients = 3
	answers := make(chan error, clients)
	for range clients {
		go func() {
			_, err := r.client.WaitPost(ctx, p.ID, 5*time.Minute)
			answers <- err
		}()
	}
	// Shut down only once every client is inside its wait.
	for d.api.Active() < clients {
		select {
		case err := <-answers:
			t.Fatalf("a wait ended before shutdown: %v", err)
		case <-time.After(time.Millisecond):
		}
	}

	close(stopping)
	r.cancel()
	r.cancel = nil // stopped here, not by the cleanup
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second): // a hang guard, not a timing check
		t.Fatalf("Run still waiting on the long polls after 30 s (shutdown timeout %v)", timeout)
	}
	if activeAtClose != 0 {
		t.Errorf("store closed with %d request handlers still running", activeAtClose)
	}
	for range clients {
		err := <-answers
		var ae *api.Error
		if timeout < time.Millisecond && !errors.As(err, &ae) {
			// The connection was closed before the answer: also clear.
			if err == nil {
				t.Fatal("waiting client got a post, want an error")
			}
			continue
		}
		if !errors.As(err, &ae) || ae.Code != api.CodeShuttingDown || ae.Status != 503 {
			t.Fatalf("waiting client got %v, want a shutting_down error", err)
		}
		if want := fmt.Sprintf("post %d has not settled yet", p.ID); !strings.Contains(ae.Message, want) {
			t.Errorf("message %q does not say %q", ae.Message, want)
		}
	}
}
