package secrets

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// KeySize is the data key's length in bytes (AES-256).
const KeySize = 32

// Key is the data key. Its bytes are reachable only inside this package:
// every way of printing, logging or marshalling it yields "[redacted]", and
// because they sit behind a pointer, even a struct holding a Key in an
// unexported field prints an address rather than the key. The zero Key is
// invalid.
type Key struct {
	b *[KeySize]byte
}

// NewKey returns a fresh random key.
func NewKey() Key {
	var b [KeySize]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return Key{b: &b}
}

// IsZero reports whether k is the zero Key, which encrypts nothing.
func (k Key) IsZero() bool { return k.b == nil }

// Equal reports, in constant time, whether k and o are the same key.
func (k Key) Equal(o Key) bool {
	if k.b == nil || o.b == nil {
		return k.b == o.b
	}
	return subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

const redacted = "[redacted]"

// String redacts: Key never prints its value.
func (Key) String() string { return redacted }

// GoString redacts, for %#v.
func (Key) GoString() string { return redacted }

// Format makes every fmt verb, %x and %d included, print "[redacted]".
func (Key) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue keeps the key out of slog output.
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON keeps the key out of JSON.
func (Key) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText keeps the key out of text encodings (YAML, slog).
func (Key) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalJSON refuses: a key is never read from JSON.
func (*Key) UnmarshalJSON([]byte) error {
	return errors.New("secrets.Key cannot be decoded from JSON")
}

// keyPrefix versions the keyring entry's format.
const keyPrefix = "psnd-datakey-v1:"

func encodeKey(k Key) string {
	return keyPrefix + base64.StdEncoding.EncodeToString(k.b[:])
}

// decodeKey parses a keyring entry. Its errors never quote the entry.
func decodeKey(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return Key{}, fmt.Errorf("%w: not a psnd data key (no %q prefix)", ErrMalformed, keyPrefix)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(rest)
	if err != nil {
		return Key{}, fmt.Errorf("%w: data key is not valid base64", ErrMalformed)
	}
	if len(raw) != KeySize {
		return Key{}, fmt.Errorf("%w: data key has %d bytes, want %d", ErrMalformed, len(raw), KeySize)
	}
	var b [KeySize]byte
	copy(b[:], raw)
	clear(raw)
	return Key{b: &b}, nil
}

// createMu serialises key creation in this process: with an OS keyring whose
// Set replaces, two creators in one process could otherwise each keep a
// different key. (Across processes only the daemon creates keys in normal
// use; the re-read below narrows the remaining window.)
var createMu sync.Mutex

// LoadOrCreateKey returns the data key stored in kr under service "psnd" and
// user id (see EntryID), creating a random one if, and only if, the keyring
// answers that there is none. created reports whether this call made the
// key. An entry that exists but is malformed is an error, never replaced; so
// is an unreachable keyring (ErrUnavailable).
//
// After storing a new key it reads the entry back and returns what the
// keyring holds, so that when two creators race both end up with the key
// that stayed.
func LoadOrCreateKey(ctx context.Context, kr Keyring, id string) (key Key, created bool, err error) {
	if id == "" {
		return Key{}, false, errors.New("load data key: empty entry id")
	}
	createMu.Lock()
	defer createMu.Unlock()

	s, err := kr.Get(ctx, Service, id)
	switch {
	case err == nil:
		k, err := decodeKey(s)
		if err != nil {
			return Key{}, false, malformedEntry(kr, id, err)
		}
		return k, false, nil
	case errors.Is(err, ErrNotFound):
	default:
		return Key{}, false, fmt.Errorf("read data key: %w", err)
	}

	k := NewKey()
	if err := kr.Set(ctx, Service, id, encodeKey(k)); err != nil && !errors.Is(err, ErrExists) {
		return Key{}, false, fmt.Errorf("store new data key: %w", err)
	}
	s, err = kr.Get(ctx, Service, id)
	if errors.Is(err, ErrNotFound) {
		return Key{}, false, fmt.Errorf("store new data key: %s did not keep it", describe(kr))
	}
	if err != nil {
		return Key{}, false, fmt.Errorf("read back new data key: %w", err)
	}
	got, err := decodeKey(s)
	if err != nil {
		return Key{}, false, malformedEntry(kr, id, err)
	}
	return got, got.Equal(k), nil
}

func malformedEntry(kr Keyring, id string, err error) error {
	return fmt.Errorf("data key in %s (service %q, user %q): %w; psnd will not replace it, because data encrypted with it would be lost", describe(kr), Service, id, err)
}

func describe(kr Keyring) string {
	if s, ok := kr.(fmt.Stringer); ok {
		return s.String()
	}
	return "the keyring"
}
