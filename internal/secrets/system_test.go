package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeOS stands in for go-keyring: it answers with err, or hangs until
// release is closed, like a Secret Service prompt nobody answers.
type fakeOS struct {
	mu      sync.Mutex
	err     error
	release chan struct{}
	calls   int
	panicV  any
}

func (f *fakeOS) do() error {
	f.mu.Lock()
	f.calls++
	ch, err, p := f.release, f.err, f.panicV
	f.mu.Unlock()
	if p != nil {
		panic(p)
	}
	if ch != nil {
		<-ch
	}
	return err
}

func (f *fakeOS) Get(service, user string) (string, error) { return "v", f.do() }
func (f *fakeOS) Set(service, user, pw string) error       { return f.do() }
func (f *fakeOS) Delete(service, user string) error        { return f.do() }

func TestSystemClassifiesErrors(t *testing.T) {
	// The error texts go-keyring and godbus produce on Linux (facts §7).
	unavailable := []error{
		&exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound},
		errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
		errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
		errors.New("dbus: couldn't determine address of session bus"),
		keyring.ErrUnsupportedPlatform,
	}
	for _, cause := range unavailable {
		s := newSystem(time.Second, &fakeOS{err: cause})
		_, err := s.Get(t.Context(), Service, "id")
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("%v: got %v, want ErrUnavailable", cause, err)
		}
		if !strings.HasPrefix(err.Error(), "keyring locked or unavailable: ") || !strings.Contains(err.Error(), cause.Error()) {
			t.Errorf("error text %q does not carry the cause", err)
		}
	}
	s := newSystem(time.Second, &fakeOS{err: keyring.ErrNotFound})
	if _, err := s.Get(t.Context(), Service, "id"); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		t.Errorf("not found: %v", err)
	}
	if err := s.Delete(t.Context(), Service, "id"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete not found: %v", err)
	}
	s = newSystem(time.Second, &fakeOS{err: keyring.ErrSetDataTooBig})
	if err := s.Set(t.Context(), Service, "id", "v"); err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("too big: %v", err)
	}
	s = newSystem(time.Second, &fakeOS{})
	if v, err := s.Get(t.Context(), Service, "id"); err != nil || v != "v" {
		t.Errorf("ok: %q %v", v, err)
	}
}

func TestSystemSurvivesPanic(t *testing.T) {
	s := newSystem(time.Second, &fakeOS{panicV: "interface conversion"})
	if _, err := s.Get(t.Context(), Service, "id"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("panic: %v", err)
	}
}

func TestSystemTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeOS{release: make(chan struct{})}
		s := newSystem(3*time.Second, f)
		start := time.Now()
		_, err := s.Get(t.Context(), Service, "id")
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "within 3s") {
			t.Fatalf("hung get: %v", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Fatalf("returned after %v, want 3s", d)
		}

		// The first call is still stuck: later calls fail after the timeout
		// without starting another OS call.
		err = s.Set(t.Context(), Service, "id", "v")
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "earlier keyring call") {
			t.Fatalf("second call: %v", err)
		}
		f.mu.Lock()
		calls := f.calls
		f.mu.Unlock()
		if calls != 1 {
			t.Fatalf("%d OS calls in flight, want 1", calls)
		}

		// A cancelled caller returns at once with its own error.
		ctx, cancel := context.WithCancel(t.Context())
		go func() { time.Sleep(time.Second); cancel() }()
		start = time.Now()
		if _, err := s.Get(ctx, Service, "id"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("cancelled: %v", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("cancel took %v", d)
		}

		// Once the prompt is answered the keyring works again.
		close(f.release)
		synctest.Wait()
		f.mu.Lock()
		f.release = nil
		f.mu.Unlock()
		if v, err := s.Get(t.Context(), Service, "id"); err != nil || v != "v" {
			t.Fatalf("after release: %q %v", v, err)
		}
	})
}

