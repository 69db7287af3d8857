package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/psnd/psnd/internal/sqlstore"
)

// dbWatchEvery is how often the daemon checks, between requests, that its
// database file is still the one at psn.db (every write checks too).
const dbWatchEvery = 30 * time.Second

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
			if err := d.api.CheckDB(); errors.Is(err, sqlstore.ErrDatabaseGone) {
				return // reported and saved once; nothing more to watch
			}
		}
	}
}
