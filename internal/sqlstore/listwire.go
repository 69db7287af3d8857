package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/psnd/psnd/internal/post"
)

// Wire forms (migration 00017): each root post's JSON as GET /v1/posts
// writes it, stored in list order so a list copies bytes. Triggers move a
// post to post_wire_stale whenever anything its JSON shows is written;
// FillWire encodes stale posts again, and ListWirePage merges the stale
// ones, read from their columns, into the stored ones.

// ListItem is one post of a list page: its stored wire form when that is
// current, else the post itself for the caller to encode.
type ListItem struct {
	ID   int64
	JSON []byte     // the stored wire form, as of the page's read
	Post *post.Post // set when the stored form is stale
}

// wireStaleMax is how many stale posts a page merges in. Each page finds
// the stale posts of its range by sorting all of them, so above this (a
// fresh import, a database just migrated) pages read columns until
// FillWire catches up.
const wireStaleMax = 2048

var (
	wirePageFilter = ` FROM post_wire
		WHERE list_rank = ?
		  AND (? = '[]' OR status IN (SELECT value FROM json_each(?)))
		  AND (? = '' OR account_id = ?)`
	wireAsc = wirePageFilter + `
		  AND (list_at, id) > (?, ?) AND list_at < ?
		ORDER BY list_at, id LIMIT ?`
	wireDesc = wirePageFilter + `
		  AND (list_at, id) < (?, ?) AND list_at >= ?
		ORDER BY list_at DESC, id DESC LIMIT ?`
	// With stale posts to merge in, each row's time is read; with none, a
	// page reads only id and json (a column fewer per post) and the
	// cursor's time once.
	wirePageAsc, wirePageDesc         = `SELECT id, json, list_at` + wireAsc, `SELECT id, json, list_at` + wireDesc
	wireOnlyPageAsc, wireOnlyPageDesc = `SELECT id, json` + wireAsc, `SELECT id, json` + wireDesc
	// The stale posts of a page, found from the (few) stale ids: CROSS
	// JOIN keeps SQLite from scanning posts_list instead.
	stalePageFilter = ` FROM post_wire_stale s CROSS JOIN posts p ON p.id = s.id
		WHERE p.parent_post_id IS NULL AND p.list_rank = ?
		  AND (? = '[]' OR p.status IN (SELECT value FROM json_each(?)))
		  AND (? = '' OR p.account_id = ?)`
	stalePageAsc = `SELECT p.id, p.list_at` + stalePageFilter + `
		  AND (p.list_at, p.id) > (?, ?) AND p.list_at < ?
		ORDER BY p.list_at, p.id LIMIT ?`
	stalePageDesc = `SELECT p.id, p.list_at` + stalePageFilter + `
		  AND (p.list_at, p.id) < (?, ?) AND p.list_at >= ?
		ORDER BY p.list_at DESC, p.id DESC LIMIT ?`
	rootsByID = `SELECT ` + listRootColumns + ` FROM posts p
		WHERE p.id IN (SELECT value FROM json_each(?)) AND p.parent_post_id IS NULL`
)

// wireRow is a row of a wire page before the page is cut: off and n
// locate its JSON in the page's buffer; n < 0 marks a stale post.
type wireRow struct {
	id     int64
	rank   int
	at     string
	off, n int
}

// WirePage is a page of ListWirePage.
type WirePage struct {
	Items []ListItem
	Last  ListCursor // the cursor of the last item
	More  bool       // further posts match
	Posts int        // how many posts Items hold (a run is several)
	// Buf holds the items' stored forms; pass it (emptied) to the next
	// call once they are written, so a long list reuses one buffer.
	Buf []byte
	// Joined, when ListWireRuns read the page from runs and holes (every
	// item a stored form), is the items' forms in Buf joined by commas,
	// as a JSON array holds them: the page to write as it is, without a
	// copy. It is nil for a page of ListWirePage and an empty page.
	Joined []byte
}

// ListWirePage is ListPage in wire forms: the same posts in the same
// order with the same cursor, each as its stored JSON when that is
// current, else as the post read from its columns. The stored forms are
// appended to buf.
func (t *Tx) ListWirePage(q ListQuery, after *ListCursor, n int, buf []byte) (WirePage, error) {
	items, last, more, buf, err := t.listWirePage(q, after, n, buf)
	return WirePage{Items: items, Last: last, More: more, Posts: len(items), Buf: buf}, err
}

