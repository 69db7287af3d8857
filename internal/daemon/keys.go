package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/doctor"
	"github.com/psnd/psnd/internal/localapi"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

// ErrKeyMismatch is secrets.ErrKeyMismatch, kept here for the daemon's
// callers.
var ErrKeyMismatch = secrets.ErrKeyMismatch

// keys wraps the KeyProvider with the database binding: the first key seen
// is recorded in settings.key_check, and a different key later is refused.
type keys struct {
	provider *secrets.KeyProvider
	store    *sqlstore.Store
	clock    clock.Clock
	mode     string
	log      *slog.Logger

	mu       sync.Mutex
	bindErr  error
	bound    bool
	boundKey secrets.Key
	change   chan struct{} // closed and replaced when bound or refused
}

// changed returns a channel closed at the next change of the key's state.
func (k *keys) changed() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.change
}

// notifyLocked signals a state change; k.mu must be held.
func (k *keys) notifyLocked() {
	close(k.change)
	k.change = make(chan struct{})
}

func newKeys(kr secrets.Keyring, home, mode string, store *sqlstore.Store, clk clock.Clock, backoff secrets.Backoff, log *slog.Logger) (*keys, error) {
	id, err := secrets.EntryID(home)
	if err != nil {
		return nil, err
	}
	p, err := secrets.NewKeyProvider(secrets.ProviderConfig{Keyring: kr, ID: id, Logger: log, Clock: clk, Backoff: backoff})
	if err != nil {
		return nil, err
	}
	return &keys{provider: p, store: store, clock: clk, mode: mode, log: log, change: make(chan struct{})}, nil
}

// run loads the key (waiting while the keyring is locked) and binds it to
// the database.
func (k *keys) run(ctx context.Context) {
	if err := k.provider.Run(ctx); err != nil {
		return // ctx ended
	}
	key, err := k.provider.TryKey()
	if err != nil {
		return
	}
	err = k.bind(ctx, key)
	k.mu.Lock()
	defer k.mu.Unlock()
	defer k.notifyLocked()
	if err != nil {
		k.bindErr = err
		k.log.Error("data key refused", "err", err)
		return
	}
	k.bound, k.boundKey = true, key
}

func (k *keys) bind(ctx context.Context, key secrets.Key) error {
	return k.store.Update(ctx, func(tx *sqlstore.Tx) error {
		s, err := tx.Settings()
		if err != nil {
			return err
		}
		if s.KeyCheck == nil {
			return tx.SetKeyCheck(secrets.KeyCheck(key), k.clock.Now())
		}
		if err := secrets.VerifyKeyCheck(key, s.KeyCheck); err != nil {
			if k.provider.State().Created {
				return fmt.Errorf("the data key for this database is missing from %s (a new one was made): %w", k.mode+" keyring", ErrKeyMismatch)
			}
			return ErrKeyMismatch
		}
		return nil
	})
}

// Key returns the data key once it is ready and bound to this database.
func (k *keys) Key() (secrets.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.bindErr != nil {
		return secrets.Key{}, k.bindErr
	}
	if k.bound {
		return k.boundKey, nil
	}
	_, err := k.provider.TryKey()
	if err == nil {
		err = secrets.ErrWaiting // ready but not yet bound: a moment away
	}
	return secrets.Key{}, err
}

// status describes the key for the health endpoint.
func (k *keys) Status() (api.Keyring, string) {
	st := k.provider.State()
	out := api.Keyring{Mode: k.mode, State: string(st.State), LastError: st.LastError}
	if !st.NextTry.IsZero() {
		t := st.NextTry
		out.NextTry = &t
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.bindErr != nil:
		out.State, out.LastError = "error", k.bindErr.Error()
		return out, api.HealthKeyError
	case st.State == secrets.StateWaiting:
		return out, api.HealthWaitingForKeyring
	case st.State == secrets.StateError:
		return out, api.HealthKeyError
	case !k.bound:
		// Read, but not yet checked against this database.
		out.State = "checking"
		return out, api.HealthWaitingForKeyring
	}
	return out, api.HealthOK
}

// reset binds the key the keyring holds now to the database, discarding
// everything sealed with the old one (tokens, the client secret), which
// cannot be decrypted anyway. Only an explicit user request calls it; it
// refuses while the key is fine or not yet readable.
func (k *keys) Reset(ctx context.Context) error {
	key, err := k.provider.TryKey()
	if err != nil {
		return fmt.Errorf("the keyring has no usable key yet: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.bindErr == nil {
		return localapi.ErrKeyFine
	}
	err = k.store.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.ResetSealed(secrets.KeyCheck(key), k.clock.Now())
	})
	if err != nil {
		return fmt.Errorf("reset sealed data: %w", err)
	}
	k.log.Warn("data key reset: stored tokens and client secret discarded; log in again")
	k.bindErr, k.bound, k.boundKey = nil, true, key
	k.notifyLocked()
	return nil
}

// localapi.ErrKeyFine refuses a reset that is not needed.

// DoctorState is the key as `psnd doctor` reports it.
func (k *keys) DoctorState() doctor.DaemonKey {
	st := k.provider.State()
	k.mu.Lock()
	defer k.mu.Unlock()
	out := doctor.DaemonKey{Mode: k.mode, State: string(st.State), LastError: st.LastError, Bound: k.bound}
	if k.bindErr != nil {
		out.BindError = k.bindErr.Error()
	}
	return out
}
