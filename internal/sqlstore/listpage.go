package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// ListQuery selects posts for ListPage. Zero fields select everything.
type ListQuery struct {
	Statuses  []post.Status // any of these; none = every status
	AccountID string        // "" = every account
	// From and To bound the post's list time (published_at, else
	// scheduled_at, else created_at) to [From, To).
	From, To *time.Time
}

// ListCursor is a position in list order: the last post a page returned.
// Its fields are those of the posts_list index.
type ListCursor struct {
	Rank int
	At   string // list_at as stored
	ID   int64
}

// Sections of the list order (posts.list_rank).
const (
	RankAttention = 0 // failed, retry, publishing: oldest time first
	RankScheduled = 1 // scheduled: soonest first
	RankOther     = 2 // drafts and published: newest first
)

// RankOf is the section a post of status s and sub-status sub lists in,
// as migration 00014 computes it: a scheduled post at risk needs attention.
func RankOf(s post.Status, sub post.SubStatus) int {
	if s == post.StatusScheduled && sub == post.SubAtRisk {
		return RankAttention
	}
	switch s {
	case post.StatusFailed, post.StatusRetry, post.StatusPublishing:
		return RankAttention
	case post.StatusScheduled:
		return RankScheduled
	}
	return RankOther
}

// The two page queries differ only in direction: the last section lists
// newest first. Each is a range scan of posts_list that starts at the
// cursor: the time bound on that side is folded into the cursor in Go,
// because given two bounds on one side SQLite keeps one, and keeping the
// time bound instead of the cursor made every page scan from the start of
// its section (a walk of 100,000 posts took seconds). The filters other
// than time only skip rows.
var (
	listPageFilter = ` FROM posts p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.parent_post_id IS NULL AND p.list_rank = ?
		  AND (? = '[]' OR p.status IN (SELECT value FROM json_each(?)))
		  AND (? = '' OR p.account_id = ?)`
	listPageAsc = `SELECT ` + postColumns + `, p.list_at` + listPageFilter + `
		  AND (p.list_at, p.id) > (?, ?) AND p.list_at < ?
		ORDER BY p.list_at, p.id LIMIT ?`
	listPageDesc = `SELECT ` + postColumns + `, p.list_at` + listPageFilter + `
		  AND (p.list_at, p.id) < (?, ?) AND p.list_at >= ?
		ORDER BY p.list_at DESC, p.id DESC LIMIT ?`
	listChildren = `SELECT ` + postColumns + ` FROM posts p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.parent_post_id IN (SELECT value FROM json_each(?))
		ORDER BY p.parent_post_id, p.thread_position`
)

// ListPage returns up to n posts (with their tweets and media) that follow
// after in list order — from the start when after is nil — and the cursor
// of the last one; more reports whether further posts match.
//
// List order: the attention section (failed, retrying, being published,
// scheduled but at risk; oldest first), then scheduled posts (soonest first), then drafts and
// published posts (newest first); within a section by list time, then id.
// A page reads only its own rows through the posts_list index, so its cost
// does not grow with the number of posts, and nothing is sorted in memory.
func (t *Tx) ListPage(q ListQuery, after *ListCursor, n int) (posts []*post.Post, last ListCursor, more bool, err error) {
	if n <= 0 {
		return nil, ListCursor{}, false, fmt.Errorf("list posts: page size %d", n)
	}
	want := [3]bool{}
	for _, s := range q.Statuses {
		want[RankOf(s, "")] = true
		if s == post.StatusScheduled {
			want[RankOf(s, post.SubAtRisk)] = true // at-risk posts list first
		}
	}
	if len(q.Statuses) == 0 {
		want = [3]bool{true, true, true}
	}
	statuses := "[]"
	if len(q.Statuses) > 0 {
		b, _ := json.Marshal(q.Statuses)
		statuses = string(b)
	}
	from, to := "", "~" // before and after every stored time
	if q.From != nil {
		from = fmtTime(*q.From)
	}
	if q.To != nil {
		to = fmtTime(*q.To)
	}
	start := RankAttention
	if after != nil {
		start = after.Rank
	}
	var ats []string
	for rank := start; rank <= RankOther && len(posts) <= n; rank++ {
		if !want[rank] {
			continue
		}
		// The scan starts after (cAt, cID) and stops at bound. An id of 0
		// sorts before every post of its time: (from, 0) starts at from
		// inclusive, (to, 0) descending starts just before to.
		stmt, cAt, cID, bound := listPageAsc, from, int64(0), to
		if rank == RankOther {
			stmt, cAt, cID, bound = listPageDesc, to, 0, from
		}
		if after != nil && after.Rank == rank {
			if rank == RankOther && after.At < to || rank != RankOther && after.At >= from {
				cAt, cID = after.At, after.ID
			}
		}
		rows, err := t.query(stmt, rank, statuses, statuses, q.AccountID, q.AccountID, cAt, cID, bound, n+1-len(posts))
		if err != nil {
			return nil, ListCursor{}, false, fmt.Errorf("list posts: %w", mapErr(err))
		}
		got, gotAts, err := scanRoots(rows)
		if err != nil {
			return nil, ListCursor{}, false, fmt.Errorf("list posts: %w", err)
		}
		posts = append(posts, got...)
		ats = append(ats, gotAts...)
	}
	if len(posts) > n {
		posts, ats, more = posts[:n], ats[:n], true
	}
	if len(posts) == 0 {
		return nil, ListCursor{}, false, nil
	}
	lp := posts[len(posts)-1]
	last = ListCursor{Rank: RankOf(lp.Status, lp.SubStatus), At: ats[len(ats)-1], ID: lp.ID}
	if err := t.addThreads(posts); err != nil {
		return nil, ListCursor{}, false, err
	}
	if err := t.attachMedia(posts); err != nil {
		return nil, ListCursor{}, false, err
	}
	return posts, last, more, nil
}

// scanRoots reads root rows followed by their list_at.
func scanRoots(rows *sql.Rows) ([]*post.Post, []string, error) {
	defer rows.Close()
	sc := newRowScanner()
	var at string
	dest := append(sc.dest[:len(sc.dest):len(sc.dest)], &at)
	var posts []*post.Post
	var ats []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, mapErr(err)
		}
		p := &post.Post{}
		if err := addRow(p, &sc.r); err != nil {
			return nil, nil, err
		}
		posts = append(posts, p)
		ats = append(ats, at)
	}
	return posts, ats, mapErr(rows.Err())
}

// addThreads reads the thread rows of the posts in one query.
func (t *Tx) addThreads(posts []*post.Post) error {
	ids := make([]int64, len(posts))
	byID := make(map[int64]*post.Post, len(posts))
	for i, p := range posts {
		ids[i] = p.ID
		byID[p.ID] = p
	}
	idsJSON, _ := json.Marshal(ids)
	rows, err := t.query(listChildren, string(idsJSON))
	if err != nil {
		return fmt.Errorf("list posts: %w", mapErr(err))
	}
	if err := addChildren(rows, byID); err != nil {
		return fmt.Errorf("list posts: %w", err)
	}
	return nil
}
