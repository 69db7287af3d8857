package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
)

var (
	// ErrDecrypt is every failure to open sealed data: wrong key, wrong
	// associated data, a flipped byte, truncation, an unknown version.
	ErrDecrypt = errors.New("cannot decrypt: wrong key or tampered data")
	// ErrWrongKey means a key-check record was made with another key: the
	// data it guards cannot be decrypted with this one.
	ErrWrongKey = errors.New("wrong data key: the data was encrypted with a different key")

	errZeroKey = errors.New("secrets: zero Key")
)

// sealVersion is the first byte of sealed data: AES-256-GCM with a 12-byte
// random nonce, the version byte itself authenticated with the caller's
// associated data.
const sealVersion byte = 1

// Seal encrypts plaintext with AES-256-GCM under key, binding
// associatedData (for tokens, the row they belong to, so a ciphertext moved
// to another row does not open). The result is
// version (1 byte) | nonce (12 bytes) | ciphertext | tag (16 bytes).
func Seal(key Key, plaintext, associatedData []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1, 1+aead.Overhead()+len(plaintext))
	out[0] = sealVersion
	return aead.Seal(out, nil, plaintext, sealAD(sealVersion, associatedData)), nil
}

// Open decrypts what Seal produced with the same key and associated data.
// Any mismatch or damage yields ErrDecrypt, never partial plaintext.
func Open(key Key, sealed, associatedData []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.Overhead() {
		return nil, ErrDecrypt
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w (unknown format version %d)", ErrDecrypt, sealed[0])
	}
	pt, err := aead.Open(nil, nil, sealed[1:], sealAD(sealed[0], associatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

func newAEAD(key Key) (cipher.AEAD, error) {
	if key.IsZero() {
		return nil, errZeroKey
	}
	block, err := aes.NewCipher(key.b[:])
	if err != nil {
		return nil, err
	}
	// Random 96-bit nonce per message, prepended by the AEAD itself.
	return cipher.NewGCMWithRandomNonce(block)
}

func sealAD(version byte, ad []byte) []byte {
	b := make([]byte, 0, 1+len(ad))
	b = append(b, version)
	return append(b, ad...)
}

// keyCheckVersion is the first byte of a key-check record.
const keyCheckVersion byte = 1

const keyCheckLabel = "psnd data key check v1"

// KeyCheck returns a record identifying key without revealing it:
// version (1 byte) | HMAC-SHA256(key, label). The store keeps it beside the
// data it encrypts, so that at startup a missing or different key is
// detected (VerifyKeyCheck) before anything is written. It returns nil for
// the zero Key.
func KeyCheck(key Key) []byte {
	if key.IsZero() {
		return nil
	}
	m := hmac.New(sha256.New, key.b[:])
	m.Write([]byte(keyCheckLabel))
	return m.Sum([]byte{keyCheckVersion})
}

// VerifyKeyCheck reports whether record was made by KeyCheck with key:
// nil if so, ErrWrongKey if it was made with another key, an ErrMalformed
// error if it is not a key-check record.
func VerifyKeyCheck(key Key, record []byte) error {
	if key.IsZero() {
		return errZeroKey
	}
	if len(record) != 1+sha256.Size || record[0] != keyCheckVersion {
		return fmt.Errorf("key check record is %w (%d bytes)", ErrMalformed, len(record))
	}
	if !hmac.Equal(KeyCheck(key), record) {
		return ErrWrongKey
	}
	return nil
}
