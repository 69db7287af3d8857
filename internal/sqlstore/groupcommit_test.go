package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// groupWrites queues n Updates while the write lock is held, so that the
// next lock holder commits them as one group, and returns their errors.
func groupWrites(t *testing.T, s *Store, fns []func(*Tx) error) []error {
	t.Helper()
	s.wmu.Lock()
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = s.Update(context.Background(), fn) })
	}
	// Wait until every Update is queued behind the lock.
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.qmu.Lock()
		n := len(s.queue)
		s.qmu.Unlock()
		if n == len(fns) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes queued", n, len(fns))
		}
		time.Sleep(time.Millisecond)
	}
	s.wmu.Unlock()
	wg.Wait()
	return errs
}

func setTZ(tz string) func(*Tx) error {
	return func(tx *Tx) error { return tx.SetTimezone(tz, time.Now()) }
}

func timezone(t *testing.T, s *Store) string {
	t.Helper()
	var tz string
	if err := s.View(context.Background(), func(tx *Tx) error {
		return tx.tx.QueryRow(`SELECT timezone FROM settings WHERE id = 1`).Scan(&tz)
	}); err != nil {
		t.Fatal(err)
	}
	return tz
}

// Writes queued together are committed together, in queue order, and a
// write that fails is rolled back alone: its partial changes vanish, the
// others' stay.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openTemp(t)
	boom := errors.New("boom")
	var sawEarlier string
	errs := groupWrites(t, s, []func(*Tx) error{
		setTZ("Europe/Paris"),
		func(tx *Tx) error {
			// Sees the write queued before it, then fails after a write
			// of its own.
			if err := tx.tx.QueryRow(`SELECT timezone FROM settings WHERE id = 1`).Scan(&sawEarlier); err != nil {
				return err
			}
			if err := tx.SetTimezone("Asia/Tokyo", time.Now()); err != nil {
				return err
			}
			return boom
		},
		func(tx *Tx) error {
			_, err := tx.exec(`INSERT INTO no_such_table VALUES (1)`)
			return err
		},
		setTZ("America/New_York"),
	})
	// errs[i] is fns[i]'s; their queue order is the goroutines' arrival.
	if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] == nil || errs[3] != nil {
		t.Fatalf("errors %v: want the two bad writes to fail alone", errs)
	}
	if tz := timezone(t, s); tz != "Europe/Paris" && tz != "America/New_York" {
		t.Fatalf("timezone %q: a failed write leaked or a good one was lost", tz)
	}
	if sawEarlier == "Asia/Tokyo" {
		t.Fatalf("a write saw its own rolled-back change")
	}
}

// A panic in a grouped write reaches its own caller; the others commit.
func TestGroupCommitPanicGoesToItsCaller(t *testing.T) {
	s := openTemp(t)
	s.wmu.Lock()
	var wg sync.WaitGroup
	var recovered any
	var okErr error
	wg.Go(func() {
		defer func() { recovered = recover() }()
		_ = s.Update(context.Background(), func(tx *Tx) error {
			if err := tx.SetTimezone("Asia/Tokyo", time.Now()); err != nil {
				return err
			}
			panic("bad write")
		})
	})
	wg.Go(func() { okErr = s.Update(context.Background(), setTZ("Europe/Paris")) })
	for {
		s.qmu.Lock()
		n := len(s.queue)
		s.qmu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.wmu.Unlock()
	wg.Wait()
	if recovered != "bad write" {
		t.Fatalf("recovered %v, want the panic in its own goroutine", recovered)
	}
	if okErr != nil || timezone(t, s) != "Europe/Paris" {
		t.Fatalf("other write: %v, timezone %q", okErr, timezone(t, s))
	}
}

// A write whose context ended before its turn is refused, not applied.
func TestGroupCommitCancelledWrite(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.wmu.Lock()
	var wg sync.WaitGroup
	var cErr, okErr error
	wg.Go(func() { cErr = s.Update(ctx, setTZ("Asia/Tokyo")) })
	wg.Go(func() { okErr = s.Update(context.Background(), setTZ("Europe/Paris")) })
	for {
		s.qmu.Lock()
		n := len(s.queue)
		s.qmu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.wmu.Unlock()
	wg.Wait()
	if !errors.Is(cErr, context.Canceled) || okErr != nil {
		t.Fatalf("cancelled write: %v; other: %v", cErr, okErr)
	}
	if tz := timezone(t, s); tz != "Europe/Paris" {
		t.Fatalf("timezone %q", tz)
	}
}

// Many concurrent writers: every successful Update is durable and none is
// lost or applied twice.
func TestGroupCommitConcurrentCounters(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.db.Exec(`CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := s.Update(ctx, func(tx *Tx) error {
					if _, err := tx.exec(`INSERT INTO counter (id, n) VALUES (?, 1)`, w*1000+i); err != nil {
						return err
					}
					if i%5 == 4 {
						return fmt.Errorf("refuse %d/%d", w, i) // rolled back alone
					}
					return nil
				})
				if (err != nil) != (i%5 == 4) {
					t.Errorf("write %d/%d: %v", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM counter`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := writers * each * 4 / 5; n != want {
		t.Fatalf("%d rows committed, want %d", n, want)
	}
}
