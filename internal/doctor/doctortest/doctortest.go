// Package doctortest builds psnd data directories for the tests of `psnd
// doctor`: a healthy one, and the ways one breaks. It writes through the
// store, internal/oauth and internal/secrets exactly as psnd does, so what
// doctor reads is what psnd itself would have left. Only tests import it;
// the daemon must not be running on a home while these functions write it.
package doctortest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

// The account and app Healthy sets up.
const (
	AliceID  = "1001"
	Alice    = "alice"
	ClientID = "doctor-test-client-id"
	secret   = "doctor-test-client-secret"
)

type fixedKey struct{ k secrets.Key }

func (f fixedKey) Key() (secrets.Key, error) { return f.k, nil }

// Open opens (creating it 0700 if needed) and migrates home's database.
func Open(t testing.TB, home string) *sqlstore.Store {
	t.Helper()
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(home, "psn.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s
}

// Key returns home's data key from kr, creating it if there is none.
func Key(t testing.TB, home string, kr secrets.Keyring) secrets.Key {
	t.Helper()
	id, err := secrets.EntryID(home)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := secrets.LoadOrCreateKey(context.Background(), kr, id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Healthy makes home a data directory that passes every database and key
// check as of now: migrated, its data key in kr and bound to the database,
// a confidential X app stored, and @alice logged in with fresh tokens
// granting every scope.
func Healthy(t testing.TB, home string, kr secrets.Keyring, now time.Time) {
	t.Helper()
	key := Key(t, home, kr)
	s := Open(t, home)
	defer s.Close()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.SetKeyCheck(secrets.KeyCheck(key), now)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := oauth.SaveApp(ctx, s, fixedKey{key}, oauth.App{ClientID: ClientID, Secret: secrets.NewSecret(secret)}, now); err != nil {
		t.Fatal(err)
	}
	login(t, s, key, AliceID, Alice, now)
}

// Login connects another account with fresh tokens.
func Login(t testing.TB, home string, kr secrets.Keyring, id, username string, now time.Time) {
	t.Helper()
	key := Key(t, home, kr)
	s := Open(t, home)
	defer s.Close()
	login(t, s, key, id, username, now)
}

func login(t testing.TB, s *sqlstore.Store, key secrets.Key, id, username string, now time.Time) {
	t.Helper()
	exp := now.Add(2 * time.Hour)
	iss := oauth.Issued{Access: secrets.NewSecret("access-" + id), Refresh: secrets.NewSecret("refresh-" + id),
		TokenType: "bearer", ExpiresAt: &exp, Scopes: strings.Join(oauth.Scopes, " ")}
	if err := oauth.SaveLogin(context.Background(), s, fixedKey{key}, post.Account{ID: id, Username: username}, iss, now); err != nil {
		t.Fatal(err)
	}
}

// NeedsReauth records that X refused the account's refresh token, the way
// internal/oauth marks it.
func NeedsReauth(t testing.TB, home, id, reason string, now time.Time) {
	t.Helper()
	s := Open(t, home)
	defer s.Close()
	if err := s.Update(context.Background(), func(tx *sqlstore.Tx) error {
		tok, err := tx.Token(id)
		if err != nil {
			return err
		}
		m := tok.Meta
		m.NeedsReauth, m.ReauthReason, m.ReauthAt = true, reason, &now
		return tx.SetTokenMeta(id, tok.RefreshEnc, m, now)
	}); err != nil {
		t.Fatal(err)
	}
}

// RemoveApp forgets the stored X app credentials.
func RemoveApp(t testing.TB, home string, now time.Time) {
	t.Helper()
	s := Open(t, home)
	defer s.Close()
	if err := s.Update(context.Background(), func(tx *sqlstore.Tx) error {
		return tx.SetClientCredentials("", nil, now)
	}); err != nil {
		t.Fatal(err)
	}
}

// FailedPost creates a post of the account that failed with reason, the
// way the publisher leaves one (claimed, then failed), and returns its id.
func FailedPost(t testing.TB, home, accountID, text, reason string, now time.Time) int64 {
	t.Helper()
	s := Open(t, home)
	defer s.Close()
	const owner = "doctortest"
	var id int64
	if err := s.Update(context.Background(), func(tx *sqlstore.Tx) error {
		due := now.Add(-time.Minute)
		p, err := tx.CreatePost(sqlstore.NewPost{AccountID: accountID, Status: post.StatusScheduled, ScheduledAt: &due,
			Tweets: []sqlstore.NewTweet{{Text: text}}}, due)
		if err != nil {
			return err
		}
		id = p.ID
		if _, err := tx.Claim(sqlstore.DueRef{ID: p.ID, RunID: p.RunID, DueAt: due}, owner, now, now.Add(time.Minute)); err != nil {
			return err
		}
		return tx.FailPost(p.ID, owner, reason, now)
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// Drafts adds n drafts of size bytes each, so that the database spans many
// pages.
func Drafts(t testing.TB, home, accountID string, n, size int, now time.Time) {
	t.Helper()
	s := Open(t, home)
	defer s.Close()
	if err := s.Update(context.Background(), func(tx *sqlstore.Tx) error {
		for i := range n {
			text := strings.Repeat(string(rune('a'+i%26)), size)
			if _, err := tx.CreatePost(sqlstore.NewPost{AccountID: accountID, Status: post.StatusDraft,
				Tweets: []sqlstore.NewTweet{{Text: text}}}, now); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// CorruptPage fills drafts into the database and then overwrites a page in
// the middle of the file with garbage: the file still opens (its first page
// is intact) but PRAGMA integrity_check reports damage.
func CorruptPage(t testing.TB, home string, now time.Time) {
	t.Helper()
	Drafts(t, home, AliceID, 400, 400, now) // ~40 pages of posts
	db := filepath.Join(home, "psn.db")
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(b[16])<<8 | int(b[17])
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := len(b) / pageSize
	if pages < 10 {
		t.Fatalf("database has only %d pages", pages)
	}
	off := (pages / 2) * pageSize
	for i := range pageSize {
		b[off+i] = byte(0xA5 ^ i)
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// NewerSchema records migration version v as applied, as a newer psnd
// would have.
func NewerSchema(t testing.TB, home string, v int64) {
	t.Helper()
	s := Open(t, home)
	defer s.Close()
	if _, err := s.DB().Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, v); err != nil {
		t.Fatal(err)
	}
}

// ReplaceKey puts another valid data key for home into kr: the database's
// own key is lost.
func ReplaceKey(t testing.TB, home string, kr secrets.Keyring) {
	t.Helper()
	id, err := secrets.EntryID(home)
	if err != nil {
		t.Fatal(err)
	}
	other := &secrets.Memory{}
	if _, _, err := secrets.LoadOrCreateKey(context.Background(), other, id); err != nil {
		t.Fatal(err)
	}
	v, err := other.Get(context.Background(), secrets.Service, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Set(context.Background(), secrets.Service, id, v); err != nil {
		t.Fatal(err)
	}
}

// DropKey deletes home's data key from kr.
func DropKey(t testing.TB, home string, kr secrets.Keyring) {
	t.Helper()
	id, err := secrets.EntryID(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Delete(context.Background(), secrets.Service, id); err != nil {
		t.Fatal(err)
	}
}