// TestSystemUnavailableReal runs go-keyring for real with no usable session
// bus, in a child process (godbus caches the session bus per process), and
// checks that System answers ErrUnavailable quickly rather than hanging or
// claiming that there is no key.
func TestSystemUnavailableReal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Secret Service is Linux only")
	}
	if os.Getenv("PSN_SECRETS_CHILD") != "" {
		t.Skip("child")
	}
	type env struct{ unset, set []string }
	cases := map[string]env{
		"bogus bus address": {
			unset: []string{"DBUS_SESSION_BUS_ADDRESS"},
			set:   []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/psnd-test/bus"},
		},
	}
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err != nil {
		// No session bus, as on a headless server. dbus-launch stays on
		// PATH if installed: System must not autolaunch a bus.
		cases["no session bus"] = env{unset: []string{"DBUS_SESSION_BUS_ADDRESS"}}
	} else {
		t.Log("skipping the unset-address case: /run/user/UID/bus exists and godbus would use it")
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSystemUnavailableChild$", "-test.v")
			cmd.Env = append(withoutEnv(e.unset...), e.set...)
			cmd.Env = append(cmd.Env, "PSN_SECRETS_CHILD=1", "GORACE=atexit_sleep_ms=0")
			out, err := cmd.CombinedOutput()
			t.Logf("child output:\n%s", out)
			if err != nil {
				t.Fatalf("child failed: %v", err)
			}
		})
	}
}

func withoutEnv(names ...string) []string {
	var env []string
outer:
	for _, e := range os.Environ() {
		for _, n := range names {
			if strings.HasPrefix(e, n+"=") {
				continue outer
			}
		}
		env = append(env, e)
	}
	return env
}

func TestSystemUnavailableChild(t *testing.T) {
	if os.Getenv("PSN_SECRETS_CHILD") != "1" {
		t.Skip("run by TestSystemUnavailableReal")
	}
	s := NewSystem(DefaultTimeout)
	start := time.Now()
	_, err := s.Get(t.Context(), Service, "datakey:/psnd-test/unavailable")
	took := time.Since(start)
	t.Logf("Get after %v: %v", took.Round(time.Millisecond), err)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	limit := 2 * time.Second
	if v := os.Getenv("PSN_SECRETS_CHILD_LIMIT"); v != "" {
		limit, _ = time.ParseDuration(v)
	}
	if took > limit {
		t.Fatalf("took %v, limit %v: the unavailable keyring was not detected quickly", took, limit)
	}
	_, _, err = LoadOrCreateKey(t.Context(), s, "datakey:/psnd-test/unavailable")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("LoadOrCreateKey: %v", err)
	}
}

