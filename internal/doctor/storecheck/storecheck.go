// Package storecheck observes the database and the data key for `psnd
// doctor`: the daemon runs Integrity, Schema, Accounts and FailedPosts on its
// open store, and when no daemon runs, main wires Offline into the CLI, which
// opens the database read-only and reads the key from the keyring without
// ever creating or changing anything. The judging is internal/doctor's; this
// package only gathers what it needs. It links the store, so the CLI package
// never imports it.
package storecheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/doctor"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

// maxIntegrityRows bounds what PRAGMA integrity_check reports.
const maxIntegrityRows = 20

// integrityTimeout bounds the check on a large database.
const integrityTimeout = time.Minute

// Integrity runs SQLite's integrity check on the whole file.
func Integrity(ctx context.Context, s *sqlstore.Store) api.DoctorCheck {
	ctx, cancel := context.WithTimeout(ctx, integrityTimeout)
	defer cancel()
	out, err := integrity(ctx, s)
	if corrupt(err) {
		// Damage bad enough to stop the check itself is its answer.
		return doctor.CheckIntegrity(s.Path(), []string{err.Error()}, nil)
	}
	return doctor.CheckIntegrity(s.Path(), out, err)
}

func integrity(ctx context.Context, s *sqlstore.Store) ([]string, error) {
	rows, err := s.DB().QueryContext(ctx, fmt.Sprintf("PRAGMA integrity_check(%d)", maxIntegrityRows))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	return out, rows.Err()
}

// corrupt reports SQLite's "database disk image is malformed" and "file is
// not a database" (SQLITE_CORRUPT, SQLITE_NOTADB).
func corrupt(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// Schema compares the database's schema version with this binary's.
func Schema(ctx context.Context, s *sqlstore.Store) api.DoctorCheck {
	cur, known, err := s.SchemaVersion(ctx)
	return doctor.CheckSchema(cur, known, err)
}

// Accounts reads every account's login (nothing is decrypted) and judges
// its tokens.
func Accounts(ctx context.Context, s *sqlstore.Store, now time.Time) []api.DoctorCheck {
	var accts []post.Account
	var toks []sqlstore.Token
	err := s.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		if accts, err = tx.Accounts(); err != nil {
			return err
		}
		toks, err = tx.Tokens()
		return err
	})
	if err != nil {
		return []api.DoctorCheck{doctor.Skip(doctor.NameAccounts, "could not read accounts: "+err.Error())}
	}
	byID := make(map[string]sqlstore.Token, len(toks))
	for _, t := range toks {
		byID[t.AccountID] = t
	}
	obs := make([]doctor.Account, 0, len(accts))
	for _, a := range accts {
		o := doctor.Account{ID: a.ID, Username: a.Username}
		if t, ok := byID[a.ID]; ok {
			m := t.Meta
			o.LoggedIn, o.HasRefresh, o.ExpiresAt, o.Scopes = true, len(t.RefreshEnc) > 0, t.ExpiresAt, strings.Fields(t.Scopes)
			o.NeedsReauth, o.ReauthReason, o.ReauthAt = m.NeedsReauth, m.ReauthReason, m.ReauthAt
			o.RefreshFailures, o.LastError = m.RefreshFailures, m.LastError
		}
		obs = append(obs, o)
	}
	return doctor.CheckAccounts(obs, oauth.Scopes, now)
}

// FailedPosts lists the posts that failed and wait for the user.
func FailedPosts(ctx context.Context, s *sqlstore.Store) api.DoctorCheck {
	var posts []*post.Post
	err := s.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		posts, err = tx.ListPosts(sqlstore.ListFilter{Status: post.StatusFailed})
		return err
	})
	if err != nil {
		return doctor.CheckFailedPosts(nil, err)
	}
	out := make([]doctor.FailedPost, 0, len(posts))
	for _, p := range posts {
		out = append(out, doctor.FailedPost{ID: p.ID, Account: p.Account, Reason: p.FailReason})
	}
	return doctor.CheckFailedPosts(out, nil)
}

// Options configure Offline.
type Options struct {
	Env config.Config
	// Keyring holds the data key; nil means the one PSN_KEYRING selects
	// (the OS keyring with its per-call timeout, or the key file).
	Keyring secrets.Keyring
	Now     func() time.Time // default time.Now
	// Sandbox examines the sandbox's home (Env.SandboxDir()) instead:
	// its database, its key file (Keyring is ignored: the sandbox's key
	// is always a file) and its failed posts; it needs no X app or login.
	Sandbox bool
}

