package secrets

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestEntryID(t *testing.T) {
	dir := t.TempDir()
	id, err := EntryID(filepath.Join(dir, "a", "..", "psn"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "datakey:" + filepath.Join(dir, "psn"); id != want {
		t.Fatalf("EntryID = %q, want %q", id, want)
	}
	if _, err := EntryID(""); err == nil {
		t.Fatal("EntryID(\"\") succeeded")
	}
	rel, err := EntryID("psn")
	if err != nil || !filepath.IsAbs(strings.TrimPrefix(rel, "datakey:")) {
		t.Fatalf("EntryID(relative) = %q, %v; want an absolute path", rel, err)
	}
}

func TestKeyringFromEnv(t *testing.T) {
	home := t.TempDir()
	for _, mode := range []string{"", "system"} {
		kr, err := KeyringFromEnv(mode, home)
		if err != nil {
			t.Fatalf("%q: %v", mode, err)
		}
		if _, ok := kr.(*System); !ok {
			t.Fatalf("%q: got %T, want *System", mode, kr)
		}
	}
	kr, err := KeyringFromEnv("file", home)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := kr.(*File)
	if !ok || f.Path() != filepath.Join(home, "master.key") {
		t.Fatalf("file: got %T %v", kr, kr)
	}
	if _, err := KeyringFromEnv("file", ""); err == nil {
		t.Fatal("file without home succeeded")
	}
	for _, bad := range []string{"File", "plaintext", "none"} {
		_, err := KeyringFromEnv(bad, home)
		if err == nil || !strings.Contains(err.Error(), "PSN_KEYRING must be system or file") {
			t.Fatalf("%q: err = %v", bad, err)
		}
	}
}

func TestMemory(t *testing.T) {
	ctx := t.Context()
	var m Memory
	if _, err := m.Get(ctx, "s", "u"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get empty: %v", err)
	}
	if err := m.Set(ctx, "s", "u", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "s", "u", "v2"); err != nil {
		t.Fatal(err)
	}
	if v, err := m.Get(ctx, "s", "u"); err != nil || v != "v2" {
		t.Fatalf("get = %q, %v", v, err)
	}
	if _, err := m.Get(ctx, "s", "other"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other user: %v", err)
	}
	locked := fmt.Errorf("%w: collection locked", ErrUnavailable)
	m.FailWith(locked)
	if _, err := m.Get(ctx, "s", "u"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("failing get: %v", err)
	}
	m.FailWith(nil)
	if err := m.Delete(ctx, "s", "u"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "s", "u"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}

	m.Block()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Get(cctx, "s", "u"); !errors.Is(err, context.Canceled) {
		t.Fatalf("blocked get with cancelled ctx: %v", err)
	}
	done := make(chan error)
	go func() { done <- m.Set(ctx, "s", "u", "v3") }()
	m.Unblock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m.Calls() != 10 {
		t.Fatalf("calls = %d, want 10", m.Calls())
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	ctx := t.Context()
	var m Memory
	k1, created, err := LoadOrCreateKey(ctx, &m, "datakey:/a")
	if err != nil || !created || k1.IsZero() {
		t.Fatalf("first: %v created=%v zero=%v", err, created, k1.IsZero())
	}
	k2, created, err := LoadOrCreateKey(ctx, &m, "datakey:/a")
	if err != nil || created || !k2.Equal(k1) {
		t.Fatalf("second: %v created=%v equal=%v", err, created, k2.Equal(k1))
	}
	k3, _, err := LoadOrCreateKey(ctx, &m, "datakey:/b")
	if err != nil || k3.Equal(k1) {
		t.Fatalf("other data dir shares the key: %v", err)
	}
	raw, _ := m.Get(ctx, Service, "datakey:/a")
	if !strings.HasPrefix(raw, keyPrefix) {
		t.Fatalf("stored entry %q lacks prefix", raw)
	}
	if _, _, err := LoadOrCreateKey(ctx, &m, ""); err == nil {
		t.Fatal("empty id accepted")
	}
}

func TestLoadOrCreateKeyNeverReplacesMalformed(t *testing.T) {
	ctx := t.Context()
	for name, stored := range map[string]string{
		"foreign":     "hunter2-not-a-psnd-key",
		"bad base64":  keyPrefix + "!!!",
		"short key":   keyPrefix + "AAAA",
		"long key":    keyPrefix + strings.Repeat("A", 48),
		"empty":       "",
		"prefix only": keyPrefix,
	} {
		t.Run(name, func(t *testing.T) {
			var m Memory
			m.Set(ctx, Service, "id", stored)
			_, _, err := LoadOrCreateKey(ctx, &m, "id")
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if stored != "" && strings.Contains(err.Error(), stored) && len(stored) > len(keyPrefix) {
				t.Fatalf("error quotes the stored entry: %v", err)
			}
			if got, _ := m.Get(ctx, Service, "id"); got != stored {
				t.Fatalf("entry replaced: %q", got)
			}
		})
	}
}

func TestLoadOrCreateKeyUnavailableCreatesNothing(t *testing.T) {
	ctx := t.Context()
	var m Memory
	m.FailWith(fmt.Errorf("%w: failed to unlock correct collection", ErrUnavailable))
	_, _, err := LoadOrCreateKey(ctx, &m, "id")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "failed to unlock") {
		t.Fatalf("err = %v", err)
	}
	m.FailWith(nil)
	if _, err := m.Get(ctx, Service, "id"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a key was created while the keyring was unavailable: %v", err)
	}
}

// racyKeyring lets a competing creator store its key between our Set and
// the read-back, as another process could.
type racyKeyring struct {
	Memory
	other string
}

func (r *racyKeyring) Set(ctx context.Context, service, user, secret string) error {
	if err := r.Memory.Set(ctx, service, user, secret); err != nil {
		return err
	}
	return r.Memory.Set(ctx, service, user, r.other)
}

func TestLoadOrCreateKeyAdoptsWinner(t *testing.T) {
	winner := NewKey()
	r := &racyKeyring{other: encodeKey(winner)}
	k, created, err := LoadOrCreateKey(t.Context(), r, "id")
	if err != nil {
		t.Fatal(err)
	}
	if !k.Equal(winner) || created {
		t.Fatalf("got created=%v equal=%v; want the winner's key, not created", created, k.Equal(winner))
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	var m Memory
	const n = 16
	keys := make([]Key, n)
	var created sync.WaitGroup
	var mu sync.Mutex
	nCreated := 0
	for i := range n {
		created.Go(func() {
			k, c, err := LoadOrCreateKey(t.Context(), &m, "id")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
			if c {
				mu.Lock()
				nCreated++
				mu.Unlock()
			}
		})
	}
	created.Wait()
	for i := range keys {
		if !keys[i].Equal(keys[0]) {
			t.Fatalf("creator %d got a different key", i)
		}
	}
	if nCreated != 1 {
		t.Fatalf("%d creators report created, want 1", nCreated)
	}
}

// lateFile answers its first Get as if the key file did not exist yet and
// lets another process create it meanwhile.
type lateFile struct {
	*File
	gets  int
	other func()
}

func (l *lateFile) Get(ctx context.Context, service, user string) (string, error) {
	l.gets++
	if l.gets == 1 {
		l.other()
		return "", ErrNotFound
	}
	return l.File.Get(ctx, service, user)
}

func TestLoadOrCreateKeyFileRace(t *testing.T) {
	// Two File keyrings on one directory, as two processes would have: the
	// other one creates the key file between our look and our Set.
	home := t.TempDir()
	theirs := NewKey()
	l := &lateFile{File: NewFile(home), other: func() {
		if err := NewFile(home).Set(t.Context(), Service, "id", encodeKey(theirs)); err != nil {
			t.Fatal(err)
		}
	}}
	k, created, err := LoadOrCreateKey(t.Context(), l, "id")
	if err != nil || created || !k.Equal(theirs) {
		t.Fatalf("got %v created=%v equal=%v; want their key", err, created, k.Equal(theirs))
	}
}
