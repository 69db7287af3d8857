// Package sqlstore is psnd's SQLite store: it opens the database with the
// pragmas the daemon relies on, applies the embedded goose migrations, and
// holds every SQL query behind transactions (Update and View) so invariants
// that span rows — the run_id fence, "record this tweet's id before posting
// the next" — are one transaction each.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/psnd/psnd/internal/tweettext"
	"github.com/psnd/psnd/migrations"
)

// Sentinel errors, mapped from SQLite result codes in one place (mapErr).
var (
	ErrNotFound = errors.New("not found")
	ErrBusy     = errors.New("database is busy")
	// ErrFull is SQLITE_FULL: the disk (or the database's page limit) has
	// no room. The write failed whole and may succeed once space returns.
	ErrFull          = errors.New("database or disk is full")
	ErrConstraint    = errors.New("constraint violated")
	ErrNotADatabase  = errors.New("not a SQLite database")
	ErrSchemaTooNew  = errors.New("database schema is newer than this psnd")
	ErrStale         = errors.New("post changed since it was read") // run_id fence
	ErrNotEditable   = errors.New("post can no longer be changed")
	ErrReadOnlyStore = errors.New("database opened read-only")
)

// Explain returns an error whose message is one whole sentence for the
// user (what is wrong and what to do) and which still matches sentinel
// with errors.Is, so that the API maps it to the right code without the
// sentinel's words trailing after the sentence.
func Explain(sentinel error, format string, a ...any) error {
	return &explained{msg: fmt.Sprintf(format, a...), sentinel: sentinel}
}

type explained struct {
	msg      string
	sentinel error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.sentinel }

// Store is an open psnd database.
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool
	ident    os.FileInfo // the file opened, for CheckFile (nil read-only)
	// pin is a connection held from Open, so surely on the file opened:
	// after that file is deleted or replaced, the only way to its data
	// (SaveCopy). nil read-only.
	pin *sql.Conn
	// wmu serialises write transactions in this process. SQLite allows one
	// writer at a time anyway; queueing here instead of in SQLite's busy
	// handler (which sleeps and polls) keeps commit latency flat when many
	// publishes finish at once, and lets one commit serve many writes.
	wmu sync.Mutex
	// queue holds Updates waiting for wmu; the holder commits them all
	// (group commit, see Update).
	qmu   sync.Mutex
	queue []*write

	// stmts holds every query prepared once on the pool (see prepared).
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// maxIdleConns is how many pooled connections stay open between uses.
// database/sql keeps 2 by default and closes the rest as soon as they are
// released, so a burst of concurrent publishes opened (and then closed) a
// connection for almost every transaction: each open re-runs the DSN
// pragmas and starts with a cold page cache and no prepared statements.
const maxIdleConns = 8

// Options tune Open.
type Options struct {
	// ReadOnly opens an existing database without creating or migrating it
	// (used by diagnostics while the daemon is not running).
	ReadOnly bool
}

// dsn builds the connection string. Pragmas go in the DSN so that every
// pooled connection gets them: busy timeout, foreign keys, WAL, full sync
// (a committed tweet id must survive power loss), and BEGIN IMMEDIATE so a
// read-then-write transaction cannot fail with SQLITE_BUSY half way.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	// At most 1 MiB of page cache per connection (SQLite's default is
	// 2 MB): with up to maxIdleConns pooled connections the cache alone
	// could otherwise hold 16 MB of a daemon meant to idle under 20 MB,
	// and the operating system's file cache serves re-reads anyway.
	q.Add("_pragma", "cache_size(-1024)")
	if readOnly {
		q.Add("mode", "ro")
	} else {
		// Open creates the file; a connection never does. Else, with the
		// file deleted under a running store, the next pooled connection
		// would quietly make a new, empty database at the path.
		q.Add("mode", "rw")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// ReleaseIdle closes the pooled connections nobody is using but one,
// freeing their page caches and prepared statements (they are opened
// again on demand), and has the one left give back its page cache. That
// one spares the first command after a release opening a connection,
// reading the schema and preparing its statements: about 3 ms of the
// daemon's CPU before a list. The daemon calls it once its API has gone
// quiet.
func (s *Store) ReleaseIdle() {
	s.db.SetMaxIdleConns(1)
	s.db.SetMaxIdleConns(maxIdleConns)
	// It runs on the connection left idle (or on one opened for it, then
	// kept); it cannot fail in a way the daemon could act on.
	_, _ = s.db.Exec(`PRAGMA shrink_memory`)
}

// Open opens (creating if needed, mode 0600) the database at path and checks
// that it is a SQLite database. It does not migrate: see Migrate.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if !opts.ReadOnly {
		// Create the file ourselves so it is 0600 from the first byte; SQLite
		// gives its -wal and -shm files the database file's permissions.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
		f.Close()
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	reg, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{path: path, readOnly: opts.ReadOnly, stmts: map[string]*sql.Stmt{}}
	db := sql.OpenDB(&connector{dsn: dsn(path, opts.ReadOnly), drv: reg.Driver(), s: s})
	reg.Close()
	db.SetMaxIdleConns(maxIdleConns)
	s.db = db
	// The first query runs the DSN pragmas; a file that is not SQLite fails
	// here, before anything is written to it.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		db.Close()
		if errors.Is(mapErr(err), ErrNotADatabase) {
			return nil, fmt.Errorf("open database %s: %w (move it aside or point PSN_HOME elsewhere)", path, ErrNotADatabase)
		}
		return nil, fmt.Errorf("open database %s: %w", path, mapErr(err))
	}
	if !opts.ReadOnly {
		s.ident, _ = os.Stat(path)
		if s.pin, err = db.Conn(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open database %s: %w", path, mapErr(err))
		}
	}
	return s, nil
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// DB exposes the pool for diagnostics and tests.
func (s *Store) DB() *sql.DB { return s.db }

