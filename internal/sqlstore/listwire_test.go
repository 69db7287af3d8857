package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// encodeAll is a test's wire form: every field of the post, media ids
// included, so any write that FillWire's triggers miss shows as a stored
// form that differs from the post.
func encodeAll(p *post.Post) []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

func fillWire(t *testing.T, s *Store, n int) (left int) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx *Tx) error {
		var err error
		left, err = tx.FillWire(n, encodeAll)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return left
}

// wireState reports whether root id has a stored wire form, and whether
// it is marked stale.
func wireState(t *testing.T, s *Store, id int64) (stored, stale bool) {
	t.Helper()
	if err := s.View(context.Background(), func(tx *Tx) error {
		if err := tx.queryRow(`SELECT EXISTS (SELECT 1 FROM post_wire WHERE id = ?),
				EXISTS (SELECT 1 FROM post_wire_stale WHERE id = ?)`, id, id).Scan(&stored, &stale); err != nil {
			return err
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return stored, stale
}

// checkWireInvariant: every root post has a stored wire form or is stale,
// never both, never neither.
func checkWireInvariant(t *testing.T, tx *Tx) {
	t.Helper()
	var bad int
	if err := tx.queryRow(`SELECT count(*) FROM posts p WHERE p.parent_post_id IS NULL
			AND EXISTS (SELECT 1 FROM post_wire w WHERE w.id = p.id)
			  = EXISTS (SELECT 1 FROM post_wire_stale s WHERE s.id = p.id)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d root posts with both or neither a stored wire form and a stale mark", bad)
	}
}

// Every write to a row a post's wire form shows — each column of the root
// row, of a thread row and of a media row, rows added and removed, the
// account's username — makes that post stale, in the writing transaction.
func TestEveryWriteStalesTheWireForm(t *testing.T) {
	s := openTemp(t)
	twoAccounts(t, s)
	ctx := context.Background()
	var root, child, other, mediaID int64
	if err := s.Update(ctx, func(tx *Tx) error {
		for i, dst := range []*int64{&root, &other} {
			res, err := tx.exec(`INSERT INTO posts (account_id, content, status, run_id, created_at, updated_at)
				VALUES (?, ?, 'draft', 'r', '2026-11-27T09:00:00.000Z', '2026-11-27T09:00:00.000Z')`, fmt.Sprint(i+1), fmt.Sprint("root ", i))
			if err != nil {
				return err
			}
			*dst, _ = res.LastInsertId()
		}
		res, err := tx.exec(`INSERT INTO posts (account_id, parent_post_id, thread_position, content, status, run_id, created_at, updated_at)
			VALUES ('1', ?, 1, 'child', 'draft', 'r', '2026-11-27T09:00:00.000Z', '2026-11-27T09:00:00.000Z')`, root)
		if err != nil {
			return err
		}
		child, _ = res.LastInsertId()
		res, err = tx.exec(`INSERT INTO media (post_id, position, path, sha256, mime_type, size_bytes, created_at)
			VALUES (?, 0, '/m/a.png', 'x', 'image/png', 1, '2026-11-27T09:00:00.000Z')`, child)
		if err != nil {
			return err
		}
		mediaID, _ = res.LastInsertId()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	columns := func(table string) []string {
		var cols []string
		if err := s.View(ctx, func(tx *Tx) error {
			// table_xinfo's hidden: 2 and 3 are generated columns, which
			// cannot be written.
			rows, err := tx.query(`SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0`, table)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					return err
				}
				cols = append(cols, c)
			}
			return rows.Err()
		}); err != nil {
			t.Fatal(err)
		}
		if len(cols) < 5 {
			t.Fatalf("%s: columns %v", table, cols)
		}
		return cols
	}
	write := func(what, stmt string, args ...any) {
		t.Helper()
		if left := fillWire(t, s, 1000); left != 0 {
			t.Fatalf("%d posts stay stale after a fill", left)
		}
		if stored, stale := wireState(t, s, root); !stored || stale {
			t.Fatalf("before %s: stored %v, stale %v", what, stored, stale)
		}
		if err := s.Update(ctx, func(tx *Tx) error { _, err := tx.exec(stmt, args...); return err }); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if stored, stale := wireState(t, s, root); stored || !stale {
			t.Errorf("after %s: stored %v, stale %v; want the post stale", what, stored, stale)
		}
		if stored, stale := wireState(t, s, other); !stored || stale {
			t.Errorf("after %s: another post: stored %v, stale %v; want it left alone", what, stored, stale)
		}
	}
	for _, c := range columns("posts") {
		write("posts."+c+" of the root", fmt.Sprintf(`UPDATE posts SET %q = %q WHERE id = ?`, c, c), root)
		if c != "id" {
			write("posts."+c+" of a thread row", fmt.Sprintf(`UPDATE posts SET %q = %q WHERE id = ?`, c, c), child)
		}
	}
	for _, c := range columns("media") {
		write("media."+c, fmt.Sprintf(`UPDATE media SET %q = %q WHERE id = ?`, c, c), mediaID)
	}
	write("a media row added", `INSERT INTO media (post_id, position, path, sha256, mime_type, size_bytes, created_at)
		VALUES (?, 1, '/m/b.png', 'x', 'image/png', 1, '2026-11-27T09:00:00.000Z')`, child)
	write("a media row removed", `DELETE FROM media WHERE post_id = ? AND position = 1`, child)
	write("a media row moved to another tweet", `UPDATE media SET post_id = ? WHERE id = ?`, root, mediaID)
	write("a thread row added", `INSERT INTO posts (account_id, parent_post_id, thread_position, content, status, run_id, created_at, updated_at)
		VALUES ('1', ?, 2, 'child 2', 'draft', 'r', '2026-11-27T09:00:00.000Z', '2026-11-27T09:00:00.000Z')`, root)
	write("a thread row removed", `DELETE FROM posts WHERE parent_post_id = ? AND thread_position = 2`, root)
	write("the account renamed", `UPDATE accounts SET username = 'alice2' WHERE id = '1'`)
	write("the account renamed by a login", `INSERT INTO accounts (id, username, created_at, updated_at) VALUES ('1', 'alice3', 'x', 'x')
		ON CONFLICT (id) DO UPDATE SET username = excluded.username`)

	// A login writes the account row without renaming it: its posts keep
	// their stored forms (else every token refresh would re-encode them).
	fillWire(t, s, 1000)
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.UpsertAccount(post.Account{ID: "1", Username: "alice3", DisplayName: "Alice"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if stored, stale := wireState(t, s, root); !stored || stale {
		t.Errorf("after a login that keeps the username: stored %v, stale %v", stored, stale)
	}

	// A row moved from one post to another makes both stale: the one it
	// left as well as the one it joined.
	move := func(what, stmt string, args ...any) {
		t.Helper()
		fillWire(t, s, 1000)
		if err := s.Update(ctx, func(tx *Tx) error { _, err := tx.exec(stmt, args...); return err }); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, id := range []int64{root, other} {
			if stored, stale := wireState(t, s, id); stored || !stale {
				t.Errorf("after %s: post %d: stored %v, stale %v; want it stale", what, id, stored, stale)
			}
		}
	}
	move("a media row moved to another post", `UPDATE media SET post_id = ? WHERE id = ?`, other, mediaID)
	move("a thread row moved to another post", `UPDATE posts SET parent_post_id = ? WHERE id = ?`, other, child)

	// A deleted post leaves neither.
	if err := s.Update(ctx, func(tx *Tx) error { _, err := tx.exec(`DELETE FROM posts WHERE id = ?`, root); return err }); err != nil {
		t.Fatal(err)
	}
	if stored, stale := wireState(t, s, root); stored || stale {
		t.Errorf("after the post's deletion: stored %v, stale %v", stored, stale)
	}
	if left := fillWire(t, s, 1000); left != 0 {
		t.Errorf("%d stale after a fill", left)
	}
}

// wireMutator makes random writes to what the wire forms show: posts,
// threads, media and accounts.
type wireMutator struct {
	rng *rand.Rand
	xid int
	ids []int64
}

func (m *wireMutator) insert(tx *Tx, k int) error {
	for range k {
		sp, err := insertRandomPost(tx, m.rng, len(m.ids), &m.xid)
		if err != nil {
			return err
		}
		m.ids = append(m.ids, sp.id)
	}
	return nil
}

func (m *wireMutator) hours() string {
	return fmtTime(time.Date(2026, 11, 27, m.rng.IntN(8), m.rng.IntN(2)*30, 0, 0, time.UTC))
}

func (m *wireMutator) mutate(tx *Tx) error {
	rng, ids, hours, insert := m.rng, m.ids, m.hours, m.insert
	id := ids[rng.IntN(len(ids))]
	var err error
	switch rng.IntN(12) {
	case 0:
		_, err = tx.exec(`UPDATE posts SET status = 'failed', fail_reason = 'x said no' WHERE id = ? AND status <> 'published'`, id)
	case 1:
		_, err = tx.exec(`UPDATE posts SET status = 'scheduled', scheduled_at = ?, published_at = NULL, platform_post_id = NULL
			WHERE (id = ? OR parent_post_id = ?)`, hours(), id, id)
	case 2:
		_, err = tx.exec(`UPDATE posts SET content = ? WHERE parent_post_id = ? AND thread_position = 1`, fmt.Sprint("edited İ ", rng.IntN(99)), id)
	case 3:
		_, err = tx.exec(`UPDATE posts SET sub_status = 'at_risk' WHERE id = ? AND status = 'scheduled'`, id)
	case 4:
		_, err = tx.exec(`UPDATE media SET alt_text = ?, x_media_id = ? WHERE post_id IN (SELECT id FROM posts WHERE id = ? OR parent_post_id = ?)`,
			fmt.Sprint("alt ", rng.IntN(9)), fmt.Sprint(rng.IntN(9)), id, id)
	case 5:
		_, err = tx.exec(`DELETE FROM media WHERE post_id = ?`, id)
	case 6:
		// (id may be a post deleted since.)
		_, err = tx.exec(`INSERT OR IGNORE INTO media (post_id, position, path, sha256, mime_type, size_bytes, created_at)
			SELECT id, 3, '/m/new.png', 'y', 'image/png', 7, '2026-11-27T09:00:00.000Z' FROM posts WHERE id = ?`, id)
	case 7:
		_, err = tx.exec(`DELETE FROM posts WHERE id = ? AND parent_post_id IS NULL`, id)
	case 8:
		err = insert(tx, 1+rng.IntN(3))
	case 9:
		acct := fmt.Sprint(1 + rng.IntN(2))
		err = tx.UpsertAccount(post.Account{ID: acct, Username: fmt.Sprintf("user%s_İ%d", acct, rng.IntN(3))}, time.Now())
	case 10:
		_, err = tx.exec(`UPDATE posts SET account_id = ? WHERE id = ? OR parent_post_id = ?`, fmt.Sprint(1+rng.IntN(2)), id, id)
	case 11:
		_, err = tx.exec(`UPDATE posts SET status = 'published', published_at = ?, platform_post_id = ? WHERE id = ? AND parent_post_id IS NULL`,
			hours(), fmt.Sprint(100000+rng.IntN(1<<30)), id)
	}
	return err
}

// ListWirePage lists exactly what ListPage lists — the same posts in the
// same order, the same cursors and more — while random writes hit posts,
// threads, media and accounts and fills store some of them between; and
// every stored form it returns is the post as it stands.
func TestListWirePageMatchesListPage(t *testing.T) {
	s := openTemp(t)
	twoAccounts(t, s)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	m := &wireMutator{rng: rng, xid: 9000}
	if err := s.Update(ctx, func(tx *Tx) error { return m.insert(tx, 300) }); err != nil {
		t.Fatal(err)
	}
	mutate := m.mutate
	queries := []ListQuery{
		{},
		{Statuses: []post.Status{post.StatusScheduled}},
		{Statuses: []post.Status{post.StatusPublished, post.StatusFailed}, AccountID: "2"},
		{AccountID: "1"},
	}
	from, to := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	queries = append(queries, ListQuery{From: &from, To: &to})
	var storedSeen, staleSeen, allStored int
	for round := range 60 {
		for range 1 + rng.IntN(8) {
			if err := s.Update(ctx, func(tx *Tx) error {
				if err := mutate(tx); err != nil {
					return err
				}
				checkWireInvariant(t, tx)
				return nil
			}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		switch rng.IntN(4) {
		case 0:
			if left := fillWire(t, s, 1<<20); left != 0 {
				t.Fatalf("%d stale after filling every one", left)
			}
			allStored++ // pages read without a merge
		case 1, 2:
			fillWire(t, s, rng.IntN(200))
		}
		q := queries[rng.IntN(len(queries))]
		n := []int{1, 7, 50, 1000}[rng.IntN(4)]
		var afterW, afterP *ListCursor
		for pages := 0; ; pages++ {
			if pages > 2000 {
				t.Fatal("the walk does not end")
			}
			var more bool
			err := s.View(ctx, func(tx *Tx) error {
				wp, err := tx.ListWirePage(q, afterW, n, nil)
				if err != nil {
					return err
				}
				items, lastW, moreW := wp.Items, wp.Last, wp.More
				posts, lastP, moreP, err := tx.ListPage(q, afterP, n)
				if err != nil {
					return err
				}
				if len(items) != len(posts) || lastW != lastP || moreW != moreP {
					return fmt.Errorf("round %d, %+v pages of %d: wire page %d posts, cursor %+v, more %v; ListPage %d, %+v, %v",
						round, q, n, len(items), lastW, moreW, len(posts), lastP, moreP)
				}
				for i, it := range items {
					want, err := tx.GetPost(posts[i].ID)
					if err != nil {
						return err
					}
					switch {
					case it.ID != posts[i].ID:
						return fmt.Errorf("round %d: item %d is post %d, ListPage has %d", round, i, it.ID, posts[i].ID)
					case it.Post != nil:
						staleSeen++
						if !reflect.DeepEqual(it.Post, want) {
							t.Errorf("round %d: stale post %d read as %+v, GetPost %+v", round, it.ID, *it.Post, *want)
						}
					default:
						storedSeen++
						if got := string(it.JSON); got != string(encodeAll(want)) {
							t.Errorf("round %d: post %d's stored form is out of date:\n%s\nthe post as it stands:\n%s", round, it.ID, got, encodeAll(want))
						}
					}
				}
				afterW, afterP, more = &lastW, &lastP, moreW
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				break
			}
		}
	}
	if storedSeen < 1000 || staleSeen < 100 || allStored < 5 {
		t.Errorf("the walks saw %d stored and %d stale forms, %d with none stale: too few of one kind", storedSeen, staleSeen, allStored)
	}
}

// With more stale posts than a page merges, ListWirePage reads columns,
// and lists the same as ListPage.
func TestListWirePageManyStale(t *testing.T) {
	s := openTemp(t)
	twoAccounts(t, s)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	xid := 1
	if err := s.Update(ctx, func(tx *Tx) error {
		for i := range wireStaleMax + 300 {
			if _, err := insertRandomPost(tx, rng, i, &xid); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fillWire(t, s, 200) // some stored, more than wireStaleMax stale
	if err := s.View(ctx, func(tx *Tx) error {
		wp, err := tx.ListWirePage(ListQuery{}, nil, 500, nil)
		if err != nil {
			return err
		}
		items, lastW, moreW := wp.Items, wp.Last, wp.More
		posts, lastP, moreP, err := tx.ListPage(ListQuery{}, nil, 500)
		if err != nil {
			return err
		}
		if len(items) != len(posts) || lastW != lastP || moreW != moreP {
			t.Fatalf("wire page %d posts, %+v; ListPage %d, %+v", len(items), lastW, len(posts), lastP)
		}
		for i, it := range items {
			if it.Post == nil || !reflect.DeepEqual(it.Post, posts[i]) {
				t.Fatalf("item %d: %+v, want post %d read from its columns", i, it, posts[i].ID)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for fillWire(t, s, 500) > 0 {
	}
	if err := s.View(ctx, func(tx *Tx) error {
		wp, err := tx.ListWirePage(ListQuery{}, nil, 500, nil)
		for _, it := range wp.Items {
			if it.JSON == nil {
				t.Fatalf("post %d not read from its stored form after every form was stored", it.ID)
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// A root row replaced (INSERT OR REPLACE, as a person may write with
// sqlite3) deletes the old row without its delete triggers: the insert
// must still drop the old stored form, or the post would be both stored
// and stale, and listed twice.
func TestReplacedRootIsListedOnce(t *testing.T) {
	s := openTemp(t)
	twoAccounts(t, s)
	ctx := context.Background()
	var id int64
	if err := s.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(`INSERT INTO posts (account_id, content, status, run_id, created_at, updated_at)
			VALUES ('1', 'before', 'draft', 'r', '2026-11-27T09:00:00.000Z', '2026-11-27T09:00:00.000Z')`)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fillWire(t, s, 1000)
	if err := s.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`INSERT OR REPLACE INTO posts (id, account_id, content, status, run_id, created_at, updated_at)
			VALUES (?, '1', 'after', 'draft', 'r', '2026-11-27T09:00:00.000Z', '2026-11-27T09:00:00.000Z')`, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if stored, stale := wireState(t, s, id); stored || !stale {
		t.Errorf("after the row was replaced: stored %v, stale %v; want it stale only", stored, stale)
	}
	if err := s.View(ctx, func(tx *Tx) error {
		wp, err := tx.ListWirePage(ListQuery{}, nil, 10, nil)
		if err != nil {
			return err
		}
		if len(wp.Items) != 1 || wp.Items[0].Post == nil || wp.Items[0].Post.Tweets[0].Text != "after" {
			var ids []int64
			for _, it := range wp.Items {
				ids = append(ids, it.ID)
			}
			t.Errorf("listed posts %v, want post %d once, as it stands", ids, id)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
