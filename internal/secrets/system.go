package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds each OS keyring call. A locked GNOME keyring answers
// an unlock request with a prompt that, on a machine nobody is watching,
// never completes; go-keyring itself has no timeout (the GitHub CLI uses 3 s).
const DefaultTimeout = 3 * time.Second

// osKeyring is the part of go-keyring that System calls; tests replace it.
type osKeyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) {
	if err := sessionBusKnown(); err != nil {
		return "", err
	}
	return keyring.Get(service, user)
}

func (goKeyring) Set(service, user, pw string) error {
	if err := sessionBusKnown(); err != nil {
		return err
	}
	return keyring.Set(service, user, pw)
}

func (goKeyring) Delete(service, user string) error {
	if err := sessionBusKnown(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}

// sessionBusKnown stops go-keyring from autolaunching a D-Bus session. When
// neither $DBUS_SESSION_BUS_ADDRESS nor /run/user/UID/bus names a session bus,
// godbus runs dbus-launch, which starts a new private bus (and, through it, a
// keyring daemon with a locked keyring) that outlives psnd and can never hold
// the user's key. On such a host the keyring is simply unavailable.
func sessionBusKnown() error {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return nil
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	dir := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and %s/bus does not exist (on a host without a desktop session, set PSN_KEYRING=file)", dir)
}

// System is the OS keyring (Secret Service on Linux, Keychain on macOS,
// Credential Manager on Windows) through go-keyring, with a timeout around
// every call and errors sorted into ErrNotFound and ErrUnavailable.
//
// A call that times out keeps running in the background (go-keyring cannot be
// cancelled); System runs one OS call at a time, so a keyring stuck on a
// prompt holds at most one goroutine and later calls fail fast with
// ErrUnavailable instead of piling up. Set replaces an existing entry.
type System struct {
	timeout time.Duration
	os      osKeyring
	busy    chan struct{} // one token: an OS call is in flight
}

// NewSystem returns the OS keyring with the given per-call timeout
// (DefaultTimeout if timeout <= 0).
func NewSystem(timeout time.Duration) *System {
	return newSystem(timeout, goKeyring{})
}

func newSystem(timeout time.Duration, backend osKeyring) *System {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &System{timeout: timeout, os: backend, busy: make(chan struct{}, 1)}
}

// String names the keyring in error messages and psnd's startup line.
func (s *System) String() string { return "the OS keyring" }

// Get returns the entry, ErrNotFound, or ErrUnavailable.
func (s *System) Get(ctx context.Context, service, user string) (string, error) {
	return s.call(ctx, "get", func() (string, error) { return s.os.Get(service, user) })
}

// Set stores or replaces the entry.
func (s *System) Set(ctx context.Context, service, user, secret string) error {
	_, err := s.call(ctx, "set", func() (string, error) { return "", s.os.Set(service, user, secret) })
	return err
}

// Delete removes the entry or returns ErrNotFound.
func (s *System) Delete(ctx context.Context, service, user string) error {
	_, err := s.call(ctx, "delete", func() (string, error) { return "", s.os.Delete(service, user) })
	return err
}

type callResult struct {
	val string
	err error
}

func (s *System) call(ctx context.Context, op string, fn func() (string, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("keyring %s: %w", op, err)
	}
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case s.busy <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("keyring %s: %w", op, ctx.Err())
	case <-timer.C:
		return "", fmt.Errorf("%w: an earlier keyring call has had no answer for over %s (waiting for an unlock prompt?)", ErrUnavailable, s.timeout)
	}
	done := make(chan callResult, 1)
	go func() {
		var r callResult
		defer func() {
			// go-keyring type-asserts D-Bus replies; a surprising reply must
			// not take the daemon down.
			if p := recover(); p != nil {
				r = callResult{err: fmt.Errorf("keyring library panicked: %v", p)}
			}
			<-s.busy
			done <- r
		}()
		r.val, r.err = fn()
	}()
	select {
	case r := <-done:
		return r.val, classify(op, r.err)
	case <-ctx.Done():
		return "", fmt.Errorf("keyring %s: %w", op, ctx.Err())
	case <-timer.C:
		return "", fmt.Errorf("%w: no answer from the OS keyring within %s (is it locked?)", ErrUnavailable, s.timeout)
	}
}

// classify maps go-keyring's errors onto ours. Only go-keyring's ErrNotFound
// means "no entry"; every other failure (no session bus, no Secret Service,
// "failed to unlock correct collection", unsupported platform) means the
// keyring could not be asked, and keeps its original text.
func classify(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("keyring %s: %w", op, err)
	default:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}