// Close checkpoints the WAL and closes the database.
func (s *Store) Close() error {
	if !s.readOnly {
		// Fold the WAL back into the main file so a clean shutdown leaves one
		// self-contained file; failure here is harmless (SQLite recovers).
		_, _ = s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	s.stmtMu.Lock()
	for q, st := range s.stmts {
		st.Close()
		delete(s.stmts, q)
	}
	s.stmtMu.Unlock()
	if s.pin != nil {
		s.pin.Close()
	}
	return s.db.Close()
}

func newProvider(db *sql.DB) (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectSQLite3, db, migrations.FS, goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(migrations.Go()...))
}

// SchemaVersion returns the database's applied migration version and the
// newest version this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, known int64, err error) {
	p, err := newProvider(s.db)
	if err != nil {
		return 0, 0, fmt.Errorf("load migrations: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		known = srcs[len(srcs)-1].Version
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, known, fmt.Errorf("read schema version: %w", mapErr(err))
	}
	return current, known, nil
}

// Migrate applies pending migrations. It refuses, changing nothing, a
// database whose schema is newer than this binary (a downgrade would
// misread it). Only the daemon calls it, at start, under its lock.
func (s *Store) Migrate(ctx context.Context) (applied []int64, err error) {
	if s.readOnly {
		return nil, ErrReadOnlyStore
	}
	p, err := newProvider(s.db)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	if err := s.checkNotNewer(ctx, p); err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	if len(applied) > 0 {
		if err := s.countWeightedLengths(ctx); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// countWeightedLengths fills posts.weighted_length where it is NULL: rows
// written before migration 00011, or set back to NULL by a later one when
// the counting rules change. SQL cannot count it, so it is done here, once,
// after migrating, in batches of a few hundred rows per transaction.
func (s *Store) countWeightedLengths(ctx context.Context) error {
	const batch = 500
	var after int64
	for {
		n := 0
		err := s.Update(ctx, func(t *Tx) error {
			rows, err := t.query(`SELECT id, content FROM posts WHERE weighted_length IS NULL AND id > ? ORDER BY id LIMIT ?`, after, batch)
			if err != nil {
				return mapErr(err)
			}
			type todo struct {
				id int64
				n  int
			}
			var list []todo
			for rows.Next() {
				var id int64
				var text string
				if err := rows.Scan(&id, &text); err != nil {
					rows.Close()
					return mapErr(err)
				}
				list = append(list, todo{id, tweettext.WeightedLength(text)})
			}
			if err := rows.Close(); err != nil {
				return mapErr(err)
			}
			for _, d := range list {
				if _, err := t.exec(`UPDATE posts SET weighted_length = ? WHERE id = ?`, d.n, d.id); err != nil {
					return mapErr(err)
				}
				after = d.id
			}
			n = len(list)
			return nil
		})
		if err != nil {
			return fmt.Errorf("count the weighted length of stored tweets: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}

// MigrateDownTo rolls back to version v (0 = empty). For tests and recovery.
func (s *Store) MigrateDownTo(ctx context.Context, v int64) error {
	p, err := newProvider(s.db)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.DownTo(ctx, v); err != nil {
		return fmt.Errorf("migrate down to %d: %w", v, err)
	}
	return nil
}

func (s *Store) checkNotNewer(ctx context.Context, p *goose.Provider) error {
	// Read the version table directly: asking goose would create it, and a
	// refused database must be left exactly as it was.
	var exists int
	if err := s.db.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='goose_db_version'").Scan(&exists); err != nil {
		return fmt.Errorf("read schema version: %w", mapErr(err))
	}
	if exists == 0 {
		return nil
	}
	var current int64
	if err := s.db.QueryRowContext(ctx,
		"SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", mapErr(err))
	}
	srcs := p.ListSources()
	var known int64
	if len(srcs) > 0 {
		known = srcs[len(srcs)-1].Version
	}
	if current > known {
		return fmt.Errorf("%w: database %s is at schema version %d, this psnd knows up to %d; upgrade psnd",
			ErrSchemaTooNew, s.path, current, known)
	}
	return nil
}

// Tx is a transaction with psnd's queries as methods.
type Tx struct {
	tx *sql.Tx
	s  *Store
	// stmts holds this transaction's statements by query (see stmt).
	stmts map[string]*sql.Stmt
}

// prepared returns query prepared on the pool, preparing it on first use.
// Parsing and planning SQL costs more than running most of psnd's small
// statements in the pure-Go SQLite (it was 40% of the CPU of a burst of
// publishes); database/sql keeps a prepared statement per connection and
// Tx.Stmt reuses it. Only fixed query texts may be passed: the cache is
// never pruned.
func (s *Store) prepared(query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[query]
	s.stmtMu.Unlock()
	if ok {
		return st, nil
	}
	st, err := s.db.Prepare(query)
	if err != nil {
		return nil, err
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if prev, ok := s.stmts[query]; ok {
		st.Close() // prepared concurrently; keep the first
		return prev, nil
	}
	s.stmts[query] = st
	return st, nil
}

// stmt is query as a statement of this transaction. The driver reuses one
// SQLite statement per connection, so a query's rows must be closed before
// the same query runs again in the transaction (every query here drains
// and closes its rows first). Statements run without a context of their
// own, as before: the transaction is bound to the caller's context.
//
// Each is made once per transaction: a group commit runs up to maxBatch
// writes in one transaction, each between the same SAVEPOINT and RELEASE
// and most with the same few queries, and every Tx.Stmt allocates a
// statement of its own (a tenth of what a burst of publishes allocated).
// database/sql closes them with the transaction.
func (t *Tx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.s.prepared(query)
	if err != nil {
		return nil, err
	}
	ts := t.tx.Stmt(st)
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt, 8)
	}
	t.stmts[query] = ts
	return ts, nil
}

func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

func (t *Tx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

// singleRow is the result of queryRow: like *sql.Row, an error from
// preparing the statement is reported by Scan.
type singleRow struct {
	r   *sql.Row
	err error
}

func (r singleRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (t *Tx) queryRow(query string, args ...any) singleRow {
	st, err := t.stmt(query)
	if err != nil {
		return singleRow{err: err}
	}
	return singleRow{r: st.QueryRow(args...)}
}

// Update runs fn in a write transaction (BEGIN IMMEDIATE), committing if fn
// returns nil and rolling back otherwise; when it returns nil, fn's writes
// are durable.
//
// Writes are group-committed: callers queue, and whoever holds the write
// lock commits everything queued so far in one transaction, each fn inside
// its own savepoint. A fn that fails is rolled back alone, so each caller
// still sees its own writes applied all together or not at all, in lock
// order, and nothing returns before its COMMIT (and fsync) is done. One
// COMMIT per batch instead of one per write is what lets a burst of
// publishes — each records a send mark and a tweet id — keep up. A write
// queued alone runs exactly as a plain transaction.
//
// Because of that, fn may run on another caller's goroutine, one that may
// hold that caller's locks: fn must do database work only (reading a clock
// is fine), never take a lock or wait for another goroutine. A write whose
// ctx ends before its turn is refused; once its fn has started in a group it
// runs to the end. Once the database file has been removed or replaced
// under the store, every write is refused (ErrDatabaseGone, see CheckFile).
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if s.readOnly {
		return ErrReadOnlyStore
	}
	if err := s.CheckFile(); err != nil {
		return err
	}
	w := &write{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	s.qmu.Lock()
	s.queue = append(s.queue, w)
	s.qmu.Unlock()

	s.wmu.Lock()
	select {
	case r := <-w.done: // committed (or refused) by an earlier lock holder
		s.wmu.Unlock()
		return r.get()
	default:
	}
	s.qmu.Lock()
	batch := s.queue
	s.queue = nil
	s.qmu.Unlock()
	s.commitBatch(batch)
	s.wmu.Unlock()
	return (<-w.done).get()
}

// maxBatch bounds how many queued writes share one transaction.
const maxBatch = 64

// write is one queued Update.
type write struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan writeResult
}

type writeResult struct {
	err   error
	panic any // fn panicked: re-raised in the caller's goroutine
}

func (r writeResult) get() error {
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// commitBatch commits the queued writes, batch by batch. It is called with
// wmu held and delivers one result to every write.
func (s *Store) commitBatch(ws []*write) {
	for len(ws) > 0 {
		n := min(len(ws), maxBatch)
		s.commitGroup(ws[:n])
		ws = ws[n:]
	}
}

func (s *Store) commitGroup(ws []*write) {
	if len(ws) == 1 {
		w := ws[0]
		var r writeResult
		func() {
			defer func() { r.panic = recover() }()
			r.err = s.run(w.ctx, false, w.fn)
		}()
		w.done <- r
		return
	}
	live := ws[:0:0]
	for _, w := range ws {
		if err := w.ctx.Err(); err != nil {
			w.done <- writeResult{err: fmt.Errorf("begin transaction: %w", err)}
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	deliver := func(ws []*write, err error) {
		for _, w := range ws {
			w.done <- writeResult{err: err}
		}
	}
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		deliver(live, fmt.Errorf("begin transaction: %w", mapErr(err)))
		return
	}
	t := &Tx{tx: tx, s: s}
	var ok []*write
	for i, w := range live {
		if _, err := t.exec(`SAVEPOINT w`); err != nil {
			_ = tx.Rollback()
			deliver(ok, fmt.Errorf("commit: %w", mapErr(err)))
			deliver(live[i:], fmt.Errorf("begin transaction: %w", mapErr(err)))
			return
		}
		var r writeResult
		func() {
			defer func() { r.panic = recover() }()
			r.err = w.fn(t)
		}()
		end := `RELEASE w`
		if r.err != nil || r.panic != nil {
			end = `ROLLBACK TO w` // then RELEASE, below
		}
		_, err := t.exec(end)
		if err == nil && end != `RELEASE w` {
			_, err = t.exec(`RELEASE w`)
		}
		if err != nil {
			// The transaction is gone (SQLite rolls back on some errors):
			// nothing in it was committed.
			_ = tx.Rollback()
			if r.err == nil && r.panic == nil {
				r.err = fmt.Errorf("commit: %w", mapErr(err))
			}
			w.done <- r
			deliver(ok, fmt.Errorf("commit: %w", mapErr(err)))
			deliver(live[i+1:], fmt.Errorf("begin transaction: %w", mapErr(err)))
			return
		}
		if r.err != nil || r.panic != nil {
			w.done <- r
			continue
		}
		ok = append(ok, w)
	}
	if len(ok) == 0 {
		_ = tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		deliver(ok, fmt.Errorf("commit: %w", mapErr(err)))
		return
	}
	deliver(ok, nil)
}

// View runs fn in a read-only transaction. Once the database file has been
// removed or replaced under the store, reads are refused too
// (ErrDatabaseGone): a new pooled connection would read another file, or
// none.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	if err := s.CheckFile(); err != nil {
		return err
	}
	return s.run(ctx, true, fn)
}

func (s *Store) run(ctx context.Context, readOnly bool, fn func(*Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapErr(err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback() // else the connection stays in a transaction
			panic(p)
		}
	}()
	if err := fn(&Tx{tx: tx, s: s}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// mapErr turns driver errors into the package's sentinels, keeping the
// original text for the log.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %v", ErrBusy, err)
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("%w: %v", ErrFull, err)
		case sqlite3.SQLITE_CONSTRAINT:
			return fmt.Errorf("%w: %v", ErrConstraint, err)
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w: %v", ErrNotADatabase, err)
		}
	}
	return err
}

// Time encoding: fixed-width UTC text with milliseconds, so that SQL text
// comparison orders times correctly.
const timeLayout = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

func parseTime(s string) (time.Time, error) {
	if t, ok := parseStoredTime(s); ok {
		return t, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		// Accept any RFC 3339 value a human may have written with sqlite3.
		if t2, err2 := time.Parse(time.RFC3339Nano, s); err2 == nil {
			return t2.UTC(), nil
		}
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t, nil
}

// parseStoredTime reads timeLayout without time.Parse's generality (a
// listed post has four times; time.Parse was a tenth of listing). It
// answers ok only for what time.Parse(timeLayout) reads the same way;
// anything else (days past the 28th, which need the month's length, or
// any other form) is left to time.Parse.
func parseStoredTime(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec, ms := num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 || ms < 0 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, time.UTC), true
}

func parseTimePtr(ns sql.NullString) (*time.Time, error) {
	if !ns.Valid || ns.String == "" {
		return nil, nil
	}
	t, err := parseTime(ns.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
