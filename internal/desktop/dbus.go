package desktop

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/godbus/dbus/v5"
)

// The freedesktop.org Desktop Notifications interface.
const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifyIface = "org.freedesktop.Notifications"
)

// dbusSender shows messages through the session bus's notification
// server. It connects at the first message and keeps the connection; used
// only by the delivery goroutine, so it needs no lock.
type dbusSender struct {
	addr   string
	conn   *dbus.Conn
	markup bool // the server reads the body as markup
}

func (s *dbusSender) send(ctx context.Context, m Message) error {
	fresh := false
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return err
		}
		fresh = true
	}
	err := s.notify(ctx, m)
	if err == nil || fresh || !s.lost(ctx, err) {
		return err
	}
	// The bus went away (a desktop session restarted, say): connect once
	// more. A bus that is still gone turns notifications off.
	s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	return s.notify(ctx, m)
}

// lost reports whether err means the connection is gone, as opposed to an
// answer of the notification server or our own deadline.
func (s *dbusSender) lost(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var de dbus.Error
	return !errors.As(err, &de)
}

func (s *dbusSender) connect(ctx context.Context) error {
	conn, err := dial(ctx, s.addr)
	if err != nil {
		return fmt.Errorf("%w: connect to the session bus: %w", errNoDesktop, err)
	}
	s.conn = conn
	// Capabilities are asked once per connection; a server that cannot
	// say is taken to show plain text.
	var caps []string
	if err := s.obj().CallWithContext(ctx, notifyIface+".GetCapabilities", 0).Store(&caps); err == nil {
		s.markup = slices.Contains(caps, "body-markup")
	}
	return nil
}

// dial connects to the bus at addr, giving up when ctx ends: godbus's
// handshake takes no deadline, and a bus that accepts but never answers
// must not hold the deliverer (nor the daemon's shutdown) for ever.
func dial(ctx context.Context, addr string) (*dbus.Conn, error) {
	type result struct {
		conn *dbus.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		// The connection outlives this message; its context is not ctx
		// (which ends with the message's deadline).
		c, err := dbus.Connect(addr, dbus.WithContext(context.WithoutCancel(ctx)))
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		return r.conn, r.err
	case <-ctx.Done():
		// Close whatever the handshake yields, whenever it does.
		go func() {
			if r := <-ch; r.conn != nil {
				_ = r.conn.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

func (s *dbusSender) obj() dbus.BusObject { return s.conn.Object(notifyName, notifyPath) }

// notify calls Notify(app_name, replaces_id, app_icon, summary, body,
// actions, hints, expire_timeout) and reads back the notification's id.
func (s *dbusSender) notify(ctx context.Context, m Message) error {
	body := m.Body
	if s.markup {
		body = markup.Replace(body)
	}
	urgency := byte(1) // normal
	if m.Urgent {
		urgency = 2 // critical: stays until dismissed, as a failure should
	}
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(urgency)}
	var id uint32
	err := s.obj().CallWithContext(ctx, notifyIface+".Notify", 0,
		"psnd", uint32(0), "", m.Title, body, []string{}, hints, int32(-1)).Store(&id)
	if err != nil {
		return fmt.Errorf("notify over D-Bus: %w", err)
	}
	return nil
}

func (s *dbusSender) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}
