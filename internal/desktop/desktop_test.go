package desktop

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/psnd/psnd/internal/desktop/desktoptest"
	"github.com/psnd/psnd/internal/testutil"
)

// rig is a Notifier on a private session bus, running until the test ends,
// with its log and its deliveries in view.
type rig struct {
	n    *Notifier
	log  *testutil.SyncBuffer
	done chan struct{}
	// results gets what came of each delivery, in order.
	results chan error
}

func newRig(t *testing.T, c Config) *rig {
	t.Helper()
	r := &rig{log: &testutil.SyncBuffer{}, done: make(chan struct{}), results: make(chan error, 100)}
	if c.GOOS == "" {
		c.GOOS = "linux"
	}
	c.Logger = slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.n = New(c)
	r.n.delivered = func(_ Message, err error) { r.results <- err }
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.n.Run(ctx); close(r.done) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// result waits for the next delivery's outcome.
func (r *rig) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.results:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery finished")
	}
	return nil
}

const (
	failTitle = "psnd: post 12 failed"
	failBody  = "X refused it: İstanbul Ⱥ 東京 שלום 🙂 \"quoted\" <b>\nRun psnd retry 12"
)

// A message reaches the notification server on a real session bus as
// written, with psnd's name, the urgency and the server's default expiry.
func TestShowOnSessionBus(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	r := newRig(t, Config{Enabled: true, SessionBus: bus.Addr})
	r.n.Show(Message{Key: "failed/post/12", Title: failTitle, Body: failBody, Urgent: true})
	got := srv.Next(t)
	if got.App != "psnd" || got.Title != failTitle || got.Body != failBody || got.Expire != -1 || got.Replace != 0 {
		t.Errorf("got %+v", got)
	}
	if u, ok := got.Hints["urgency"].Value().(byte); !ok || u != 2 {
		t.Errorf("urgency hint %v, want critical (2)", got.Hints["urgency"])
	}
	if err := r.result(t); err != nil {
		t.Errorf("delivery: %v", err)
	}
	r.n.Show(Message{Key: "at_risk/post/13", Title: "psnd: post 13 at risk", Body: "b"})
	if got := srv.Next(t); got.Title != "psnd: post 13 at risk" || got.Hints["urgency"].Value().(byte) != 1 {
		t.Errorf("second: %+v", got)
	}
}

// A server that reads the body as markup gets it escaped, so X's message
// shows as X wrote it.
func TestMarkupEscaped(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr, desktoptest.Capabilities("body", "body-markup"))
	r := newRig(t, Config{Enabled: true, SessionBus: bus.Addr})
	r.n.Show(Message{Title: "psnd: <post> 1 & 2", Body: "<script> & co"})
	got := srv.Next(t)
	if got.Body != "&lt;script&gt; &amp; co" || got.Title != "psnd: <post> 1 & 2" {
		t.Errorf("got title %q body %q", got.Title, got.Body)
	}
}

// The same key within the window is shown once: a flapping account does
// not flood the desktop. Other keys pass, and after the window the key
// shows again.
func TestRepeatSuppressed(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := newRig(t, Config{Enabled: true, SessionBus: bus.Addr, Now: clk, Window: 5 * time.Minute})
	login := Message{Key: "needs_login/alice", Title: "psnd: @alice must log in again"}
	r.n.Show(login)
	r.n.Show(login)
	mu.Lock()
	now = now.Add(4 * time.Minute)
	mu.Unlock()
	r.n.Show(login)
	r.n.Show(Message{Key: "failed/post/1", Title: "psnd: post 1 failed"})
	// One queue, one deliverer: had a repeat been queued, it would
	// arrive before post 1.
	for _, want := range []string{login.Title, "psnd: post 1 failed"} {
		if got := srv.Next(t); got.Title != want {
			t.Fatalf("got %q, want %q", got.Title, want)
		}
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	r.n.Show(login)
	if got := srv.Next(t); got.Title != login.Title {
		t.Fatalf("after the window: got %q", got.Title)
	}
}

// PSN_NOTIFY=0: nothing is queued, nothing connects, the server hears
// nothing.
func TestDisabledSendsNothing(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	r := newRig(t, Config{Enabled: false, SessionBus: bus.Addr})
	for range 3 {
		r.n.Show(Message{Title: "psnd: post 1 failed"})
	}
	if r.n.Enabled() || len(r.n.q) != 0 || r.n.send != nil {
		t.Fatalf("enabled %v, %d queued, sender %v", r.n.Enabled(), len(r.n.q), r.n.send)
	}
	<-r.done // Run returned at once: there is no deliverer
	if srv.Calls() != 0 {
		t.Errorf("server received %d calls", srv.Calls())
	}
	if !strings.Contains(r.log.String(), "PSN_NOTIFY=0") {
		t.Errorf("log does not say why:\n%s", r.log.String())
	}
}

// No desktop session: no bus address, or a bus that cannot be reached.
// Show never fails, the notifier says so once at info and then stays quiet.
func TestNoDesktopSession(t *testing.T) {
	r := newRig(t, Config{Enabled: true, SessionBus: ""})
	r.n.Show(Message{Title: "x"})
	if r.n.Enabled() || len(r.n.q) != 0 {
		t.Fatalf("no bus: enabled %v, %d queued", r.n.Enabled(), len(r.n.q))
	}

	r = newRig(t, Config{Enabled: true, SessionBus: "unix:path=" + t.TempDir() + "/no-bus"})
	r.n.Show(Message{Key: "a", Title: "x"})
	if err := r.result(t); !errors.Is(err, errNoDesktop) {
		t.Fatalf("unreachable bus: %v, want errNoDesktop", err)
	}
	for range 5 {
		r.n.Show(Message{Title: "y"})
	}
	if r.n.Enabled() || len(r.n.q) != 0 {
		t.Fatalf("after a failed connect: enabled %v, %d queued", r.n.Enabled(), len(r.n.q))
	}
	if n := strings.Count(r.log.String(), "level=INFO"); n != 1 || !strings.Contains(r.log.String(), "no desktop session") {
		t.Errorf("want one info line saying there is no desktop session:\n%s", r.log.String())
	}
}

// A notification server that never answers does not hold anyone but the
// deliverer: Show keeps returning, the queue fills and the excess is
// dropped and counted.
func TestHangingServerDoesNotBlock(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr, desktoptest.Hang())
	r := newRig(t, Config{Enabled: true, SessionBus: bus.Addr, Queue: 4, CallTimeout: time.Hour})
	r.n.Show(Message{Title: "first"})
	srv.Next(t) // the deliverer is now waiting for an answer that never comes
	for i := range 4 + 3 {
		r.n.Show(Message{Key: string(rune('a' + i)), Title: "more"})
	}
	if d := r.n.Dropped(); d != 3 || len(r.n.q) != 4 {
		t.Fatalf("dropped %d with %d queued; want 3 dropped, 4 queued", d, len(r.n.q))
	}
	// A dropped message was not shown, so it is not a repeat later.
	if !r.n.first("g") {
		t.Error("a dropped key counts as shown")
	}
}

