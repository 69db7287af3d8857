// Package desktop shows notifications on the user's desktop (SPEC §8
// "Notifications"): through D-Bus org.freedesktop.Notifications on Linux
// and the other free desktops, through Notification Center (osascript) on
// macOS. It is an edge of the daemon, like the keyring: optional, silent
// where there is no desktop, and never in the way of publishing. Show
// queues a message and returns at once; one goroutine (Run) delivers them.
package desktop

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Message is one desktop notification.
type Message struct {
	// Key names what the message is about ("failed/post/12"): a message
	// whose key was shown within the window is not shown again, so a post
	// or an account that flaps does not flood the desktop. "" never
	// repeats-checks.
	Key    string
	Title  string
	Body   string
	Urgent bool // a failure the user must act on, not a heads-up
}

// Defaults of Config.
const (
	DefaultWindow      = 5 * time.Minute
	DefaultQueue       = 16
	DefaultCallTimeout = 10 * time.Second
)

// Limits of what is shown: a notification is a glance, the detail is in
// `psnd show` and the daemon log.
const (
	maxTitle = 80
	maxBody  = 300
)

// Config holds a Notifier's settings.
type Config struct {
	// Enabled is false when the user turned notifications off
	// (PSN_NOTIFY=0): nothing is sent, nothing is connected.
	Enabled bool
	// GOOS picks the mechanism: "darwin" is osascript, anything else the
	// D-Bus session bus at SessionBus.
	GOOS string
	// SessionBus is the D-Bus session bus address
	// ($DBUS_SESSION_BUS_ADDRESS); "" means no desktop session.
	SessionBus string
	Logger     *slog.Logger // default discard
	// Now is the clock of the repeat window; default time.Now.
	Now func() time.Time
	// Window is how long a message's Key is not shown again; default
	// DefaultWindow.
	Window time.Duration
	// Queue bounds the messages waiting for delivery; beyond it new ones
	// are dropped. Default DefaultQueue.
	Queue int
	// CallTimeout bounds one delivery (a notification server that never
	// answers holds only the delivery goroutine, and only this long).
	CallTimeout time.Duration
}

// Notifier shows Messages on the desktop. Its zero value is not usable;
// build one with New. Show is safe for concurrent use.
type Notifier struct {
	log     *slog.Logger
	now     func() time.Time
	window  time.Duration
	timeout time.Duration
	q       chan Message
	send    sender // nil when off from the start
	off     atomic.Bool
	dropped atomic.Int64
	failed  atomic.Bool // a delivery failed and was logged at info

	mu     sync.Mutex
	recent map[string]time.Time

	// delivered, if set (tests), hears of each message the delivery
	// goroutine finished with, and what came of it.
	delivered func(Message, error)
}

// sender delivers one message to the desktop. errNoDesktop (wrapped) means
// there is no desktop to deliver to: the Notifier turns itself off.
type sender interface {
	send(ctx context.Context, m Message) error
	close()
}

// errNoDesktop marks a failure that means no desktop session: no bus
// address, or the bus cannot be reached.
var errNoDesktop = errors.New("no desktop session")

// New builds a Notifier. It connects to nothing yet: the first message
// does, so a daemon that never has anything to say never touches the bus.
func New(c Config) *Notifier {
	n := &Notifier{log: c.Logger, now: c.Now, window: c.Window, timeout: c.CallTimeout, recent: map[string]time.Time{}}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.window <= 0 {
		n.window = DefaultWindow
	}
	if n.timeout <= 0 {
		n.timeout = DefaultCallTimeout
	}
	q := c.Queue
	if q <= 0 {
		q = DefaultQueue
	}
	n.q = make(chan Message, q)
	switch {
	case !c.Enabled:
		n.log.Info("desktop notifications off (PSN_NOTIFY=0)")
		n.off.Store(true)
	case c.GOOS == "darwin":
		n.send = osascript{}
	case c.SessionBus == "":
		n.log.Info("desktop notifications off: no desktop session (DBUS_SESSION_BUS_ADDRESS is not set)")
		n.off.Store(true)
	default:
		n.send = &dbusSender{addr: c.SessionBus}
	}
	return n
}

// Enabled reports whether messages may still be shown: false when turned
// off, when there is no desktop, or after the desktop could not be reached.
func (n *Notifier) Enabled() bool { return !n.off.Load() }

// Dropped is how many messages were dropped because the queue was full.
func (n *Notifier) Dropped() int64 { return n.dropped.Load() }

// Show queues m for the desktop and returns at once. It drops m when the
// notifier is off, when m's Key was shown within the window, or when the
// queue is full (a desktop that stopped answering).
func (n *Notifier) Show(m Message) {
	if n.off.Load() {
		return
	}
	if !n.first(m.Key) {
		n.log.Debug("notification not repeated", "key", m.Key)
		return
	}
	select {
	case n.q <- m:
	default:
		n.dropped.Add(1)
		n.forget(m.Key) // not shown, so a later one may be
		n.log.Debug("notification queue full; dropped", "key", m.Key)
	}
}

// first records key as shown now and reports whether it was not already
// shown within the window.
func (n *Notifier) first(key string) bool {
	if key == "" {
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	if t, ok := n.recent[key]; ok && now.Sub(t) < n.window && now.Sub(t) >= 0 {
		return false
	}
	// Forget what is past the window, so the map stays as small as the
	// notices of the last few minutes.
	if len(n.recent) >= 64 {
		for k, t := range n.recent {
			if now.Sub(t) >= n.window {
				delete(n.recent, k)
			}
		}
	}
	n.recent[key] = now
	return true
}

func (n *Notifier) forget(key string) {
	n.mu.Lock()
	delete(n.recent, key)
	n.mu.Unlock()
}

// Run delivers queued messages, one at a time, until ctx ends. Messages
// still queued then are dropped: shutdown does not wait for a desktop.
func (n *Notifier) Run(ctx context.Context) {
	if n.send == nil {
		return
	}
	defer n.send.close()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-n.q:
			err := n.deliver(ctx, m)
			if n.delivered != nil {
				n.delivered(m, err)
			}
		}
	}
}

func (n *Notifier) deliver(ctx context.Context, m Message) error {
	if n.off.Load() {
		return errNoDesktop
	}
	m.Title = clean(m.Title, maxTitle)
	m.Body = clean(m.Body, maxBody)
	cctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	err := n.send.send(cctx, m)
	switch {
	case err == nil:
		n.log.Debug("notification shown", "key", m.Key)
	case errors.Is(err, errNoDesktop):
		// Said once; from now on Show drops everything at once.
		n.off.Store(true)
		n.log.Info("desktop notifications off: no desktop session", "err", err)
	case !n.failed.Swap(true):
		// A desktop without a notification server, say. Said once; later
		// failures only in the verbose log, not a line per post.
		n.log.Info("desktop notification not shown", "err", err)
	default:
		n.log.Debug("notification not shown", "key", m.Key, "err", err)
	}
	return err
}
