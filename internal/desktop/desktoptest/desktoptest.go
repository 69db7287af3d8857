// Package desktoptest runs a real D-Bus session bus and a notification
// server on it, for tests of desktop notifications. The bus is a private
// dbus-daemon per test, never the user's session: a test must not show
// notifications on a developer's desktop, nor take the notification
// server's name from it (or from another test package running at the same
// time on CI's session bus).
package desktoptest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// busConfig is a minimal session bus: one socket, our user only, anyone
// may own any name.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// Bus is a running private session bus.
type Bus struct {
	Addr string // its address, for DBUS_SESSION_BUS_ADDRESS
	cmd  *exec.Cmd
	conf string
	done chan struct{}
}

// StartBus starts a private session bus for t, stopped when t ends. It
// skips t when dbus-daemon is not installed, unless PSN_REQUIRE_DBUS=1
// (CI), where that is a failure.
func StartBus(t testing.TB) *Bus {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if os.Getenv("PSN_REQUIRE_DBUS") == "1" {
			t.Fatalf("dbus-daemon not found and PSN_REQUIRE_DBUS=1 (apt-get install dbus-daemon)")
		}
		t.Skip("dbus-daemon not installed: cannot run a session bus")
	}
	// A short directory: unix socket paths are limited to ~104 bytes.
	dir, err := os.MkdirTemp("", "psnbus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, busConfig, filepath.Join(dir, "bus")), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &Bus{conf: conf}
	b.start(t)
	t.Cleanup(b.Stop)
	return b
}

func (b *Bus) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--config-file="+b.conf, "--print-address", "--nofork")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	b.cmd, b.done = cmd, make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		addr <- strings.TrimSpace(line)
		_, _ = r.WriteTo(discard{})
		_ = cmd.Wait()
		close(b.done)
	}()
	// dbus-daemon prints its address once the socket listens.
	select {
	case a := <-addr:
		if a == "" {
			<-b.done
			t.Fatalf("dbus-daemon did not start: %s", stderr.String())
		}
		// Without its guid, as systemd's user bus is announced: the
		// address stays the same when the bus restarts.
		b.Addr = strings.SplitN(a, ",", 2)[0]
	case <-time.After(30 * time.Second):
		t.Fatalf("dbus-daemon printed no address: %s", stderr.String())
	}
}

// Stop kills the bus, as a desktop session that ended would.
func (b *Bus) Stop() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.done
	b.cmd = nil
}

// Restart stops the bus and starts a new one at the same address: a
// desktop session that restarted.
func (b *Bus) Restart(t testing.TB) {
	t.Helper()
	b.Stop()
	os.Remove(strings.TrimPrefix(b.Addr, "unix:path="))
	old := b.Addr
	b.start(t)
	if b.Addr != old {
		t.Fatalf("restarted bus at %s, want %s", b.Addr, old)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Notification is one Notify call the server received.
type Notification struct {
	App     string
	Replace uint32
	Icon    string
	Title   string
	Body    string
	Actions []string
	Hints   map[string]dbus.Variant
	Expire  int32
}

// Server is a notification server (org.freedesktop.Notifications) on a
// bus that records what it is asked to show.
type Server struct {
	conn *dbus.Conn
	// Received gets every notification, in order of arrival.
	Received chan Notification
	caps     []string
	hang     chan struct{} // closed at cleanup; a hanging server waits on it
	hanging  bool
	mu       sync.Mutex
	calls    int
	nextID   uint32
}

// Option shapes a Server.
type Option func(*Server)

// Hang makes Notify never answer (until the test ends), as a wedged
// notification server would; the call is still recorded on arrival.
func Hang() Option { return func(s *Server) { s.hanging = true } }

// Capabilities sets what GetCapabilities answers (default "body").
func Capabilities(c ...string) Option { return func(s *Server) { s.caps = c } }

// NewServer connects to the bus at addr and owns the notification
// server's name there.
func NewServer(t testing.TB, addr string, opts ...Option) *Server {
	t.Helper()
	s := &Server{Received: make(chan Notification, 100), caps: []string{"body"}, hang: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	s.conn = conn
	t.Cleanup(func() {
		close(s.hang)
		conn.Close()
	})
	if err := conn.Export(impl{s}, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.Notifications: %v (reply %d)", err, reply)
	}
	return s
}

// Calls is how many method calls of any kind the server received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Next waits for the next notification; it fails t after a long while
// (a deadline against hanging, not a measurement).
func (s *Server) Next(t testing.TB) Notification {
	t.Helper()
	select {
	case n := <-s.Received:
		return n
	case <-time.After(30 * time.Second):
		t.Fatal("no notification arrived")
	}
	return Notification{}
}

// impl holds the exported methods (godbus exports every method of the
// value, so they live apart from Server's own).
type impl struct{ s *Server }

func (i impl) count() {
	i.s.mu.Lock()
	i.s.calls++
	i.s.mu.Unlock()
}

func (i impl) Notify(app string, replace uint32, icon, title, body string, actions []string,
	hints map[string]dbus.Variant, expire int32) (uint32, *dbus.Error) {
	i.count()
	i.s.Received <- Notification{App: app, Replace: replace, Icon: icon, Title: title, Body: body,
		Actions: actions, Hints: hints, Expire: expire}
	if i.s.hanging {
		<-i.s.hang
	}
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	i.s.nextID++
	return i.s.nextID, nil
}

func (i impl) GetCapabilities() ([]string, *dbus.Error) {
	i.count()
	return i.s.caps, nil
}

func (i impl) GetServerInformation() (string, string, string, string, *dbus.Error) {
	i.count()
	return "psnd-test", "psnd", "1", "1.2", nil
}
