package sqlstore

import (
	"database/sql"
	"fmt"
	"slices"
)

// Runs of wire forms (migration 00021): the stored forms of up to
// wireRunSize consecutive posts of a list section, joined in list order,
// so that a whole list reads a row per run rather than a row per post.
// The runs of a section partition its keys, (list_at, id) ascending, into
// half-open intervals [lo, hi); triggers on post_wire delete the run whose
// interval a write touches, and BuildWireRuns fills the holes again.
// ListWireRuns reads a run whole when it exists and the posts of a hole
// row by row, so a list is right whatever runs exist.

// wireRunSize is how many posts a run holds at most: a run is read and
// written whole, so a write to one post costs the next build this many
// forms (about 40 KB), and a list holds one run in memory at a time.
var wireRunSize = 64 // a variable so that tests can make runs small

// wireKey is a post's place in post_wire: (list_at, id), compared in that
// order. Positions between keys use ids no post has (0, -1, 1 after "~").
type wireKey struct {
	at string
	id int64
}

func (a wireKey) less(b wireKey) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.id < b.id
}

var (
	// keyLow is where a section's first run starts, keyHigh where its
	// last ends: stored times sort after "" and before "~".
	keyLow, keyHigh = wireKey{"", 0}, wireKey{"~", 0}
	// belowAll and aboveAll are positions before and after every run
	// boundary and every post.
	belowAll, aboveAll = wireKey{"", -1}, wireKey{"~", 1}
)

