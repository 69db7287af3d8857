package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/sqlstore"
)

// dbWatchEvery is how often the daemon checks, between requests, that its
// database file is still the one at psn.db (every write checks too).
const dbWatchEvery = 30 * time.Second

// dbGone is what the daemon did on finding its database file deleted or
// replaced: one error in the log and, once, a copy of the data it still
// has open (the file nobody else can reach any more), so that nothing it
// recorded — tweets published since the last backup above all — is lost
// when it stops.
type dbGone struct {
	once    sync.Once
	mu      sync.Mutex
	rescued string // path of the copy, "" if none could be made
}

// checkDB returns the store's CheckFile error, with where the rescued copy
// is, making that copy on first sight.
func (d *Daemon) checkDB() error {
	err := d.store.CheckFile()
	if err == nil {
		return nil
	}
	d.gone.once.Do(func() { d.rescue(err) })
	d.gone.mu.Lock()
	defer d.gone.mu.Unlock()
	var gone *sqlstore.DatabaseGoneError
	if d.gone.rescued == "" || !errors.As(err, &gone) {
		return err
	}
	return &rescuedError{gone: gone, copy: d.gone.rescued}
}

func (d *Daemon) rescue(cause error) {
	d.log.Error("database file lost; refusing changes", "err", cause)
	path := filepath.Join(filepath.Dir(d.store.Path()),
		filepath.Base(d.store.Path())+".rescued-"+d.clock.Now().UTC().Format("20060102T150405Z"))
	// Not tied to a request: the copy is made once, whoever asked first.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := d.store.SaveCopy(ctx, path); err != nil {
		d.log.Error("could not save a copy of the open database", "path", path, "err", err)
		return
	}
	d.log.Warn("saved a copy of the open database", "path", path)
	d.gone.mu.Lock()
	d.gone.rescued = path
	d.gone.mu.Unlock()
}

// rescuedError is a DatabaseGoneError whose advice is the copy of the
// data the daemon saved.
type rescuedError struct {
	gone *sqlstore.DatabaseGoneError
	copy string
}

func (e *rescuedError) Error() string {
	msg := fmt.Sprintf("%s. psnd saved the data it had as %s: to keep it, stop psnd, move that file to %s, and start psnd again",
		e.gone.Problem(), e.copy, e.gone.Path)
	if !e.gone.Removed {
		msg += " (or just restart psnd to use the file now there)"
	}
	return msg
}

func (e *rescuedError) Unwrap() error { return e.gone }

// watchDB checks the database file now and then, so that a deletion is
// logged (and the data saved) even while nothing writes.
func (d *Daemon) watchDB(ctx context.Context) {
	t := time.NewTicker(dbWatchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.checkDB(); errors.Is(err, sqlstore.ErrDatabaseGone) {
				return // reported and saved once; nothing more to watch
			}
		}
	}
}