func (t *Tx) listWirePage(q ListQuery, after *ListCursor, n int, buf []byte) (items []ListItem, last ListCursor, more bool, _ []byte, err error) {
	if n <= 0 {
		return nil, ListCursor{}, false, buf, fmt.Errorf("list posts: page size %d", n)
	}
	stale, err := t.CountStaleWire()
	if err != nil {
		return nil, ListCursor{}, false, buf, fmt.Errorf("list posts: %w", err)
	}
	if stale > wireStaleMax {
		posts, last, more, err := t.ListPage(q, after, n)
		items = make([]ListItem, len(posts))
		for i, p := range posts {
			items[i] = ListItem{ID: p.ID, Post: p}
		}
		return items, last, more, buf, err
	}
	pl := planPage(q, after)
	var rows []wireRow
	for rank := pl.start; rank <= RankOther && len(rows) <= n; rank++ {
		if !pl.want[rank] {
			continue
		}
		desc := rank == RankOther
		wireQ, staleQ := wirePageAsc, stalePageAsc
		switch {
		case desc && stale == 0:
			wireQ = wireOnlyPageDesc
		case desc:
			wireQ, staleQ = wirePageDesc, stalePageDesc
		case stale == 0:
			wireQ = wireOnlyPageAsc
		}
		args := pl.args(rank, n+1-len(rows))
		var stored, unstored []wireRow
		if stored, buf, err = t.scanWireRows(wireQ, args, rank, buf); err != nil {
			return nil, ListCursor{}, false, buf, err
		}
		if stale > 0 {
			if unstored, _, err = t.scanWireRows(staleQ, args, rank, nil); err != nil {
				return nil, ListCursor{}, false, buf, err
			}
		}
		rows = mergeWireRows(rows, stored, unstored, desc, n+1)
	}
	if len(rows) > n {
		rows, more = rows[:n], true
	}
	if len(rows) == 0 {
		return nil, ListCursor{}, false, buf, nil
	}
	lr := rows[len(rows)-1]
	last = ListCursor{Rank: lr.rank, At: lr.at, ID: lr.id}
	if stale == 0 {
		if err := t.queryRow(`SELECT list_at FROM post_wire WHERE id = ?`, lr.id).Scan(&last.At); err != nil {
			return nil, ListCursor{}, false, buf, fmt.Errorf("list posts: %w", mapErr(err))
		}
	}
	items = make([]ListItem, len(rows))
	var staleIDs []int64
	for i, r := range rows {
		items[i].ID = r.id
		if r.n < 0 {
			staleIDs = append(staleIDs, r.id)
		} else {
			items[i].JSON = buf[r.off : r.off+r.n : r.off+r.n]
		}
	}
	if len(staleIDs) > 0 {
		posts, err := t.postsByID(staleIDs)
		if err != nil {
			return nil, ListCursor{}, false, buf, err
		}
		for i := range items {
			if items[i].JSON == nil {
				if items[i].Post = posts[items[i].ID]; items[i].Post == nil {
					return nil, ListCursor{}, false, buf, fmt.Errorf("list posts: post %d vanished inside a read", items[i].ID)
				}
			}
		}
	}
	return items, last, more, buf, nil
}