// Offline makes the daemon's checks itself, for when no daemon runs: it
// opens the database read-only and reads the data key without creating
// one. The callback port is left to the caller (it needs no database).
func Offline(ctx context.Context, o Options) []api.DoctorCheck {
	if o.Now == nil {
		o.Now = time.Now
	}
	home, mode, kr := o.Env.Home, o.Env.KeyringMode, o.Keyring
	if o.Sandbox {
		home, mode = o.Env.SandboxDir(), doctor.KeySandbox
		kr = secrets.NewFile(home)
	}
	if kr == nil {
		var err error
		if kr, err = secrets.KeyringFromEnv(o.Env.KeyringMode, o.Env.Home); err != nil {
			return []api.DoctorCheck{doctor.Skip(doctor.NameKeyring, err.Error())}
		}
	}
	db := filepath.Join(home, filepath.Base(o.Env.DBPath()))
	shellApp := api.App{Configured: o.Env.ClientID != "", ClientID: o.Env.ClientID, HasClientSecret: o.Env.ClientSecret != "",
		Source: doctor.AppShellEnv}

	noDB := func(first api.DoctorCheck, why string) []api.DoctorCheck {
		key := ReadKey(ctx, kr, mode, home, nil, false)
		out := []api.DoctorCheck{first, doctor.Skip(doctor.NameSchema, why),
			doctor.CheckKeyring(key), doctor.CheckDataKey(key, false)}
		if o.Sandbox {
			return append(out, append(doctor.SandboxSkips(), doctor.Skip(doctor.NameFailedPosts, why))...)
		}
		if shellApp.Configured {
			out = append(out, doctor.CheckApp(shellApp))
		} else {
			out = append(out, doctor.Skip(doctor.NameApp, why))
		}
		return append(out, doctor.Skip(doctor.NameAccounts, why), doctor.Skip(doctor.NameFailedPosts, why))
	}
	if err := sqlstore.CheckPresent(db); errors.Is(err, sqlstore.ErrDatabaseMissing) {
		return noDB(doctor.MissingDatabase(db, sqlstore.InitializedPath(db)), "the database is missing")
	}
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return noDB(doctor.NoDatabase(db), "no database yet")
	}
	s, err := sqlstore.Open(ctx, db, sqlstore.Options{ReadOnly: true})
	if err != nil {
		return noDB(doctor.CheckOpen(db, err, errors.Is(err, sqlstore.ErrNotADatabase)), "the database could not be opened")
	}
	defer s.Close()

	out := []api.DoctorCheck{Integrity(ctx, s), Schema(ctx, s)}
	var st sqlstore.Settings
	err = s.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		st, err = tx.Settings()
		return err
	})
	if err != nil {
		why := "could not read the settings: " + err.Error()
		key := ReadKey(ctx, kr, mode, home, nil, false)
		out = append(out, doctor.CheckKeyring(key), doctor.Skip(doctor.NameDataKey, why))
		if !o.Sandbox {
			out = append(out, doctor.Skip(doctor.NameApp, why))
		}
	} else {
		key := ReadKey(ctx, kr, mode, home, st.KeyCheck, true)
		out = append(out, doctor.CheckKeyring(key), doctor.CheckDataKey(key, true))
	}
	if o.Sandbox {
		out = append(out, doctor.SandboxSkips()...)
		return append(out, FailedPosts(ctx, s))
	}
	if err == nil {
		app := shellApp
		if st.ClientID != "" {
			app = api.App{Configured: true, ClientID: st.ClientID, HasClientSecret: len(st.ClientSecretEnc) > 0, Source: doctor.AppStored}
		}
		out = append(out, doctor.CheckApp(app))
	}
	out = append(out, Accounts(ctx, s, o.Now())...)
	return append(out, FailedPosts(ctx, s))
}

// errNoCreate stops LoadOrCreateKey from making a key: doctor only looks.
var errNoCreate = errors.New("psnd doctor never creates a key")

// lookOnly is a keyring that refuses to store or delete anything.
type lookOnly struct{ secrets.Keyring }

func (lookOnly) Set(context.Context, string, string, string) error { return errNoCreate }

func (lookOnly) Delete(context.Context, string, string) error { return errNoCreate }

func (l lookOnly) String() string { return describe(l.Keyring) }

func describe(kr secrets.Keyring) string {
	if s, ok := kr.(fmt.Stringer); ok {
		return s.String()
	}
	return "the keyring"
}

// ReadKey reads the data key of the data directory home, never creating
// one, sorts the outcome and, withDB, compares the key with the database's
// key-check record check.
func ReadKey(ctx context.Context, kr secrets.Keyring, mode, home string, check []byte, withDB bool) doctor.Key {
	k := doctor.Key{Mode: mode, Where: describe(kr)}
	if k.Mode == "" {
		k.Mode = "system"
	}
	id, err := secrets.EntryID(home)
	if err != nil {
		k.Read, k.Err = doctor.KeyReadError, err
		return k
	}
	key, _, err := secrets.LoadOrCreateKey(ctx, lookOnly{kr}, id)
	if err != nil && !errors.Is(err, errNoCreate) {
		// The check names the operation itself.
		err = &trimmed{msg: strings.TrimPrefix(err.Error(), "read data key: "), err: err}
	}
	switch {
	case err == nil:
		k.Read = doctor.KeyFound
		if withDB {
			k.Match = match(key, check)
		}
	case errors.Is(err, errNoCreate):
		k.Read = doctor.KeyMissing
		if withDB && len(check) == 0 {
			k.Match = doctor.MatchNoRecord
		}
	case errors.Is(err, secrets.ErrUnavailable):
		// Keep the cause: "locked or unavailable" is the check's own words.
		k.Read, k.Err = doctor.KeyUnavailable, errors.New(strings.TrimPrefix(err.Error(), secrets.ErrUnavailable.Error()+": "))
	case errors.Is(err, secrets.ErrMalformed):
		k.Read, k.Err = doctor.KeyMalformed, err
	default:
		k.Read, k.Err = doctor.KeyReadError, err
	}
	return k
}

func match(key secrets.Key, check []byte) doctor.KeyMatch {
	if len(check) == 0 {
		return doctor.MatchNoRecord
	}
	switch err := secrets.VerifyKeyCheck(key, check); {
	case err == nil:
		return doctor.MatchOK
	case errors.Is(err, secrets.ErrWrongKey):
		return doctor.MatchWrong
	}
	return doctor.MatchBadRecord
}

// trimmed is an error with a shorter message that still matches what it
// wraps.
type trimmed struct {
	msg string
	err error
}

func (t *trimmed) Error() string { return t.msg }
func (t *trimmed) Unwrap() error { return t.err }
