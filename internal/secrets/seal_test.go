package secrets

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := NewKey()
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("access-token-0123456789"), bytes.Repeat([]byte{0xff}, 4096)} {
		ad := []byte("oauth_tokens:42:access")
		sealed, err := Seal(key, pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != 1+12+len(pt)+16 || sealed[0] != sealVersion {
			t.Fatalf("sealed %d bytes for %d, version %d", len(sealed), len(pt), sealed[0])
		}
		if len(pt) > 4 && bytes.Contains(sealed, pt) {
			t.Fatal("plaintext visible in sealed data")
		}
		got, err := Open(key, sealed, ad)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip: got %q, want %q", got, pt)
		}
	}
}

func TestSealNonceIsFresh(t *testing.T) {
	key := NewKey()
	a, _ := Seal(key, []byte("same"), nil)
	b, _ := Seal(key, []byte("same"), nil)
	if bytes.Equal(a[1:13], b[1:13]) || bytes.Equal(a, b) {
		t.Fatal("two seals share a nonce")
	}
}

func TestOpenRejects(t *testing.T) {
	key := NewKey()
	ad := []byte("row 7")
	sealed, err := Seal(key, []byte("refresh-token"), ad)
	if err != nil {
		t.Fatal(err)
	}
	mustFail := func(t *testing.T, name string, k Key, data, ad []byte) {
		t.Helper()
		pt, err := Open(k, data, ad)
		if !errors.Is(err, ErrDecrypt) || pt != nil {
			t.Fatalf("%s: got %q, %v; want nil, ErrDecrypt", name, pt, err)
		}
	}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= bit
			mustFail(t, "flip", key, bad, ad)
		}
	}
	for n := range len(sealed) {
		mustFail(t, "truncated", key, sealed[:n], ad)
	}
	mustFail(t, "extended", key, append(bytes.Clone(sealed), 0), ad)
	mustFail(t, "wrong key", NewKey(), sealed, ad)
	mustFail(t, "wrong ad", key, sealed, []byte("row 8"))
	mustFail(t, "missing ad", key, sealed, nil)
	mustFail(t, "empty", key, nil, ad)

	if _, err := Open(key, sealed, ad); err != nil {
		t.Fatalf("original no longer opens: %v", err)
	}
}

func TestZeroKeyRefused(t *testing.T) {
	var zero Key
	if _, err := Seal(zero, []byte("x"), nil); err == nil {
		t.Fatal("Seal with zero key succeeded")
	}
	sealed, _ := Seal(NewKey(), []byte("x"), nil)
	if _, err := Open(zero, sealed, nil); err == nil {
		t.Fatal("Open with zero key succeeded")
	}
	if KeyCheck(zero) != nil {
		t.Fatal("KeyCheck of zero key")
	}
	if err := VerifyKeyCheck(zero, KeyCheck(NewKey())); err == nil {
		t.Fatal("VerifyKeyCheck with zero key succeeded")
	}
}

func TestKeyCheck(t *testing.T) {
	key := NewKey()
	rec := KeyCheck(key)
	if len(rec) != 33 || rec[0] != keyCheckVersion {
		t.Fatalf("record %d bytes", len(rec))
	}
	if !bytes.Equal(rec, KeyCheck(key)) {
		t.Fatal("KeyCheck not deterministic")
	}
	if bytes.Contains(rec, key.b[:8]) {
		t.Fatal("record contains key bytes")
	}
	if err := VerifyKeyCheck(key, rec); err != nil {
		t.Fatal(err)
	}
	// The same key decoded again from the keyring verifies.
	again, err := decodeKey(encodeKey(key))
	if err != nil || VerifyKeyCheck(again, rec) != nil {
		t.Fatalf("decoded key: %v", err)
	}
	if err := VerifyKeyCheck(NewKey(), rec); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("other key: %v", err)
	}
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 1
		if VerifyKeyCheck(key, bad) == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	for _, bad := range [][]byte{nil, {}, rec[:32], append(bytes.Clone(rec), 0)} {
		if err := VerifyKeyCheck(key, bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d-byte record: %v", len(bad), err)
		}
	}
}