// scanWireRows runs a page query of post_wire (id, json and maybe
// list_at: the JSON is appended to buf) or of the stale posts (id and
// list_at: the rows get n = -1).
func (t *Tx) scanWireRows(query string, args []any, rank int, buf []byte) ([]wireRow, []byte, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, buf, fmt.Errorf("list posts: %w", mapErr(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, buf, fmt.Errorf("list posts: %w", mapErr(err))
	}
	var out []wireRow
	var raw sql.RawBytes
	for rows.Next() {
		r := wireRow{rank: rank, n: -1}
		raw = nil
		switch {
		case cols[1] != "json":
			err = rows.Scan(&r.id, &r.at)
		case len(cols) == 3:
			err = rows.Scan(&r.id, &raw, &r.at)
		default:
			err = rows.Scan(&r.id, &raw)
		}
		if raw != nil {
			r.off, r.n = len(buf), len(raw)
			buf = append(buf, raw...)
		}
		if err != nil {
			return nil, buf, fmt.Errorf("list posts: %w", mapErr(err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, buf, fmt.Errorf("list posts: %w", mapErr(err))
	}
	return out, buf, nil
}

// mergeWireRows appends to rows the stored and stale rows of one section,
// both already in list order, in list order, up to max rows in all.
func mergeWireRows(rows, stored, stale []wireRow, desc bool, max int) []wireRow {
	before := func(a, b wireRow) bool {
		if a.at != b.at {
			return (a.at < b.at) != desc
		}
		return (a.id < b.id) != desc
	}
	for len(rows) < max && (len(stored) > 0 || len(stale) > 0) {
		if len(stale) == 0 || len(stored) > 0 && before(stored[0], stale[0]) {
			rows, stored = append(rows, stored[0]), stored[1:]
		} else {
			rows, stale = append(rows, stale[0]), stale[1:]
		}
	}
	return rows
}

// postsByID reads root posts, with their tweets and media, by id.
func (t *Tx) postsByID(ids []int64) (map[int64]*post.Post, error) {
	names, err := t.usernames()
	if err != nil {
		return nil, err
	}
	idsJSON, _ := json.Marshal(ids)
	rows, err := t.query(rootsByID, string(idsJSON))
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", mapErr(err))
	}
	posts, _, err := scanRoots(rows, names)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	if len(posts) > 0 {
		if err := t.addThreads(posts); err != nil {
			return nil, err
		}
		if err := t.attachMedia(posts); err != nil {
			return nil, err
		}
	}
	byID := make(map[int64]*post.Post, len(posts))
	for _, p := range posts {
		byID[p.ID] = p
	}
	return byID, nil
}

// CountStaleWire is how many posts have no stored wire form.
func (t *Tx) CountStaleWire() (int, error) {
	var n int
	if err := t.queryRow(`SELECT count(*) FROM post_wire_stale`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count stale wire forms: %w", mapErr(err))
	}
	return n, nil
}

// FillWire stores the wire form, made by encode, of up to n stale posts,
// and returns how many posts stay stale. It reads and writes in the one
// write transaction, so what it stores is the post as it stands.
func (t *Tx) FillWire(n int, encode func(*post.Post) []byte) (remaining int, err error) {
	rows, err := t.query(`SELECT id FROM post_wire_stale ORDER BY id LIMIT ?`, n)
	if err != nil {
		return 0, fmt.Errorf("fill wire forms: %w", mapErr(err))
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("fill wire forms: %w", mapErr(err))
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("fill wire forms: %w", mapErr(err))
	}
	if len(ids) == 0 {
		return 0, nil
	}
	posts, err := t.postsByID(ids)
	if err != nil {
		return 0, fmt.Errorf("fill wire forms: %w", err)
	}
	for _, id := range ids {
		p := posts[id]
		if p == nil {
			continue // deleted, or not a root: its stale id just goes
		}
		// A delete, not INSERT OR REPLACE: a row that REPLACE removes
		// fires no delete trigger, and post_wire's delete the run that
		// held the old form (migration 00021).
		if _, err := t.exec(`DELETE FROM post_wire WHERE id = ?`, id); err != nil {
			return 0, fmt.Errorf("fill wire forms: store post %d: %w", id, mapErr(err))
		}
		if _, err := t.exec(`INSERT INTO post_wire (list_rank, list_at, id, status, account_id, json)
			SELECT list_rank, list_at, id, status, account_id, ? FROM posts WHERE id = ?`, encode(p), id); err != nil {
			return 0, fmt.Errorf("fill wire forms: store post %d: %w", id, mapErr(err))
		}
	}
	idsJSON, _ := json.Marshal(ids)
	if _, err := t.exec(`DELETE FROM post_wire_stale WHERE id IN (SELECT value FROM json_each(?))`, string(idsJSON)); err != nil {
		return 0, fmt.Errorf("fill wire forms: %w", mapErr(err))
	}
	return t.CountStaleWire()
}

// UseWireFormat makes format the encoding of the stored wire forms. When
// the forms were stored in another format (by an older or newer psnd) or
// in an unknown one, every stored form is dropped and every root post
// marked stale, in this transaction: a list then reads them from their
// columns until FillWire has encoded them again. reset reports that.
func (t *Tx) UseWireFormat(format string) (reset bool, err error) {
	var stored string
	switch err := t.queryRow(`SELECT format FROM post_wire_format WHERE id = 1`).Scan(&stored); {
	case err == nil && stored == format:
		return false, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("read the wire forms' format: %w", mapErr(err))
	}
	if _, err := t.exec(`DELETE FROM post_wire_run`); err != nil {
		return false, fmt.Errorf("reset the wire forms: %w", mapErr(err))
	}
	if _, err := t.exec(`DELETE FROM post_wire`); err != nil {
		return false, fmt.Errorf("reset the wire forms: %w", mapErr(err))
	}
	if _, err := t.exec(`INSERT INTO post_wire_stale (id) SELECT id FROM posts
		WHERE parent_post_id IS NULL AND id NOT IN (SELECT id FROM post_wire_stale)`); err != nil {
		return false, fmt.Errorf("reset the wire forms: %w", mapErr(err))
	}
	if _, err := t.exec(`INSERT INTO post_wire_format (id, format) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET format = excluded.format`, format); err != nil {
		return false, fmt.Errorf("reset the wire forms: %w", mapErr(err))
	}
	return true, nil
}