// The bus went away and came back (a desktop session restarted): the next
// message reconnects once and is shown on the new bus.
func TestReconnectAfterBusRestart(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	r := newRig(t, Config{Enabled: true, SessionBus: bus.Addr})
	r.n.Show(Message{Title: "before"})
	srv.Next(t)
	if err := r.result(t); err != nil {
		t.Fatal(err)
	}
	bus.Restart(t)
	srv2 := desktoptest.NewServer(t, bus.Addr)
	r.n.Show(Message{Title: "after"})
	if got := srv2.Next(t); got.Title != "after" {
		t.Fatalf("got %q", got.Title)
	}
	if err := r.result(t); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

// The bus went away for good: one reconnect fails, and notifications turn
// off without a fuss.
func TestBusGoneTurnsOff(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	r := newRig(t, Config{Enabled: true, SessionBus: bus.Addr})
	r.n.Show(Message{Title: "before"})
	srv.Next(t)
	if err := r.result(t); err != nil {
		t.Fatal(err)
	}
	bus.Stop()
	r.n.Show(Message{Title: "after"})
	if err := r.result(t); !errors.Is(err, errNoDesktop) {
		t.Fatalf("bus gone: %v, want errNoDesktop", err)
	}
	if r.n.Enabled() {
		t.Error("still enabled with the bus gone")
	}
}

// A desktop without a notification server: the failure is logged once at
// info, the rest at debug, and the notifier keeps trying (a server may
// start later).
func TestNoNotificationServer(t *testing.T) {
	bus := desktoptest.StartBus(t)
	r := newRig(t, Config{Enabled: true, SessionBus: bus.Addr})
	for i := range 3 {
		r.n.Show(Message{Key: string(rune('a' + i)), Title: "x"})
		var de dbus.Error
		if err := r.result(t); !errors.As(err, &de) {
			t.Fatalf("delivery %d: %v, want the bus's error", i, err)
		}
	}
	if !r.n.Enabled() {
		t.Error("turned off")
	}
	if n := strings.Count(r.log.String(), "level=INFO"); n != 1 {
		t.Errorf("%d info lines, want 1:\n%s", n, r.log.String())
	}
	srv := desktoptest.NewServer(t, bus.Addr)
	r.n.Show(Message{Key: "late", Title: "server started"})
	if got := srv.Next(t); got.Title != "server started" {
		t.Errorf("got %q", got.Title)
	}
}

// A bus that accepts the connection and never answers the handshake
// holds the deliverer only until the message's deadline; the notifier
// then takes it for no desktop, and Run still ends when asked.
func TestSilentBusGivesUp(t *testing.T) {
	path := testutil.ShortDir(t) + "/bus"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	// The deadline only bounds the wait; nothing here measures it.
	r := newRig(t, Config{Enabled: true, SessionBus: "unix:path=" + path, CallTimeout: 100 * time.Millisecond})
	r.n.Show(Message{Title: "x"})
	if err := r.result(t); !errors.Is(err, errNoDesktop) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent bus: %v, want no desktop after the deadline", err)
	}
	if r.n.Enabled() {
		t.Error("still enabled")
	}
}
