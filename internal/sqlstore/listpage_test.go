package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// seededPost is what a list test knows of a post it inserted.
type seededPost struct {
	id      int64
	account string
	status  post.Status
	at      string // the list time: published, else scheduled, else created
	texts   []string
	media   map[int]int // position -> media count
}

var allStatuses = []post.Status{post.StatusDraft, post.StatusScheduled, post.StatusPublishing, post.StatusPublished, post.StatusFailed, post.StatusRetry}

// insertRandomPost adds a post with random status, times (few distinct
// values, so ties are common), account, thread length and media.
func insertRandomPost(tx *Tx, rng *rand.Rand, i int, xid *int) (seededPost, error) {
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	someTime := func() *string {
		if rng.IntN(4) == 0 {
			return nil
		}
		s := fmtTime(base.Add(time.Duration(rng.IntN(6)) * time.Hour))
		return &s
	}
	st := allStatuses[rng.IntN(len(allStatuses))]
	sched, pub := someTime(), someTime()
	if st == post.StatusScheduled && sched == nil {
		s := fmtTime(base)
		sched = &s
	}
	created := fmtTime(base.Add(time.Duration(rng.IntN(6))*time.Hour + 30*time.Minute))
	acct := []string{"1", "2"}[rng.IntN(2)]
	sp := seededPost{account: acct, status: st, media: map[int]int{}}
	switch {
	case pub != nil:
		sp.at = *pub
	case sched != nil:
		sp.at = *sched
	default:
		sp.at = created
	}
	n := 1 + rng.IntN(3)*rng.IntN(2)
	for pos := range n {
		var parent, platform any
		if pos > 0 {
			parent = sp.id
		}
		if st == post.StatusPublished {
			*xid++
			platform = fmt.Sprint(*xid)
		}
		text := fmt.Sprintf("post %d tweet %d İⱥ 日本", i, pos)
		res, err := tx.exec(`INSERT INTO posts (account_id, parent_post_id, thread_position, content, status,
				scheduled_at, published_at, platform_post_id, run_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'r', ?, ?)`,
			acct, parent, pos, text, string(st), sched, pub, platform, created, created)
		if err != nil {
			return sp, err
		}
		id, _ := res.LastInsertId()
		if pos == 0 {
			sp.id = id
		}
		sp.texts = append(sp.texts, text)
		if rng.IntN(4) == 0 {
			k := 1 + rng.IntN(2)
			for m := range k {
				if _, err := tx.exec(`INSERT INTO media (post_id, position, path, sha256, mime_type, size_bytes, created_at)
					VALUES (?, ?, ?, 'x', 'image/png', 1, ?)`, id, m, fmt.Sprintf("/m/%d-%d.png", id, m), created); err != nil {
					return sp, err
				}
			}
			sp.media[pos] = k
		}
	}
	return sp, nil
}

func twoAccounts(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx *Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, time.Now()); err != nil {
			return err
		}
		return tx.UpsertAccount(post.Account{ID: "2", Username: "bob"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

// listOrder is the order ListPage promises, written plainly.
func listOrder(a, b seededPost) int {
	ra, rb := RankOf(a.status, ""), RankOf(b.status, "")
	if c := cmp.Compare(ra, rb); c != 0 {
		return c
	}
	c := cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id))
	if ra == RankOther {
		return -c
	}
	return c
}

// walk pages through q with pages of n posts and returns every post seen.
func walk(t *testing.T, s *Store, q ListQuery, n int, between func()) []*post.Post {
	t.Helper()
	var out []*post.Post
	var after *ListCursor
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("the walk does not end")
		}
		var got []*post.Post
		var last ListCursor
		var more bool
		err := s.View(context.Background(), func(tx *Tx) error {
			var err error
			got, last, more, err = tx.ListPage(q, after, n)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > n {
			t.Fatalf("page of %d posts, asked for %d", len(got), n)
		}
		out = append(out, got...)
		if !more {
			return out
		}
		if len(got) == 0 {
			t.Fatal("an empty page says more follow")
		}
		after = &last
		if between != nil {
			between()
		}
	}
}

