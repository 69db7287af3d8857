package secrets

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Secret holds a token or the X client secret. Printing it (any fmt verb,
// String, GoString), logging it with slog, or marshalling it to JSON or text
// yields "[redacted]"; only Reveal returns the value, so every use of the
// plaintext is visible in the code.
//
// The value sits behind a pointer: a struct that keeps a Secret in an
// unexported field, which fmt prints without calling methods, shows an
// address, not the secret. Compare with Equal, not ==.
type Secret struct {
	p *string
}

// NewSecret wraps s. The empty string gives the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{p: &s}
}

// Reveal returns the plaintext. Call it only where the value leaves psnd on
// purpose: an HTTP request to X, or Seal.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether s is empty.
func (s Secret) IsZero() bool { return s.p == nil || *s.p == "" }

// Equal compares two secrets in constant time (for equal lengths).
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

// String redacts: Secret never prints its value.
func (Secret) String() string { return redacted }

// GoString redacts, for %#v.
func (Secret) GoString() string { return redacted }

// Format makes every fmt verb print "[redacted]".
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue keeps the secret out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON keeps the secret out of JSON.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText keeps the secret out of text encodings (YAML, slog).
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalJSON refuses, so that a redacted value written out can never be
// read back as if it were the secret: decode a plain string and call
// NewSecret.
func (*Secret) UnmarshalJSON([]byte) error {
	return errors.New("secrets.Secret cannot be decoded from JSON; decode a string and use NewSecret")
}
