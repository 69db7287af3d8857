package sqlstore

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
)

// checkRunInvariant fails unless every run holds exactly the post_wire
// rows of its interval, in list order, and the runs of a section do not
// overlap.
func checkRunInvariant(t *testing.T, tx *Tx) {
	t.Helper()
	for rank := RankAttention; rank <= RankOther; rank++ {
		rows, err := tx.query(`SELECT `+runColumns+`, json FROM post_wire_run WHERE list_rank = ? ORDER BY lo_at, lo_id`, rank)
		if err != nil {
			t.Fatal(err)
		}
		type run struct {
			lo, hi, last wireKey
			n            int
			json         []byte
		}
		var runs []run
		for rows.Next() {
			var r run
			var lastAt *string
			var lastID *int64
			if err := rows.Scan(&r.lo.at, &r.lo.id, &r.hi.at, &r.hi.id, &r.n, &lastAt, &lastID, &r.json); err != nil {
				t.Fatal(err)
			}
			if lastAt != nil {
				r.last = wireKey{*lastAt, *lastID}
			}
			runs = append(runs, r)
		}
		rows.Close()
		prevHi := keyLow
		for i, r := range runs {
			if i > 0 && r.lo.less(prevHi) {
				t.Fatalf("section %d: run [%v, %v) overlaps the one before, which ends at %v", rank, r.lo, r.hi, prevHi)
			}
			if !r.lo.less(r.hi) {
				t.Fatalf("section %d: run [%v, %v) is empty or backwards", rank, r.lo, r.hi)
			}
			prevHi = r.hi
			order := "ORDER BY list_at, id"
			if rank == RankOther {
				order = "ORDER BY list_at DESC, id DESC"
			}
			fr, err := tx.query(`SELECT id, list_at, json FROM post_wire WHERE list_rank = ?
				AND (list_at, id) >= (?, ?) AND (list_at, id) < (?, ?) `+order, rank, r.lo.at, r.lo.id, r.hi.at, r.hi.id)
			if err != nil {
				t.Fatal(err)
			}
			var want [][]byte
			var last wireKey
			for fr.Next() {
				var j []byte
				if err := fr.Scan(&last.id, &last.at, &j); err != nil {
					t.Fatal(err)
				}
				want = append(want, j)
			}
			fr.Close()
			if got, w := string(r.json), string(bytes.Join(want, []byte(","))); got != w || r.n != len(want) || len(want) > 0 && r.last != last {
				t.Fatalf("section %d: run [%v, %v) holds %d posts ending at %v:\n%s\npost_wire holds %d ending at %v:\n%s",
					rank, r.lo, r.hi, r.n, r.last, got, len(want), last, w)
			}
		}
	}
}

// readAll reads the whole unfiltered list in pages of n, each in its own
// read transaction, through ListWireRuns (runs; its Joined when set) or
// ListWirePage, and returns the array's elements joined by commas, and
// how many posts came in runs.
func readAll(t *testing.T, s *Store, runs bool, n int) (string, int) {
	t.Helper()
	var out bytes.Buffer
	var after *ListCursor
	inRuns := 0
	for pages := 0; ; pages++ {
		if pages > 5000 {
			t.Fatal("the walk does not end")
		}
		var wp WirePage
		if err := s.View(context.Background(), func(tx *Tx) error {
			var err error
			if runs {
				wp, err = tx.ListWireRuns(after, n, nil)
			} else {
				wp, err = tx.ListWirePage(ListQuery{}, after, n, nil)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		singles := 0
		if wp.Joined != nil {
			// What the list handler writes; the items must say the same.
			var forms [][]byte
			for _, it := range wp.Items {
				if it.Post != nil {
					t.Fatalf("a page with post %d stale has Joined set", it.Post.ID)
				}
				forms = append(forms, it.JSON)
			}
			if !bytes.Equal(wp.Joined, bytes.Join(forms, []byte{','})) {
				t.Fatalf("Joined is not the page's items joined by commas:\n%s", wp.Joined)
			}
			if out.Len() > 0 {
				out.WriteByte(',')
			}
			out.Write(wp.Joined)
		}
		for _, it := range wp.Items {
			if wp.Joined != nil {
				if it.ID != 0 {
					singles++
				}
				continue
			}
			if out.Len() > 0 {
				out.WriteByte(',')
			}
			switch {
			case it.Post != nil:
				out.Write(encodeAll(it.Post))
				singles++
			case it.ID == 0: // a run
				out.Write(it.JSON)
			default:
				out.Write(it.JSON)
				singles++
			}
		}
		inRuns += wp.Posts - singles
		if !wp.More {
			return out.String(), inRuns
		}
		last := wp.Last
		after = &last
	}
}

// ListWireRuns lists exactly what ListWirePage lists with no filter,
// whatever runs exist: all built, some deleted by writes since, partly
// built, none; in pages of any size; and every run holds the stored forms
// of its interval as they stand.
func TestListWireRunsMatchListWirePage(t *testing.T) {
	defer func(n int) { wireRunSize = n }(wireRunSize)
	s := openTemp(t)
	twoAccounts(t, s)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(21, 22))
	m := &wireMutator{rng: rng, xid: 9000}
	if err := s.Update(ctx, func(tx *Tx) error { return m.insert(tx, 300) }); err != nil {
		t.Fatal(err)
	}
	var viaRuns, fullyBuilt, staleRounds int
	for round := range 120 {
		wireRunSize = []int{1, 3, 7, 64}[rng.IntN(4)]
		for range rng.IntN(6) {
			if err := s.Update(ctx, func(tx *Tx) error {
				if err := m.mutate(tx); err != nil {
					return err
				}
				checkRunInvariant(t, tx)
				return nil
			}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if rng.IntN(8) == 0 {
			// A row moved in place (sqlite3 by hand: nothing in psnd
			// updates post_wire): the runs at its old and new keys go.
			if err := s.Update(ctx, func(tx *Tx) error {
				_, err := tx.exec(`UPDATE post_wire SET list_at = ? WHERE id = (SELECT id FROM post_wire ORDER BY random() LIMIT 1)`, m.hours())
				if err == nil {
					checkRunInvariant(t, tx)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if rng.IntN(5) > 0 {
			fillWire(t, s, 1<<20)
		} else {
			fillWire(t, s, rng.IntN(50))
			staleRounds++
		}
		if err := s.Update(ctx, func(tx *Tx) error {
			done, err := tx.BuildWireRuns([]int{1, 2, 5, 1 << 20}[rng.IntN(4)])
			if done {
				fullyBuilt++
			}
			if err == nil {
				checkRunInvariant(t, tx)
			}
			return err
		}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		n := []int{1, 2, 5, 50, 1024}[rng.IntN(5)]
		want, _ := readAll(t, s, false, 1000)
		got, inRuns := readAll(t, s, true, n)
		if got != want {
			t.Fatalf("round %d, pages of %d: the list read through runs differs from ListWirePage's:\n%s\nwant:\n%s", round, n, got, want)
		}
		viaRuns += inRuns
	}
	if viaRuns < 5000 || fullyBuilt < 20 || staleRounds < 10 {
		t.Errorf("the walks read %d posts in runs, %d rounds fully built, %d with posts stale: too few", viaRuns, fullyBuilt, staleRounds)
	}
}
