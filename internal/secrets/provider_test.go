package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noJitter() float64 { return 0 }

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Rand: noJitter}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Second {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w*time.Second)
		}
	}
	if got := b.Delay(1000); got != time.Minute {
		t.Errorf("Delay(1000) = %v", got)
	}
	j := Backoff{Rand: func() float64 { return 0.999 }}
	if got := j.Delay(7); got < 48*time.Second || got > time.Minute {
		t.Errorf("jittered Delay(7) = %v, want within [48s, 60s]", got)
	}
}

func TestNewKeyProviderValidates(t *testing.T) {
	if _, err := NewKeyProvider(ProviderConfig{ID: "id"}); err == nil {
		t.Error("no keyring accepted")
	}
	if _, err := NewKeyProvider(ProviderConfig{Keyring: &Memory{}}); err == nil {
		t.Error("no id accepted")
	}
}

func TestKeyProviderWaitsForLockedKeyring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Memory
		m.FailWith(fmt.Errorf("%w: failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'", ErrUnavailable))
		var logs syncBuffer
		p, err := NewKeyProvider(ProviderConfig{
			Keyring: &m,
			ID:      "datakey:/home/u/.local/share/psn",
			Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
			Backoff: Backoff{Rand: noJitter},
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if st := p.State(); st.State != StateWaiting || st.Attempts != 0 {
			t.Fatalf("before Run: %+v", st)
		}
		if _, err := p.TryKey(); !errors.Is(err, ErrWaiting) {
			t.Fatalf("TryKey before Run: %v", err)
		}

		runErr := make(chan error, 1)
		go func() { runErr <- p.Run(t.Context()) }()
		gotKey := make(chan Key, 1)
		go func() {
			k, err := p.Key(t.Context())
			if err != nil {
				t.Error(err)
			}
			gotKey <- k
		}()

		synctest.Wait()
		st := p.State()
		if st.State != StateWaiting || st.Attempts != 1 || !st.NextTry.Equal(start.Add(time.Second)) ||
			!strings.Contains(st.LastError, "failed to unlock") || !st.Since.Equal(start) {
			t.Fatalf("after first attempt: %+v", st)
		}
		if _, err := p.TryKey(); !errors.Is(err, ErrWaiting) || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("TryKey while locked: %v", err)
		}

		// Retries at 1s, 2s, 4s, 8s ... capped at 1m: attempts at
		// t = 0, 1, 3, 7, 15, 31, 63, 123, 183.
		for _, at := range []time.Duration{1, 3, 7, 15, 31, 63, 123, 183} {
			time.Sleep(time.Until(start.Add(at*time.Second)) - time.Millisecond)
			synctest.Wait()
			before := p.State().Attempts
			time.Sleep(time.Millisecond)
			synctest.Wait()
			if after := p.State().Attempts; after != before+1 {
				t.Fatalf("at %v: attempts %d -> %d, want one more", at*time.Second, before, after)
			}
		}
		st = p.State()
		if st.Attempts != 9 || st.State != StateWaiting || !st.Since.Equal(start) {
			t.Fatalf("after 183s: %+v", st)
		}
		if n := strings.Count(logs.String(), "level=WARN"); n != 9 {
			t.Fatalf("%d warn lines for 9 failed attempts:\n%s", n, logs.String())
		}
		select {
		case <-gotKey:
			t.Fatal("Key returned while the keyring is locked")
		default:
		}

		// The user logs in: the next attempt (at 243s) reads the key.
		m.FailWith(nil)
		time.Sleep(time.Until(start.Add(243 * time.Second)))
		synctest.Wait()
		if err := <-runErr; err != nil {
			t.Fatalf("Run: %v", err)
		}
		st = p.State()
		if st.State != StateReady || st.Attempts != 10 || !st.Created || !st.NextTry.IsZero() || !st.Since.Equal(start.Add(243*time.Second)) {
			t.Fatalf("ready: %+v", st)
		}
		k := <-gotKey
		if k.IsZero() {
			t.Fatal("Key returned the zero key")
		}
		if tk, err := p.TryKey(); err != nil || !tk.Equal(k) {
			t.Fatalf("TryKey: %v", err)
		}

		// Cached: a locked keyring later does not matter.
		m.FailWith(errors.New("boom"))
		calls := m.Calls()
		if k2, err := p.Key(t.Context()); err != nil || !k2.Equal(k) || m.Calls() != calls {
			t.Fatalf("cached key: %v", err)
		}
		if !strings.Contains(logs.String(), "data key ready") || strings.Contains(logs.String(), encodeKey(k)) {
			t.Fatalf("logs:\n%s", logs.String())
		}
	})
}

func TestKeyProviderHangingKeyring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Memory
		m.Block() // a keyring stuck on an unlock prompt
		p, _ := NewKeyProvider(ProviderConfig{Keyring: &m, ID: "id", AttemptTimeout: 5 * time.Second, Backoff: Backoff{Rand: noJitter}})
		go p.Run(t.Context())
		time.Sleep(5 * time.Second)
		synctest.Wait()
		st := p.State()
		if st.State != StateWaiting || st.Attempts != 1 || !strings.Contains(st.LastError, "no answer") {
			t.Fatalf("hung attempt: %+v", st)
		}
		m.Unblock()
		time.Sleep(time.Second)
		synctest.Wait()
		if st := p.State(); st.State != StateReady {
			t.Fatalf("after unblock: %+v", st)
		}
	})
}

func TestKeyProviderCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Memory
		m.FailWith(fmt.Errorf("%w: locked", ErrUnavailable))
		p, _ := NewKeyProvider(ProviderConfig{Keyring: &m, ID: "id"})
		ctx, cancel := context.WithCancel(t.Context())
		runErr := make(chan error, 1)
		go func() { runErr <- p.Run(ctx) }()

		keyCtx, keyCancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer keyCancel()
		start := time.Now()
		_, err := p.Key(keyCtx)
		if !errors.Is(err, ErrWaiting) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 10*time.Second {
			t.Fatalf("Key with deadline: %v after %v", err, time.Since(start))
		}

		cancel()
		if err := <-runErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after cancel: %v", err)
		}
		if st := p.State(); st.State != StateWaiting {
			t.Fatalf("state after cancel: %+v", st)
		}
		if err := p.Run(t.Context()); err == nil {
			t.Fatal("second Run accepted")
		}
	})
}

func TestKeyProviderMalformedIsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Memory
		m.Set(t.Context(), Service, "id", "garbage")
		var logs syncBuffer
		p, _ := NewKeyProvider(ProviderConfig{Keyring: &m, ID: "id", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go p.Run(ctx)
		synctest.Wait()
		st := p.State()
		if st.State != StateError || !strings.Contains(st.LastError, "will not replace") {
			t.Fatalf("state: %+v", st)
		}
		// Key does not hang on a key that will not come by itself.
		if _, err := p.Key(t.Context()); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Key: %v", err)
		}
		if _, err := p.TryKey(); !errors.Is(err, ErrMalformed) {
			t.Fatalf("TryKey: %v", err)
		}
		if !strings.Contains(logs.String(), "level=ERROR") {
			t.Fatalf("logs:\n%s", logs.String())
		}
		if v, _ := m.Get(t.Context(), Service, "id"); v != "garbage" {
			t.Fatal("malformed entry replaced")
		}

		// The user repairs the entry; a retry picks it up without a restart.
		m.Delete(t.Context(), Service, "id")
		p.RetryNow()
		synctest.Wait()
		if st := p.State(); st.State != StateReady {
			t.Fatalf("after repair: %+v", st)
		}
	})
}