// Pages walk the posts in list order, each exactly once, with their own
// tweets and media, under every filter; a page never holds more than asked.
func TestListPageOrderFiltersContent(t *testing.T) {
	s := openTemp(t)
	twoAccounts(t, s)
	rng := rand.New(rand.NewPCG(3, 4))
	var seeded []seededPost
	xid := 7000
	if err := s.Update(context.Background(), func(tx *Tx) error {
		for i := range 300 {
			sp, err := insertRandomPost(tx, rng, i, &xid)
			if err != nil {
				return err
			}
			seeded = append(seeded, sp)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byID := map[int64]seededPost{}
	for _, sp := range seeded {
		byID[sp.id] = sp
	}
	from := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 27, 12, 30, 0, 0, time.UTC)
	cases := []struct {
		name string
		q    ListQuery
	}{
		{"all", ListQuery{}},
		{"failed", ListQuery{Statuses: []post.Status{post.StatusFailed}}},
		{"scheduled+draft", ListQuery{Statuses: []post.Status{post.StatusScheduled, post.StatusDraft}}},
		{"attention", ListQuery{Statuses: []post.Status{post.StatusFailed, post.StatusRetry, post.StatusPublishing}}},
		{"account 2", ListQuery{AccountID: "2"}},
		{"from", ListQuery{From: &from}},
		{"to", ListQuery{To: &to}},
		{"window, published, account 1", ListQuery{From: &from, To: &to, AccountID: "1", Statuses: []post.Status{post.StatusPublished}}},
	}
	for _, c := range cases {
		var want []seededPost
		for _, sp := range seeded {
			if len(c.q.Statuses) > 0 && !slices.Contains(c.q.Statuses, sp.status) ||
				c.q.AccountID != "" && sp.account != c.q.AccountID ||
				c.q.From != nil && sp.at < fmtTime(*c.q.From) ||
				c.q.To != nil && sp.at >= fmtTime(*c.q.To) {
				continue
			}
			want = append(want, sp)
		}
		slices.SortFunc(want, listOrder)
		if len(want) == 0 {
			t.Fatalf("%s: the seed selects nothing; the case tests nothing", c.name)
		}
		for _, n := range []int{1, 7, 1000} {
			got := walk(t, s, c.q, n, nil)
			if len(got) != len(want) {
				t.Fatalf("%s, pages of %d: %d posts, want %d", c.name, n, len(got), len(want))
			}
			for i, p := range got {
				w := want[i]
				if p.ID != w.id {
					t.Fatalf("%s, pages of %d: post %d is %d (%s), want %d (%s %s)", c.name, n, i, p.ID, p.Status, w.id, w.status, w.at)
				}
				var texts []string
				for pos, tw := range p.Tweets {
					texts = append(texts, tw.Text)
					if len(tw.Media) != w.media[pos] {
						t.Errorf("%s: post %d tweet %d has %d media, want %d", c.name, p.ID, pos, len(tw.Media), w.media[pos])
					}
				}
				if !slices.Equal(texts, w.texts) {
					t.Errorf("%s: post %d tweets %q, want %q", c.name, p.ID, texts, w.texts)
				}
				if p.AccountID != w.account || p.Status != w.status {
					t.Errorf("%s: post %d is %s/%s, want %s/%s", c.name, p.ID, p.AccountID, p.Status, w.account, w.status)
				}
			}
		}
	}
}

// The walk's guarantee while posts are written: every post that exists for
// the whole walk and whose status and times do not change is returned
// exactly once and in order. A post created, deleted or changed during the
// walk is returned at most once per place it held in the order: it may be
// missed, or seen again with its new state if it moved ahead of the cursor.
func TestListPageWalkWhileWriting(t *testing.T) {
	s := openTemp(t)
	twoAccounts(t, s)
	rng := rand.New(rand.NewPCG(5, 6))
	xid := 9000
	var stable, volatile []seededPost
	if err := s.Update(context.Background(), func(tx *Tx) error {
		for i := range 600 {
			sp, err := insertRandomPost(tx, rng, i, &xid)
			if err != nil {
				return err
			}
			if i%3 == 0 {
				volatile = append(volatile, sp)
			} else {
				stable = append(stable, sp)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A writer inserts, reschedules, fails and deletes volatile posts
	// while the walk runs, and between its pages.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	changed := map[int64]bool{}
	var mu sync.Mutex
	write := func(wrng *rand.Rand, i int) {
		err := s.Update(context.Background(), func(tx *Tx) error {
			sp, err := insertRandomPost(tx, wrng, 10000+i, &xid)
			if err != nil {
				return err
			}
			v := volatile[wrng.IntN(len(volatile))]
			mu.Lock()
			changed[sp.id], changed[v.id] = true, true
			mu.Unlock()
			switch wrng.IntN(3) {
			case 0:
				_, err = tx.exec(`UPDATE posts SET status = 'failed' WHERE id = ? AND status <> 'published'`, v.id)
			case 1:
				_, err = tx.exec(`UPDATE posts SET scheduled_at = ?, status = 'scheduled', published_at = NULL, platform_post_id = NULL
					WHERE id = ? AND parent_post_id IS NULL`, fmtTime(time.Date(2026, 11, 27, wrng.IntN(20), 0, 0, 0, time.UTC)), v.id)
			default:
				_, err = tx.exec(`DELETE FROM posts WHERE id = ?`, v.id)
			}
			return err
		})
		if err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		wrng := rand.New(rand.NewPCG(7, 8))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			write(wrng, i)
		}
	}()
	brng := rand.New(rand.NewPCG(9, 10))
	n := 0
	got := walk(t, s, ListQuery{}, 9, func() { n++; write(brng, 100000+n) })
	close(stop)
	wg.Wait()

	seen := map[int64]int{}
	for _, p := range got {
		seen[p.ID]++
	}
	for _, sp := range stable {
		if seen[sp.id] != 1 {
			t.Errorf("stable post %d (%s %s) seen %d times", sp.id, sp.status, sp.at, seen[sp.id])
		}
	}
	for id, k := range seen {
		if k > 1 && !changed[id] {
			t.Errorf("post %d, never changed, seen %d times", id, k)
		}
	}
	// The stable posts come in list order.
	stableIDs := map[int64]seededPost{}
	for _, sp := range stable {
		stableIDs[sp.id] = sp
	}
	var order []seededPost
	for _, p := range got {
		if sp, ok := stableIDs[p.ID]; ok {
			order = append(order, sp)
		}
	}
	if !slices.IsSortedFunc(order, listOrder) {
		t.Error("stable posts out of list order")
	}
	if n < 10 {
		t.Fatalf("only %d pages: the walk barely overlapped the writes", n)
	}
}

// A page is a range scan of posts_list, never a sort of every post: the
// property that keeps a page's cost flat at any size.
func TestListPagePlanUsesIndex(t *testing.T) {
	s := openTemp(t)
	for _, q := range []string{listPageAsc, listPageDesc, listChildren} {
		var plan []string
		err := s.View(context.Background(), func(tx *Tx) error {
			args := []any{1, "[]", "[]", "", "", "", 0, "~", 10}
			if q == listChildren {
				args = []any{"[1,2]"}
			}
			rows, err := tx.tx.Query("EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		joined := fmt.Sprint(plan)
		want := "posts_list"
		if q == listChildren {
			want = "posts_thread"
		}
		if !strings.Contains(joined, want) || strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("plan %v: want a scan of %s without a sort", plan, want)
		}
	}
}

// ReleaseIdle closes the pooled connections nobody uses (their page caches
// with them) but one, and the store keeps working.
func TestReleaseIdleClosesIdleConnections(t *testing.T) {
	s := openTemp(t)
	mustAccount(t, s)
	ctx := context.Background()
	// Hold several connections at once so that the pool keeps them idle.
	var wg, inside sync.WaitGroup
	inside.Add(4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.View(ctx, func(tx *Tx) error {
				inside.Done()
				inside.Wait() // all four hold a connection
				_, _, _, err := tx.ListPage(ListQuery{}, nil, 10)
				return err
			})
		}()
	}
	wg.Wait()
	if s.db.Stats().Idle < 2 {
		t.Fatal("fewer than two idle connections to release; the test tests nothing")
	}
	s.ReleaseIdle()
	if n := s.db.Stats().Idle; n != 1 {
		t.Fatalf("%d idle connections after ReleaseIdle, want 1", n)
	}
	if err := s.View(ctx, func(tx *Tx) error {
		_, _, _, err := tx.ListPage(ListQuery{}, nil, 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// ListPage reads its own narrow columns (no join, list_at recomputed in
// Go); every post it returns must equal what GetPost — the full columns,
// the join — reads for the same id, field for field, on varied rows:
// threads, media, every status, failure reasons, sub-statuses, retry
// times, stored weighted lengths, hostile and non-ASCII text and
// usernames, a time a person wrote by hand in another RFC 3339 form. Each
// page's cursor must be the stored list_at of its last post.
func TestListPageMatchesGetPost(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: "1", Username: "İlkay_日本"}, time.Now()); err != nil {
			return err
		}
		return tx.UpsertAccount(post.Account{ID: "2", Username: "bob"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	hostile := []string{
		`quote " backslash \ slash / <b>&amp;</b>`, "tab\tnew\nline\rcr \x01\x1f", "emoji 👩‍👩‍👧 🇫🇷 done",
		"RTL שלום مرحبا", "Ⱥ ⱥ İ ı ß", "U+2028\u2028 U+2029\u2029", "",
	}
	xid := 9000
	if err := s.Update(ctx, func(tx *Tx) error {
		for i := range 400 {
			sp, err := insertRandomPost(tx, rng, i, &xid)
			if err != nil {
				return err
			}
			// Vary what insertRandomPost leaves at defaults.
			switch i % 5 {
			case 0:
				_, err = tx.exec(`UPDATE posts SET content = ?, fail_reason = ?, attempts = ?, retries = ?
					WHERE id = ? OR parent_post_id = ?`,
					hostile[i%len(hostile)], hostile[(i+1)%len(hostile)], i%4, i%3, sp.id, sp.id)
			case 1:
				_, err = tx.exec(`UPDATE posts SET sub_status = 'retry_2', next_retry_at = '2026-11-28T01:02:03.450Z',
					weighted_length = 17 WHERE id = ?`, sp.id)
			case 2:
				_, err = tx.exec(`UPDATE posts SET created_at = '2026-11-27T11:00:00+02:00', updated_at = '2026-11-27T09:00:00.123456Z'
					WHERE id = ?`, sp.id)
			case 3:
				_, err = tx.exec(`UPDATE posts SET sub_status = 'thread_partial' WHERE id = ?`, sp.id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 13, 1000} {
		var after *ListCursor
		seen := 0
		for pages := 0; ; pages++ {
			if pages > 400 {
				t.Fatalf("pages of %d: the walk does not end", n)
			}
			var got []*post.Post
			var last ListCursor
			var more bool
			err := s.View(ctx, func(tx *Tx) error {
				var err error
				if got, last, more, err = tx.ListPage(ListQuery{}, after, n); err != nil {
					return err
				}
				for _, p := range got {
					want, err := tx.GetPost(p.ID)
					if err != nil {
						return err
					}
					if !reflect.DeepEqual(p, want) {
						t.Errorf("pages of %d: post %d\nListPage %+v\nGetPost  %+v", n, p.ID, *p, *want)
					}
				}
				if len(got) > 0 {
					var at string
					if err := tx.queryRow(`SELECT list_at FROM posts WHERE id = ?`, last.ID).Scan(&at); err != nil {
						return err
					}
					if last.At != at || last.ID != got[len(got)-1].ID {
						// Stop here: the walk would not end from a wrong cursor.
						return fmt.Errorf("pages of %d: cursor %+v, want at %q of post %d", n, last, at, got[len(got)-1].ID)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			seen += len(got)
			if !more {
				break
			}
			after = &last
		}
		if seen != 400 {
			t.Fatalf("pages of %d: %d posts, want 400", n, seen)
		}
	}
}
