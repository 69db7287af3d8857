package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The database file's identity. SQLite keeps using the file it opened: if
// psn.db is deleted or replaced under a running daemon, every write still
// "succeeds" into a file nobody will see again, and the next start quietly
// made a new, empty database (posts and logins gone). Two defences:
//
//   - a running Store remembers the file it opened (device and inode) and
//     refuses writes and reads once the path names another file or none
//     (CheckFile, called by Update and View: one stat, nothing next to an
//     fsync); its connections never create the file (mode=rw), and one
//     held from Open can still copy the data out (SaveCopy);
//   - a marker file, psnd.initialized, records that a database was created
//     in this directory; while it exists, a start without psn.db is refused
//     (CheckPresent) instead of creating an empty one. The marker, not the
//     keyring key, is the evidence: it sits beside the database, is read
//     without a keyring that may be locked at boot, and removing it is an
//     explicit, documented way to start afresh.

// ErrDatabaseGone means the database file was removed or replaced while
// this Store had it open; it is neither read nor written any more (only
// SaveCopy reaches it).
var ErrDatabaseGone = errors.New("the database file was removed or replaced while psnd was running")

// ErrDatabaseMissing means psn.db is missing (or empty) in a directory that
// had one.
var ErrDatabaseMissing = errors.New("the database is missing")

// InitializedName is the marker file beside the database.
const InitializedName = "psnd.initialized"

// InitializedPath is the marker file for the database at dbPath.
func InitializedPath(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), InitializedName)
}

// DatabaseGoneError says how the open database was lost.
type DatabaseGoneError struct {
	Path    string
	Removed bool // no file at Path; else another file is there
}

func (e *DatabaseGoneError) Error() string {
	if e.Removed {
		return e.Problem() + "; restore the file and restart psnd"
	}
	return e.Problem() + "; restart psnd to use the file now there"
}

// Problem is what happened, without the advice.
func (e *DatabaseGoneError) Problem() string {
	if e.Removed {
		return fmt.Sprintf("the database file %s was deleted while psnd was running: psnd refuses to read or change posts until restarted, since changes would be lost", e.Path)
	}
	return fmt.Sprintf("the database file %s was replaced while psnd was running (psnd still has the old one open): psnd refuses to read or change posts until restarted", e.Path)
}

func (e *DatabaseGoneError) Unwrap() error { return ErrDatabaseGone }

// CheckFile reports, as a *DatabaseGoneError, that the store's path no
// longer names the file it opened. A stat that fails for another reason
// (permissions changed) is not judged here.
func (s *Store) CheckFile() error {
	if s.ident == nil {
		return nil
	}
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &DatabaseGoneError{Path: s.path, Removed: true}
	case err != nil:
		return nil
	case !os.SameFile(s.ident, fi):
		return &DatabaseGoneError{Path: s.path}
	}
	return nil
}

// CheckPresent refuses, with ErrDatabaseMissing, to go on when the database
// at dbPath is missing or empty although the directory's marker says one
// was created there. It changes nothing.
func CheckPresent(dbPath string) error {
	fi, err := os.Stat(dbPath)
	if err == nil && fi.Size() > 0 {
		return nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil // Open reports it
	}
	marker := InitializedPath(dbPath)
	b, merr := os.ReadFile(marker)
	if merr != nil {
		return nil // no evidence: a new data directory
	}
	since := ""
	if f := strings.Fields(string(b)); len(f) > 0 {
		if t, err := time.Parse(time.RFC3339, f[0]); err == nil {
			since = " on " + t.Format("2006-01-02")
		}
	}
	what := "missing"
	if err == nil {
		what = "empty"
	}
	return fmt.Errorf("%w: %s is %s, but a database was created here%s (%s records it); refusing to start with an empty one, which would lose its posts and logins. "+
		"Restore %s from a backup (with its -wal file if there is one), or, to start afresh with an empty database, remove %s",
		ErrDatabaseMissing, dbPath, what, since, marker, filepath.Base(dbPath), marker)
}

// MarkInitialized writes the marker for the database at dbPath unless it is
// there already. Called once the database has been opened and migrated.
func MarkInitialized(dbPath string, now time.Time) error {
	marker := InitializedPath(dbPath)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	text := now.UTC().Format(time.RFC3339) + " psnd created " + filepath.Base(dbPath) + " in this directory.\n" +
		"While this file exists, psnd refuses to start without " + filepath.Base(dbPath) + " instead of creating an empty one.\n" +
		"Remove this file only to start afresh with an empty database.\n"
	tmp := marker + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", marker, err)
	}
	if err := os.Rename(tmp, marker); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", marker, err)
	}
	return nil
}

// SaveCopy writes a consistent copy of the open database to path (which
// must not exist), through the connection held since Open, so from the file
// opened then: after the path was deleted or replaced, the only way to the
// data.
func (s *Store) SaveCopy(ctx context.Context, path string) error {
	if s.pin == nil {
		return ErrReadOnlyStore
	}
	if _, err := s.pin.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("copy database to %s: %w", path, mapErr(err))
	}
	return os.Chmod(path, 0o600)
}

// connector opens the pool's connections, none once the file opened first
// is gone: a new connection would open the file now at the path (a
// restored backup, say) and share psn.db-wal and psn.db-shm, named by path,
// with the connections on the old file — SQLite's "mispaired journal"
// corruption, of the new file and of the old one's view alike.
type connector struct {
	dsn string
	drv driver.Driver
	s   *Store
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	if err := c.s.CheckFile(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c *connector) Driver() driver.Driver { return c.drv }
