package sqlstoretest

import (
	"database/sql"
	"testing"
	"time"
)

// WaitWireStored waits, up to within, until the daemon serving the
// database at path has stored every post's wire form (migration 00017)
// and every stored form in a run (00021),
// as it does within seconds of starting or of going quiet: the state a
// user's lists meet. It reads the file as sqlite3 would, beside the daemon.
func WaitWireStored(tb testing.TB, path string, within time.Duration) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(30000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		// Every form stored, and every stored form in a run.
		var n int
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM post_wire_stale)
			+ (SELECT count(*) FROM post_wire) - (SELECT coalesce(sum(n), 0) FROM post_wire_run)`).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the daemon left %d wire forms stale or out of runs for %v", n, within)
		}
	}
}
