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
// as migration 00016 computes it: a scheduled post at risk, or held by the
// monthly budget, needs attention.
func RankOf(s post.Status, sub post.SubStatus) int {
	if s == post.StatusScheduled && (sub == post.SubAtRisk || sub == post.SubOverBudget) {
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
//
// The list reads fewer columns than other post queries, and no join: the
// pure-Go SQLite engine's cost is per column and per row looked up, and
// over 100,000 posts it is most of a list's time. Roots skip the parent
// and position (a root's are NULL and 0) and list_at (COALESCE of three
// times the row already carries, recomputed in Go for the cursor); the
// account's username comes from a map read once per page instead of a
// join per row; thread rows read only what a tweet holds.
var (
	listRootColumns = `p.id, p.account_id, p.content, p.status, p.sub_status, p.scheduled_at, p.published_at,
		p.fail_reason, p.platform_post_id, p.run_id, p.attempts, p.retries, p.next_retry_at, p.created_at,
		p.updated_at, p.weighted_length`
	listPageFilter = ` FROM posts p
		WHERE p.parent_post_id IS NULL AND p.list_rank = ?
		  AND (? = '[]' OR p.status IN (SELECT value FROM json_each(?)))
		  AND (? = '' OR p.account_id = ?)`
	listPageAsc = `SELECT ` + listRootColumns + listPageFilter + `
		  AND (p.list_at, p.id) > (?, ?) AND p.list_at < ?
		ORDER BY p.list_at, p.id LIMIT ?`
	listPageDesc = `SELECT ` + listRootColumns + listPageFilter + `
		  AND (p.list_at, p.id) < (?, ?) AND p.list_at >= ?
		ORDER BY p.list_at DESC, p.id DESC LIMIT ?`
	listChildren = `SELECT p.id, p.parent_post_id, p.thread_position, p.content, p.status, p.published_at,
			p.platform_post_id, p.weighted_length
		FROM posts p
		WHERE p.parent_post_id IN (SELECT value FROM json_each(?))
		ORDER BY p.parent_post_id, p.thread_position`
	listUsernames = `SELECT id, username FROM accounts`
)

// ListPage returns up to n posts (with their tweets and media) that follow
// after in list order — from the start when after is nil — and the cursor
// of the last one; more reports whether further posts match.
//
// List order: the attention section (failed, retrying, being published,
// scheduled but at risk or held by the budget; oldest first), then scheduled posts (soonest first), then drafts and
// published posts (newest first); within a section by list time, then id.
// A page reads only its own rows through the posts_list index, so its cost
// does not grow with the number of posts, and nothing is sorted in memory.
func (t *Tx) ListPage(q ListQuery, after *ListCursor, n int) (posts []*post.Post, last ListCursor, more bool, err error) {
	if n <= 0 {
		return nil, ListCursor{}, false, fmt.Errorf("list posts: page size %d", n)
	}
	pl := planPage(q, after)
	names, err := t.usernames()
	if err != nil {
		return nil, ListCursor{}, false, err
	}
	var ats []string
	for rank := pl.start; rank <= RankOther && len(posts) <= n; rank++ {
		if !pl.want[rank] {
			continue
		}
		stmt := listPageAsc
		if rank == RankOther {
			stmt = listPageDesc
		}
		rows, err := t.query(stmt, pl.args(rank, n+1-len(posts))...)
		if err != nil {
			return nil, ListCursor{}, false, fmt.Errorf("list posts: %w", mapErr(err))
		}
		got, gotAts, err := scanRoots(rows, names)
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

// pagePlan is what a page of a list scans: the sections its statuses
// list in, the filters as query arguments, and the section it starts in.
type pagePlan struct {
	q        ListQuery
	after    *ListCursor
	want     [3]bool
	statuses string // JSON array of the statuses; "[]" for all
	from, to string // the time bounds as stored; "" and "~" when open
	start    int
}

func planPage(q ListQuery, after *ListCursor) pagePlan {
	pl := pagePlan{q: q, after: after, statuses: "[]", from: "", to: "~"} // "" and "~" sort before and after every stored time
	for _, s := range q.Statuses {
		pl.want[RankOf(s, "")] = true
		if s == post.StatusScheduled {
			pl.want[RankOf(s, post.SubAtRisk)] = true // at-risk and held posts list first
		}
	}
	if len(q.Statuses) == 0 {
		pl.want = [3]bool{true, true, true}
	} else {
		b, _ := json.Marshal(q.Statuses)
		pl.statuses = string(b)
	}
	if q.From != nil {
		pl.from = fmtTime(*q.From)
	}
	if q.To != nil {
		pl.to = fmtTime(*q.To)
	}
	pl.start = RankAttention
	if after != nil {
		pl.start = after.Rank
	}
	return pl
}

// args are the arguments of a page query of section rank (listPageAsc,
// listPageDesc and their kin) that reads up to limit rows. The scan starts
// after (cAt, cID) and stops at bound. An id of 0 sorts before every post
// of its time: (from, 0) starts at from inclusive, (to, 0) descending
// starts just before to.
func (pl pagePlan) args(rank, limit int) []any {
	cAt, cID, bound := pl.from, int64(0), pl.to
	if rank == RankOther {
		cAt, cID, bound = pl.to, 0, pl.from
	}
	if a := pl.after; a != nil && a.Rank == rank {
		if rank == RankOther && a.At < pl.to || rank != RankOther && a.At >= pl.from {
			cAt, cID = a.At, a.ID
		}
	}
	return []any{rank, pl.statuses, pl.statuses, pl.q.AccountID, pl.q.AccountID, cAt, cID, bound, limit}
}

// usernames maps account ids to usernames, for the posts of a page.
func (t *Tx) usernames() (map[string]string, error) {
	rows, err := t.query(listUsernames)
	if err != nil {
		return nil, fmt.Errorf("list posts: read accounts: %w", mapErr(err))
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("list posts: read accounts: %w", mapErr(err))
		}
		names[id] = name
	}
	return names, mapErr(rows.Err())
}

// scanRoots reads root rows (listRootColumns) and returns the posts with
// their list_at as stored; names gives each account's username (a post
// of an account not there gets "", as the LEFT JOIN of other queries).
func scanRoots(rows *sql.Rows, names map[string]string) ([]*post.Post, []string, error) {
	defer rows.Close()
	var r row
	dest := []any{&r.id, &r.accountID, &r.content, &r.status, &r.subStatus, &r.scheduled, &r.published,
		&r.failReason, &r.platformID, &r.runID, &r.attempts, &r.retries, &r.nextRetry, &r.created,
		&r.updated, &r.weightedLength}
	var posts []*post.Post
	var ats []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, mapErr(err)
		}
		r.username = names[r.accountID]
		p := &post.Post{}
		if err := addRow(p, &r); err != nil {
			return nil, nil, err
		}
		posts = append(posts, p)
		// list_at is COALESCE(published_at, scheduled_at, created_at).
		at := r.created
		if r.published.Valid {
			at = r.published.String
		} else if r.scheduled.Valid {
			at = r.scheduled.String
		}
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
	defer rows.Close()
	var r row
	dest := []any{&r.id, &r.parent, &r.position, &r.content, &r.status, &r.published, &r.platformID, &r.weightedLength}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("list posts: %w", mapErr(err))
		}
		if p := byID[r.parent.Int64]; p != nil {
			if err := addRow(p, &r); err != nil {
				return fmt.Errorf("list posts: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list posts: %w", mapErr(err))
	}
	return nil
}
