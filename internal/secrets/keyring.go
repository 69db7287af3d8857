// Package secrets keeps psnd's secrets secret (SPEC §3): the 256-bit data key
// that encrypts tokens and the X client secret, where that key lives (the OS
// keyring, or an explicitly chosen key file), AES-256-GCM sealing with the
// key, and the Secret and Key types, which never print their contents.
//
// The data key is one keyring entry per data directory: service "psnd", user
// EntryID(PSN_HOME). A key that exists is never replaced; a key that cannot be
// read because the keyring is locked or absent is reported as ErrUnavailable,
// never as "no key yet", so psnd cannot mint a new key and orphan the data
// encrypted with the old one. KeyProvider turns ErrUnavailable into the
// daemon's visible "waiting for keyring" state.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
)

// Service is the keyring service name of every psnd entry.
const Service = "psnd"

var (
	// ErrNotFound means the keyring answered and holds no such entry: the
	// only error after which creating a new key is safe.
	ErrNotFound = errors.New("no such keyring entry")
	// ErrUnavailable means the keyring could not be asked: no D-Bus session,
	// no Secret Service, a locked collection, or no answer within the
	// timeout. Whether a key exists is unknown, so nothing may be created.
	// The wrapped error carries the original cause.
	ErrUnavailable = errors.New("keyring locked or unavailable")
	// ErrExists is returned by a keyring that refuses to replace an entry
	// (File); LoadOrCreateKey treats it as "another creator won".
	ErrExists = errors.New("keyring entry already exists")
	// ErrMalformed means an entry, key file or key-check record exists but
	// does not hold what psnd wrote. psnd never replaces it by itself.
	ErrMalformed = errors.New("malformed")
)

// Keyring stores string secrets by service and user. Implementations must
// report a missing entry as ErrNotFound and an unreachable store as
// ErrUnavailable (wrapped), and must return when ctx is done.
//
// Set may replace an existing entry (the OS keyring does) or refuse with
// ErrExists (File); callers that must not replace an entry look first, as
// LoadOrCreateKey does.
type Keyring interface {
	Get(ctx context.Context, service, user string) (string, error)
	Set(ctx context.Context, service, user, secret string) error
	Delete(ctx context.Context, service, user string) error
}

// EntryID returns the keyring user of the data key for the data directory
// home: "datakey:" followed by the absolute, cleaned path. Symlinks are not
// resolved, so the id is exactly what the user sees in secret-tool or
// Keychain Access; moving or renaming the data directory therefore needs the
// entry to be moved too (with the file keyring, master.key moves with it).
func EntryID(home string) (string, error) {
	if home == "" {
		return "", errors.New("data key entry id: empty data directory")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("data key entry id: %w", err)
	}
	return "datakey:" + abs, nil
}

// KeyringFromEnv returns the keyring chosen by PSN_KEYRING: the OS keyring
// for "" or "system", the key file $PSN_HOME/master.key for "file". Anything
// else is an error: a typo must not silently pick a different key store.
func KeyringFromEnv(mode, home string) (Keyring, error) {
	switch mode {
	case "", "system":
		return NewSystem(DefaultTimeout), nil
	case "file":
		if home == "" {
			return nil, errors.New("PSN_KEYRING=file needs a data directory (PSN_HOME)")
		}
		return NewFile(home), nil
	default:
		return nil, fmt.Errorf("PSN_KEYRING must be system or file, not %q", mode)
	}
}

// Memory is an in-memory Keyring for tests. It can be made to fail every
// call (FailWith) or to hang like a keyring waiting for an unlock prompt
// (Block). Set replaces, like the OS keyring. The zero value is an empty,
// working keyring; use it by pointer.
type Memory struct {
	mu      sync.Mutex
	entries map[string]string
	err     error
	blocked chan struct{}
	calls   int
}

// FailWith makes every later call return err; nil restores normal service.
// To simulate a locked keyring pass an error wrapping ErrUnavailable.
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

// Block makes later calls wait until Unblock or until their ctx is done.
func (m *Memory) Block() {
	m.mu.Lock()
	if m.blocked == nil {
		m.blocked = make(chan struct{})
	}
	m.mu.Unlock()
}

// Unblock releases calls held by Block.
func (m *Memory) Unblock() {
	m.mu.Lock()
	if m.blocked != nil {
		close(m.blocked)
		m.blocked = nil
	}
	m.mu.Unlock()
}

// Calls reports how many calls have been made.
func (m *Memory) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// String names the keyring in error messages.
func (m *Memory) String() string { return "memory keyring" }

// enter counts the call, honours Block and FailWith, and returns with m.mu
// held when the call may proceed.
func (m *Memory) enter(ctx context.Context) error {
	m.mu.Lock()
	m.calls++
	for m.blocked != nil {
		ch := m.blocked
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		m.mu.Lock()
	}
	if err := ctx.Err(); err != nil {
		m.mu.Unlock()
		return err
	}
	if m.err != nil {
		err := m.err
		m.mu.Unlock()
		return err
	}
	return nil
}

func memKey(service, user string) string { return service + "\x00" + user }

// Get returns the entry or ErrNotFound.
func (m *Memory) Get(ctx context.Context, service, user string) (string, error) {
	if err := m.enter(ctx); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	s, ok := m.entries[memKey(service, user)]
	if !ok {
		return "", ErrNotFound
	}
	return s, nil
}

// Set stores or replaces the entry.
func (m *Memory) Set(ctx context.Context, service, user, secret string) error {
	if err := m.enter(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = make(map[string]string)
	}
	m.entries[memKey(service, user)] = secret
	return nil
}

// Delete removes the entry or returns ErrNotFound.
func (m *Memory) Delete(ctx context.Context, service, user string) error {
	if err := m.enter(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	k := memKey(service, user)
	if _, ok := m.entries[k]; !ok {
		return ErrNotFound
	}
	delete(m.entries, k)
	return nil
}
