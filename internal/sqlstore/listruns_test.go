package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
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
// how many posts came in runs. between, if set, runs between pages.
func readAll(t *testing.T, s *Store, runs bool, n int, between ...func()) (string, int) {
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
		for _, f := range between {
			f()
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
		switch rng.IntN(16) {
		case 0:
			// Another psnd's forms: all dropped, runs with them, and built
			// again from nothing below.
			if err := s.Update(ctx, func(tx *Tx) error {
				_, err := tx.UseWireFormat(fmt.Sprint("test format ", round))
				if err == nil {
					checkRunInvariant(t, tx)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		case 1:
			// A post replaced whole (sqlite3 by hand, or a future upsert):
			// REPLACE deletes the row, its thread and media by cascade,
			// and inserts it again.
			if err := s.Update(ctx, func(tx *Tx) error {
				var cols string // the stored columns, not the generated ones
				if err := tx.queryRow(`SELECT group_concat(name) FROM pragma_table_xinfo('posts') WHERE hidden = 0`).Scan(&cols); err != nil {
					return err
				}
				_, err := tx.exec(`REPLACE INTO posts (` + cols + `) SELECT ` + cols + ` FROM posts
					WHERE id = (SELECT id FROM posts WHERE parent_post_id IS NULL ORDER BY random() LIMIT 1)`)
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
			if err == nil {
				checkRunInvariant(t, tx)
			}
			if err == nil && done {
				fullyBuilt++
				checkRunsCompact(t, tx)
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

// checkRunsCompact fails unless, after a full build, the runs of each
// section cover it from keyLow to keyHigh without a gap, no two
// neighbouring runs could be one (both hold fewer than wireRunSize posts),
// and so a section of p posts has at most 2·⌈p/wireRunSize⌉+1 runs.
func checkRunsCompact(t *testing.T, tx *Tx) {
	t.Helper()
	for rank := RankAttention; rank <= RankOther; rank++ {
		var posts int
		if err := tx.queryRow(`SELECT count(*) FROM post_wire WHERE list_rank = ?`, rank).Scan(&posts); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.query(`SELECT lo_at, lo_id, hi_at, hi_id, n FROM post_wire_run WHERE list_rank = ? ORDER BY lo_at, lo_id`, rank)
		if err != nil {
			t.Fatal(err)
		}
		p, runs, prevN := keyLow, 0, wireRunSize
		for rows.Next() {
			var lo, hi wireKey
			var n int
			if err := rows.Scan(&lo.at, &lo.id, &hi.at, &hi.id, &n); err != nil {
				t.Fatal(err)
			}
			if lo != p {
				t.Fatalf("section %d: a gap from %v to %v after a full build", rank, p, lo)
			}
			if n < wireRunSize && prevN < wireRunSize {
				t.Fatalf("section %d: the runs before and at %v hold %d and %d posts: they could be one run of at most %d", rank, lo, prevN, n, wireRunSize)
			}
			p, prevN = hi, n
			runs++
		}
		rows.Close()
		if p != keyHigh {
			t.Fatalf("section %d: the runs end at %v, not at %v", rank, p, keyHigh)
		}
		if most := 2*((posts+wireRunSize-1)/wireRunSize) + 1; runs > most {
			t.Fatalf("section %d: %d runs for %d posts (at most %d)", rank, runs, posts, most)
		}
	}
}

// However posts arrive one by one, each followed by a build (a history
// imported newest first, a queue filled from its end, at random), the
// runs stay few: before, each post written before the first of a full run
// left a run of its own, 130 runs for 256 posts.
func TestWireRunsStayFewWhateverTheWriteOrder(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	const posts = 300
	orders := map[string]func(i int) int{
		"older first":     func(i int) int { return posts - i },
		"newer first":     func(i int) int { return i },
		"both ends":       func(i int) int { return posts/2 + (i/2+1)*(1-2*(i%2)) },
		"at random":       func(i int) int { return (i * 7919) % posts },
		"middle outwards": func(i int) int { return (posts/2 + i*(posts/2-1)) % posts },
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			s := openTemp(t)
			twoAccounts(t, s)
			for i := range posts {
				at := fmtTime(base.Add(time.Duration(order(i)) * time.Minute))
				if err := s.Update(ctx, func(tx *Tx) error {
					// A published post (the last section, newest first) and
					// a scheduled one (ascending) at the same time.
					if _, err := tx.exec(`INSERT INTO posts (account_id, thread_position, content, status, published_at, platform_post_id, run_id, created_at, updated_at)
						VALUES ('1', 0, ?, 'published', ?, ?, 'r', ?, ?)`, fmt.Sprintf("old %d 👩‍👩‍👧 İ", i), at, fmt.Sprint(1000+i), at, at); err != nil {
						return err
					}
					if _, err := tx.exec(`INSERT INTO posts (account_id, thread_position, content, status, scheduled_at, run_id, created_at, updated_at)
						VALUES ('2', 0, ?, 'scheduled', ?, 'r', ?, ?)`, fmt.Sprintf("due %d ⱥ", i), at, at, at); err != nil {
						return err
					}
					if _, err := tx.FillWire(1<<20, encodeAll); err != nil {
						return err
					}
					done, err := tx.BuildWireRuns(wireRunsAll)
					if err == nil && !done {
						err = fmt.Errorf("build not done")
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.View(ctx, func(tx *Tx) error {
				checkRunInvariant(t, tx)
				checkRunsCompact(t, tx)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want, _ := readAll(t, s, false, 1000)
			got, inRuns := readAll(t, s, true, 1024)
			if got != want {
				t.Fatalf("the list read through runs differs from ListWirePage's:\n%s\nwant:\n%s", got, want)
			}
			if inRuns != 2*posts {
				t.Fatalf("%d of %d posts read in runs", inRuns, 2*posts)
			}
		})
	}
}

// wireRunsAll is a batch large enough for any build in these tests.
const wireRunsAll = 1 << 20

// A batch of no runs is refused, not taken as "not done yet" forever.
func TestBuildWireRunsRefusesNoBatch(t *testing.T) {
	s := openTemp(t)
	if err := s.Update(context.Background(), func(tx *Tx) error {
		_, err := tx.BuildWireRuns(0)
		return err
	}); err == nil {
		t.Fatal("BuildWireRuns(0) succeeded")
	}
}

// A list walked in pages while posts are written between them (as the
// daemon's list reads a chunk per read transaction while the scheduler
// and other clients write): every post that is the same before and after
// the walk comes exactly once, in list order, whether a page
// reads runs, stale posts or holes left by the writes.
func TestListWireRunsWalkWithWritesBetweenPages(t *testing.T) {
	defer func(n int) { wireRunSize = n }(wireRunSize)
	wireRunSize = 7
	s := openTemp(t)
	twoAccounts(t, s)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(31, 32))
	m := &wireMutator{rng: rng, xid: 9000}
	if err := s.Update(ctx, func(tx *Tx) error { return m.insert(tx, 300) }); err != nil {
		t.Fatal(err)
	}
	build := func() {
		fillWire(t, s, 1<<20)
		if err := s.Update(ctx, func(tx *Tx) error {
			_, err := tx.BuildWireRuns(wireRunsAll)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	build()
	forms := func(list string) (ids []int64, byID map[int64]string) {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte("["+list+"]"), &raw); err != nil {
			t.Fatalf("the list is not JSON: %v", err)
		}
		byID = map[int64]string{}
		for _, r := range raw {
			var p struct{ ID int64 }
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
			byID[p.ID] = string(r)
		}
		return ids, byID
	}
	var checked int
	for round := range 20 {
		list, _ := readAll(t, s, false, 1000)
		beforeIDs, before := forms(list)
		walk, _ := readAll(t, s, true, []int{3, 10, 40}[rng.IntN(3)], func() {
			if err := s.Update(ctx, func(tx *Tx) error {
				for range rng.IntN(4) {
					if err := m.mutate(tx); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(3) == 0 {
				build()
			}
		})
		list, _ = readAll(t, s, false, 1000)
		_, after := forms(list)
		walkIDs, _ := forms(walk)
		seen := map[int64]int{}
		for _, id := range walkIDs {
			seen[id]++
		}
		var stable, inWalk []int64
		for _, id := range beforeIDs {
			if before[id] == after[id] {
				stable = append(stable, id)
			}
		}
		for _, id := range walkIDs {
			if before[id] != "" && before[id] == after[id] {
				inWalk = append(inWalk, id)
			}
		}
		for _, id := range stable {
			// (Its form may differ: an account renamed and renamed back
			// during the walk.)
			if seen[id] != 1 {
				t.Fatalf("round %d: post %d, the same before and after the walk, came %d times", round, id, seen[id])
			}
		}
		if !slices.Equal(stable, inWalk) {
			t.Fatalf("round %d: the unchanged posts came in the order %v, not %v", round, inWalk, stable)
		}
		checked += len(stable)
		build()
	}
	if checked < 3000 {
		t.Errorf("only %d unchanged posts checked", checked)
	}
}