const (
	runColumns = `lo_at, lo_id, hi_at, hi_id, n, last_at, last_id`
	// The runs after an ascending position; the runs wholly before a
	// descending one (hi <= c; lo < c lets SQLite seek by the key). Both
	// run on into the next section, which the reader stops at: a range
	// with an end makes SQLite compare each row with the end, and it reads
	// the whole row to compare one, a run's form included, so each form
	// would be read twice (the key is the whole row in a table WITHOUT
	// ROWID).
	runsAsc = `SELECT list_rank, ` + runColumns + `, json FROM post_wire_run
		WHERE (list_rank, lo_at, lo_id) > (?, ?, ?)
		ORDER BY list_rank, lo_at, lo_id LIMIT ?`
	runsDesc = `SELECT list_rank, ` + runColumns + `, json FROM post_wire_run
		WHERE (list_rank, lo_at, lo_id) < (?, ?, ?) AND (list_rank < ? OR (hi_at, hi_id) <= (?, ?))
		ORDER BY list_rank DESC, lo_at DESC, lo_id DESC LIMIT ?`
	// The posts of a hole: ascending, after a and before b; descending,
	// from a up to but not including b, the highest first.
	holeAsc = `SELECT id, json, list_at FROM post_wire
		WHERE list_rank = ? AND (list_at, id) > (?, ?) AND (list_at, id) < (?, ?)
		ORDER BY list_at, id LIMIT ?`
	holeDesc = `SELECT id, json, list_at FROM post_wire
		WHERE list_rank = ? AND (list_at, id) >= (?, ?) AND (list_at, id) < (?, ?)
		ORDER BY list_at DESC, id DESC LIMIT ?`
	runBounds = `SELECT lo_at, lo_id, hi_at, hi_id, n FROM post_wire_run
		WHERE list_rank = ? ORDER BY lo_at, lo_id`
	deleteRun = `DELETE FROM post_wire_run WHERE list_rank = ? AND lo_at = ? AND lo_id = ?`
	// The posts of a hole, for a build: from lo up to but not including hi.
	buildRows = `SELECT id, list_at, json FROM post_wire
		WHERE list_rank = ? AND (list_at, id) >= (?, ?) AND (list_at, id) < (?, ?)
		ORDER BY list_at, id LIMIT ?`
	insertRun = `INSERT INTO post_wire_run (list_rank, lo_at, lo_id, hi_at, hi_id, n, last_at, last_id, json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// runsPerQuery is how many runs ListWireRuns reads per query at most (it
// asks for what its page still wants).
const runsPerQuery = 32

// ListWireRuns is the list with no filter, time range or page size
// (`psnd list --json`), as ListWirePage(ListQuery{}, after, n, buf) gives
// it, but read a run at a time where runs exist: an item is then a run of
// posts (its JSON their forms joined by commas, its ID 0), and a page may
// hold up to wireRunSize-1 posts more than n. More then says only that the
// page is full, not that a post follows: the next page may be empty. So
// it serves a list read to its end, never a page of a given size that a
// client sees (GET /v1/posts?limit=N reads ListWirePage). With posts
// stale it is ListWirePage.
func (t *Tx) ListWireRuns(after *ListCursor, n int, buf []byte) (WirePage, error) {
	if n <= 0 {
		return WirePage{Buf: buf}, fmt.Errorf("list posts: page size %d", n)
	}
	stale, err := t.CountStaleWire()
	if err != nil {
		return WirePage{Buf: buf}, fmt.Errorf("list posts: %w", err)
	}
	if stale > 0 {
		return t.ListWirePage(ListQuery{}, after, n, buf)
	}
	r := runReader{t: t, n: n, buf: buf}
	off := len(buf)
	start := RankAttention
	if after != nil {
		start = after.Rank
	}
	for rank := start; rank <= RankOther && r.posts < n; rank++ {
		var c *wireKey
		if after != nil && after.Rank == rank {
			c = &wireKey{after.At, after.ID}
		}
		if err := r.section(rank, c); err != nil {
			return WirePage{Buf: r.buf}, err
		}
	}
	page := WirePage{Last: r.last, More: r.posts >= n, Posts: r.posts, Buf: r.buf}
	if len(r.items) > 0 {
		page.Joined = r.buf[off:len(r.buf):len(r.buf)]
	}
	page.Items = make([]ListItem, len(r.items))
	for i, it := range r.items {
		page.Items[i] = ListItem{ID: it.id, JSON: r.buf[it.off : it.off+it.n : it.off+it.n]}
	}
	return page, nil
}

// runReader gathers a page of ListWireRuns.
type runReader struct {
	t     *Tx
	n     int // the page's size in posts
	buf   []byte
	items []wireRow // off and n locate each item's JSON in buf
	posts int
	last  ListCursor
}

// add appends an item's JSON to the page, after a comma unless it is the
// first (see WirePage.Joined).
func (r *runReader) add(id int64, json []byte) {
	if len(r.items) > 0 {
		r.buf = append(r.buf, ',')
	}
	r.items = append(r.items, wireRow{id: id, off: len(r.buf), n: len(json)})
	r.buf = append(r.buf, json...)
}

// section reads section rank from after c (its start when nil) until the
// page is full or the section ends.
func (r *runReader) section(rank int, c *wireKey) error {
	desc := rank == RankOther
	pos, end := belowAll, aboveAll
	// edge is where the posts read so far end, when a run next to it
	// needs no look for posts between: the boundary of the last run read
	// in this transaction, or of the last hole read up to a run.
	edge := &keyLow // nothing sorts before the first run
	if desc {
		pos, end, edge = aboveAll, belowAll, &keyHigh
	}
	if c != nil {
		pos, edge = *c, nil
	}
	// from is where the next runs are looked for: after the last run
	// read (an empty one leaves pos where it was).
	from := pos
	for r.posts < r.n {
		want := min(runsPerQuery, (r.n-r.posts)/wireRunSize+2)
		var holeErr error
		got, err := r.runs(rank, desc, from, want, func(run *wireRun, json []byte) bool {
			near, far := run.lo, run.hi // where reading reaches the run, and leaves it
			if desc {
				near, far = run.hi, run.lo
			}
			if edge == nil || *edge != near {
				// Posts may lie before the run: read them first, the
				// run's row still open, rather than look for the run
				// again (a seek reads whole runs: see runsAsc).
				if holeErr = r.hole(rank, desc, &pos, near); holeErr != nil || r.posts >= r.n {
					return false
				}
			}
			if run.n > 0 {
				r.add(0, json)
				r.posts += run.n
				pos = run.last
				r.last = ListCursor{Rank: rank, At: pos.at, ID: pos.id}
			}
			from, edge = run.lo, &far
			return r.posts < r.n
		})
		switch {
		case err != nil:
			return err
		case holeErr != nil:
			return holeErr
		case got < want:
			if r.posts < r.n && (edge == nil || *edge != keyHigh && !desc || *edge != keyLow && desc) {
				return r.hole(rank, desc, &pos, end)
			}
			return nil
		}
	}
	return nil
}

// wireRun is a run as ListWireRuns reads it.
type wireRun struct {
	lo, hi wireKey
	n      int
	last   wireKey
}

// runs reads up to limit runs of section rank after pos in list order
// (ascending, those that start after it; descending, those wholly before
// it), passing each with its JSON (valid only during the call) to use
// until use returns false; it returns how many it read.
func (r *runReader) runs(rank int, desc bool, pos wireKey, limit int, use func(*wireRun, []byte) bool) (int, error) {
	q, args := runsAsc, []any{rank, pos.at, pos.id, limit}
	if desc {
		q, args = runsDesc, []any{rank, pos.at, pos.id, rank, pos.at, pos.id, limit}
	}
	rows, err := r.t.query(q, args...)
	if err != nil {
		return 0, fmt.Errorf("list posts: %w", mapErr(err))
	}
	defer rows.Close()
	got := 0
	var raw sql.RawBytes
	for rows.Next() {
		var run wireRun
		var section int
		var lastAt sql.NullString
		var lastID sql.NullInt64
		if err := rows.Scan(&section, &run.lo.at, &run.lo.id, &run.hi.at, &run.hi.id, &run.n, &lastAt, &lastID, &raw); err != nil {
			return got, fmt.Errorf("list posts: %w", mapErr(err))
		}
		if section != rank {
			return got, nil // the section's end
		}
		run.last = wireKey{lastAt.String, lastID.Int64}
		got++
		if !use(&run, raw) {
			return got, nil
		}
	}
	if err := rows.Err(); err != nil {
		return got, fmt.Errorf("list posts: %w", mapErr(err))
	}
	return got, nil
}

// hole reads, row by row, the posts between *pos and bound (not
// including either) in list order, up to what the page still wants, and
// moves *pos past them.
func (r *runReader) hole(rank int, desc bool, pos *wireKey, bound wireKey) error {
	q, args := holeAsc, []any{rank, pos.at, pos.id, bound.at, bound.id, r.n - r.posts}
	if desc {
		q, args = holeDesc, []any{rank, bound.at, bound.id, pos.at, pos.id, r.n - r.posts}
	}
	rows, err := r.t.query(q, args...)
	if err != nil {
		return fmt.Errorf("list posts: %w", mapErr(err))
	}
	defer rows.Close()
	var raw sql.RawBytes
	for rows.Next() {
		var k wireKey
		if err := rows.Scan(&k.id, &raw, &k.at); err != nil {
			return fmt.Errorf("list posts: %w", mapErr(err))
		}
		r.add(k.id, raw)
		r.posts++
		*pos = k
		r.last = ListCursor{Rank: rank, At: k.at, ID: k.id}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list posts: %w", mapErr(err))
	}
	return nil
}

// BuildWireRuns builds runs for the holes in the runs (where posts were
// written since, or none was ever built), up to maxRuns runs, and reports
// whether none is left. Runs hold post_wire as it stands; a post still
// stale is not in them, and storing its form later deletes the run it
// falls in.
//
// A hole is built together with the runs beside it that are not full,
// and so is any run that is not full beside another: after a build no two
// neighbouring runs could be one, so a section of p posts has at most
// 2·⌈p/wireRunSize⌉+1 runs, however the writes came. Without that, posts
// written one by one before the first post of a full run (a history
// imported newest first) would each leave a run of one post behind.
func (t *Tx) BuildWireRuns(maxRuns int) (done bool, err error) {
	if maxRuns < 1 {
		return false, fmt.Errorf("build wire runs: batch of %d runs", maxRuns)
	}
	built := 0
	for rank := RankAttention; rank <= RankOther; rank++ {
		regions, err := t.runRegions(rank)
		if err != nil {
			return false, err
		}
		for _, g := range regions {
			if built >= maxRuns {
				return false, nil
			}
			// The runs a region takes in go only when it is built: a
			// batch that ends first leaves them to be read whole.
			for _, lo := range g.absorb {
				if _, err := t.exec(deleteRun, rank, lo.at, lo.id); err != nil {
					return false, fmt.Errorf("build wire runs: %w", mapErr(err))
				}
			}
			for lo := g.lo; ; {
				if built >= maxRuns {
					return false, nil
				}
				var more bool
				var n int
				lo, n, more, err = t.buildRuns(rank, lo, g.hi, maxRuns-built)
				if err != nil {
					return false, fmt.Errorf("build wire runs: %w", err)
				}
				built += n
				if !more {
					break
				}
			}
		}
	}
	return true, nil
}

// runRegion is an interval of a section to build runs for: a hole, with
// the runs that are not full beside it, or runs that are not full side
// by side. absorb holds the lower bounds of the runs it takes in.
type runRegion struct {
	lo, hi wireKey
	absorb []wireKey
}

// runRegions lists the intervals of section rank that a build covers
// anew: each hole in the runs and each run that is not full beside a hole
// or beside another such run, neighbours joined into one region.
func (t *Tx) runRegions(rank int) ([]runRegion, error) {
	rows, err := t.query(runBounds, rank)
	if err != nil {
		return nil, fmt.Errorf("build wire runs: %w", mapErr(err))
	}
	defer rows.Close()
	// The section in order, holes included (n < 0).
	type segment struct {
		lo, hi wireKey
		n      int
	}
	var segs []segment
	p := keyLow
	for rows.Next() {
		var s segment
		if err := rows.Scan(&s.lo.at, &s.lo.id, &s.hi.at, &s.hi.id, &s.n); err != nil {
			return nil, fmt.Errorf("build wire runs: %w", mapErr(err))
		}
		if p.less(s.lo) {
			segs = append(segs, segment{p, s.lo, -1})
		}
		segs = append(segs, s)
		p = s.hi
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("build wire runs: %w", mapErr(err))
	}
	if p.less(keyHigh) {
		segs = append(segs, segment{p, keyHigh, -1})
	}
	// A hole or a run that is not full: one a region takes in when its
	// neighbour is one too (a hole always is taken).
	open := func(i int) bool { return i >= 0 && i < len(segs) && segs[i].n < wireRunSize }
	var regions []runRegion
	for i, s := range segs {
		hole := s.n < 0
		if !hole && !(open(i) && (open(i-1) || open(i+1))) {
			continue
		}
		if len(regions) == 0 || regions[len(regions)-1].hi != s.lo {
			regions = append(regions, runRegion{lo: s.lo})
		}
		g := &regions[len(regions)-1]
		g.hi = s.hi
		if !hole {
			g.absorb = append(g.absorb, s.lo)
		}
	}
	return regions, nil
}

// buildRuns stores up to maxRuns runs covering [lo, hi) of section rank
// from its start, and returns where the hole left uncovered begins (more
// is then true) and how many runs it stored.
func (t *Tx) buildRuns(rank int, lo, hi wireKey, maxRuns int) (next wireKey, built int, more bool, err error) {
	want := maxRuns * wireRunSize
	rows, err := t.query(buildRows, rank, lo.at, lo.id, hi.at, hi.id, want+1)
	if err != nil {
		return lo, 0, false, mapErr(err)
	}
	type form struct {
		key  wireKey
		json []byte
	}
	var forms []form
	for rows.Next() {
		var f form
		if err := rows.Scan(&f.key.id, &f.key.at, &f.json); err != nil {
			rows.Close()
			return lo, 0, false, mapErr(err)
		}
		forms = append(forms, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return lo, 0, false, mapErr(err)
	}
	end := hi
	if len(forms) > want {
		end, more, forms = forms[want].key, true, forms[:want]
	}
	store := func(lo, hi wireKey, part []form) error {
		var last any
		var lastID any
		var joined []byte
		if len(part) > 0 {
			if rank == RankOther {
				slices.Reverse(part)
			}
			for i, f := range part {
				if i > 0 {
					joined = append(joined, ',')
				}
				joined = append(joined, f.json...)
			}
			last, lastID = part[len(part)-1].key.at, part[len(part)-1].key.id
		}
		if joined == nil {
			joined = []byte{}
		}
		_, err := t.exec(insertRun, rank, lo.at, lo.id, hi.at, hi.id, len(part), last, lastID, joined)
		return mapErr(err)
	}
	if len(forms) == 0 {
		return end, 1, false, store(lo, end, nil)
	}
	for i := 0; i < len(forms); i += wireRunSize {
		j := min(i+wireRunSize, len(forms))
		runLo, runHi := lo, end
		if i > 0 {
			runLo = forms[i].key
		}
		if j < len(forms) {
			runHi = forms[j].key
		}
		if err := store(runLo, runHi, forms[i:j]); err != nil {
			return lo, built, false, err
		}
		built++
	}
	return end, built, more, nil
}