// TestSystemKeyringReal stores a data key in a real Secret Service and reads
// it back through go-keyring and secret-tool. CI runs it inside
// dbus-run-session with an unlocked gnome-keyring and
// PSN_TEST_SECRET_SERVICE=1.
func TestSystemKeyringReal(t *testing.T) {
	if os.Getenv("PSN_TEST_SECRET_SERVICE") != "1" {
		t.Skip("set PSN_TEST_SECRET_SERVICE=1 and run inside dbus-run-session with an unlocked gnome-keyring to test the real Secret Service")
	}
	// This test also calls go-keyring directly; without a session bus that
	// would autolaunch a stray dbus-daemon.
	if err := sessionBusKnown(); err != nil {
		t.Fatalf("PSN_TEST_SECRET_SERVICE=1 but %v", err)
	}
	ctx := t.Context()
	id, err := EntryID(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keyring.Delete(Service, id) })
	kr := NewSystem(DefaultTimeout)

	key, created, err := LoadOrCreateKey(ctx, kr, id)
	if err != nil {
		t.Fatalf("LoadOrCreateKey: %v", err)
	}
	if !created {
		t.Fatal("a fresh entry id found an existing key")
	}

	// Read back with go-keyring directly, bypassing System.
	raw, err := keyring.Get(Service, id)
	if err != nil {
		t.Fatalf("go-keyring Get: %v", err)
	}
	got, err := decodeKey(raw)
	if err != nil || !got.Equal(key) {
		t.Fatalf("go-keyring read back another key: %v", err)
	}
	t.Logf("entry service=%q user=%q is in the Secret Service (%d chars)", Service, id, len(raw))

	// And with libsecret's CLI, if present: proof that the key is in the
	// Secret Service, not in something go-keyring keeps for itself.
	if path, err := exec.LookPath("secret-tool"); err == nil {
		out, err := exec.CommandContext(ctx, path, "lookup", "service", Service, "username", id).Output()
		if err != nil {
			t.Fatalf("secret-tool lookup: %v", err)
		}
		if strings.TrimRight(string(out), "\n") != raw {
			t.Fatal("secret-tool returned a different secret")
		}
		t.Log("secret-tool lookup returned the same entry")
	} else {
		t.Log("secret-tool not on PATH; skipped the libsecret cross-check")
	}

	// A restart finds the same key and does not replace it.
	again, created, err := LoadOrCreateKey(ctx, kr, id)
	if err != nil || created || !again.Equal(key) {
		t.Fatalf("reload: %v created=%v equal=%v", err, created, again.Equal(key))
	}

	// A malformed entry is reported, not replaced.
	other, _ := EntryID(t.TempDir())
	t.Cleanup(func() { keyring.Delete(Service, other) })
	if err := keyring.Set(Service, other, "not-a-key"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(ctx, kr, other); !errors.Is(err, ErrMalformed) {
		t.Fatalf("malformed entry: %v", err)
	}
	if v, _ := keyring.Get(Service, other); v != "not-a-key" {
		t.Fatal("malformed entry replaced")
	}

	if err := kr.Delete(ctx, Service, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keyring.Get(Service, id); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("after Delete, go-keyring Get: %v", err)
	}
	if _, err := kr.Get(ctx, Service, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete, System Get: %v", err)
	}
	if err := kr.Delete(ctx, Service, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

// TestSystemKeyringLockedReal starts, in a bus session of its own, a
// gnome-keyring whose login keyring is locked — what a daemon started at
// boot under systemd linger finds — and checks that System reports
// ErrUnavailable within its timeout instead of hanging or answering "no key".
func TestSystemKeyringLockedReal(t *testing.T) {
	if os.Getenv("PSN_TEST_SECRET_SERVICE") != "1" {
		t.Skip("set PSN_TEST_SECRET_SERVICE=1 (with dbus-run-session and gnome-keyring installed) to test a real locked keyring")
	}
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("PSN_TEST_SECRET_SERVICE=1 but %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// The daemon starts without --unlock, so its keyring stays locked. The
	// script waits until it owns the Secret Service name (otherwise D-Bus
	// would activate a second daemon), runs the child test, and stops the
	// daemon it started.
	script := `
HOME="$1" gnome-keyring-daemon --start --foreground --components=secrets >/dev/null 2>&1 &
kpid=$!
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; do
	i=$((i+1))
	if [ $i -gt 100 ]; then echo "gnome-keyring-daemon did not start"; kill $kpid; exit 1; fi
	sleep 0.1
done
"$0" -test.run='^TestSystemUnavailableChild$' -test.v
rc=$?
kill $kpid
exit $rc`
	cmd := exec.CommandContext(ctx, "dbus-run-session", "--", "sh", "-c", script, os.Args[0], t.TempDir())
	cmd.Env = append(withoutEnv("DBUS_SESSION_BUS_ADDRESS"), "PSN_SECRETS_CHILD=1", "GORACE=atexit_sleep_ms=0",
		"PSN_SECRETS_CHILD_LIMIT="+(DefaultTimeout+time.Second).String())
	cmd.WaitDelay = 5 * time.Second // never wait on a pipe held by a stray daemon
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	if err != nil {
		t.Fatalf("child failed: %v", err)
	}
}
