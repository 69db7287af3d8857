package sqlstore

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// NewRunID returns a fresh random fence value.
func NewRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewPost is what a caller supplies to create a post: the tweets' texts (one
// for a single post), media per tweet, status draft or scheduled, and the
// time. The store assigns ids, run_id and timestamps.
type NewPost struct {
	AccountID   string
	Status      post.Status // draft or scheduled
	ScheduledAt *time.Time
	Tweets      []NewTweet
}

// NewTweet is one tweet of a NewPost.
type NewTweet struct {
	Text  string
	Media []post.Media
}

// CreatePost inserts a post (root row plus one child row per further tweet)
// and its media, returning it as stored.
func (t *Tx) CreatePost(np NewPost, now time.Time) (*post.Post, error) {
	if len(np.Tweets) == 0 {
		return nil, errors.New("create post: no tweets")
	}
	if np.Status != post.StatusDraft && np.Status != post.StatusScheduled {
		return nil, fmt.Errorf("create post: initial status %q not allowed", np.Status)
	}
	if np.Status == post.StatusScheduled && np.ScheduledAt == nil {
		return nil, errors.New("create post: scheduled without a time")
	}
	ts := fmtTime(now)
	runID := NewRunID()
	var rootID int64
	for i, tw := range np.Tweets {
		var parent any
		if i > 0 {
			parent = rootID
		}
		res, err := t.exec(`INSERT INTO posts
			(account_id, parent_post_id, thread_position, content, status, scheduled_at, run_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			np.AccountID, parent, i, tw.Text, string(np.Status), fmtTimePtr(np.ScheduledAt), runID, ts, ts)
		if err != nil {
			return nil, fmt.Errorf("insert post: %w", mapErr(err))
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("insert post: %w", err)
		}
		if i == 0 {
			rootID = id
		}
		if err := t.insertMedia(id, tw.Media, ts); err != nil {
			return nil, err
		}
	}
	return t.GetPost(rootID)
}

func (t *Tx) insertMedia(rowID int64, media []post.Media, ts string) error {
	for i, m := range media {
		if _, err := t.exec(`INSERT INTO media
			(post_id, position, path, sha256, mime_type, size_bytes, alt_text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			rowID, i, m.Path, m.SHA256, m.MimeType, m.Size, m.AltText, ts); err != nil {
			return fmt.Errorf("insert media: %w", mapErr(err))
		}
	}
	return nil
}

// postColumns are the columns read for every row, in scanRow's order.
const postColumns = `p.id, p.account_id, COALESCE(a.username, ''), p.parent_post_id, p.thread_position,
	p.content, p.status, p.sub_status, p.scheduled_at, p.published_at, p.fail_reason,
	p.platform_post_id, p.run_id, p.attempts, p.next_retry_at, p.created_at, p.updated_at`

type row struct {
	id, parent           sql.NullInt64
	accountID, username  string
	position             int
	content              string
	status, subStatus    string
	scheduled, published sql.NullString
	failReason           string
	platformID           sql.NullString
	runID                string
	attempts             int
	nextRetry            sql.NullString
	created, updated     string
}

func scanRow(sc interface{ Scan(...any) error }) (row, error) {
	var r row
	err := sc.Scan(&r.id, &r.accountID, &r.username, &r.parent, &r.position,
		&r.content, &r.status, &r.subStatus, &r.scheduled, &r.published, &r.failReason,
		&r.platformID, &r.runID, &r.attempts, &r.nextRetry, &r.created, &r.updated)
	return r, err
}

// addRow folds one row into the post it belongs to: a root row starts a new
// post, a child row appends a tweet.
func addRow(p *post.Post, r row) error {
	published, err := parseTimePtr(r.published)
	if err != nil {
		return err
	}
	tw := post.Tweet{
		RowID:          r.id.Int64,
		Position:       r.position,
		Text:           r.content,
		Status:         post.Status(r.status),
		PlatformPostID: r.platformID.String,
		PublishedAt:    published,
	}
	if !r.parent.Valid && tw.PlatformPostID != "" {
		// The root row's status is the post's; its tweet is published
		// once it has an id.
		tw.Status = post.StatusPublished
	}
	if !r.parent.Valid {
		sched, err := parseTimePtr(r.scheduled)
		if err != nil {
			return err
		}
		next, err := parseTimePtr(r.nextRetry)
		if err != nil {
			return err
		}
		created, err := parseTime(r.created)
		if err != nil {
			return err
		}
		updated, err := parseTime(r.updated)
		if err != nil {
			return err
		}
		*p = post.Post{
			ID:          r.id.Int64,
			AccountID:   r.accountID,
			Account:     r.username,
			Status:      post.Status(r.status),
			SubStatus:   post.SubStatus(r.subStatus),
			ScheduledAt: sched,
			PublishedAt: published,
			FailReason:  r.failReason,
			RunID:       r.runID,
			Attempts:    r.attempts,
			NextRetryAt: next,
			CreatedAt:   created,
			UpdatedAt:   updated,
		}
	}
	p.Tweets = append(p.Tweets, tw)
	return nil
}

// GetPost returns the post whose root row is id, with all its tweets and
// media. A child row's id is not a post id: ErrNotFound.
func (t *Tx) GetPost(id int64) (*post.Post, error) {
	rows, err := t.query(`SELECT `+postColumns+` FROM posts p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.id = ? AND p.parent_post_id IS NULL
		   OR p.parent_post_id = ?
		ORDER BY p.thread_position`, id, id)
	if err != nil {
		return nil, fmt.Errorf("get post %d: %w", id, mapErr(err))
	}
	posts, err := collectPosts(rows)
	if err != nil {
		return nil, fmt.Errorf("get post %d: %w", id, err)
	}
	if len(posts) == 0 {
		return nil, fmt.Errorf("post %d: %w", id, ErrNotFound)
	}
	if err := t.attachMedia(posts); err != nil {
		return nil, err
	}
	return posts[0], nil
}

// collectPosts groups rows (ordered by root, then position) into posts.
func collectPosts(rows *sql.Rows) ([]*post.Post, error) {
	defer rows.Close()
	var out []*post.Post
	byID := map[int64]*post.Post{}
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		rootID := r.id.Int64
		if r.parent.Valid {
			rootID = r.parent.Int64
		}
		p := byID[rootID]
		if p == nil {
			if r.parent.Valid {
				// A child whose root was filtered out cannot happen with the
				// queries here; ignore it rather than invent a post.
				continue
			}
			p = &post.Post{}
			byID[rootID] = p
			out = append(out, p)
		}
		if err := addRow(p, r); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

func (t *Tx) attachMedia(posts []*post.Post) error {
	idx := map[int64]*post.Tweet{}
	var ids []any
	for _, p := range posts {
		for i := range p.Tweets {
			idx[p.Tweets[i].RowID] = &p.Tweets[i]
			ids = append(ids, p.Tweets[i].RowID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// Media are rare; one query for the whole page keeps list fast. Large
	// pages go through json_each so the statement stays small.
	idsJSON, _ := json.Marshal(ids)
	rows, err := t.query(`SELECT id, post_id, path, sha256, mime_type, size_bytes, alt_text,
			x_media_id, x_media_expires_at
		FROM media WHERE post_id IN (SELECT value FROM json_each(?)) ORDER BY post_id, position`, string(idsJSON))
	if err != nil {
		return fmt.Errorf("read media: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var m post.Media
		var rowID int64
		var xid, xexp sql.NullString
		if err := rows.Scan(&m.ID, &rowID, &m.Path, &m.SHA256, &m.MimeType, &m.Size, &m.AltText, &xid, &xexp); err != nil {
			return fmt.Errorf("read media: %w", mapErr(err))
		}
		m.XMediaID = xid.String
		exp, err := parseTimePtr(xexp)
		if err != nil {
			return err
		}
		m.MediaExpiresAt = exp
		if tw := idx[rowID]; tw != nil {
			tw.Media = append(tw.Media, m)
		}
	}
	return mapErr(rows.Err())
}

// ListFilter selects posts for ListPosts.
type ListFilter struct {
	Status post.Status // "" = all
	Limit  int         // 0 = no limit
}

// ListPosts returns posts needing attention first (failed, retry), then in
// flight, scheduled by time, drafts, and published ones newest first.
func (t *Tx) ListPosts(f ListFilter) ([]*post.Post, error) {
	var where []string
	var args []any
	where = append(where, "r.parent_post_id IS NULL")
	if f.Status != "" {
		where = append(where, "r.status = ?")
		args = append(args, string(f.Status))
	}
	limit := ""
	if f.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	q := `WITH roots AS (
			SELECT r.id,
				CASE r.status WHEN 'failed' THEN 0 WHEN 'retry' THEN 1 WHEN 'publishing' THEN 2
					WHEN 'scheduled' THEN 3 WHEN 'draft' THEN 4 ELSE 5 END AS rank,
				CASE WHEN r.status = 'published' THEN NULL ELSE r.scheduled_at END AS sched,
				r.published_at AS pub
			FROM posts r WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY rank, sched IS NULL, sched, pub DESC, r.id` + limit + `)
		SELECT ` + postColumns + `
		FROM roots
		JOIN posts p ON p.id = roots.id OR p.parent_post_id = roots.id
		LEFT JOIN accounts a ON a.id = p.account_id
		ORDER BY roots.rank, roots.sched IS NULL, roots.sched, roots.pub DESC, roots.id, p.thread_position`
	// Not prepared: the text varies with the filter.
	rows, err := t.tx.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", mapErr(err))
	}
	posts, err := collectPosts(rows)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	if err := t.attachMedia(posts); err != nil {
		return nil, err
	}
	return posts, nil
}

// CountFailedSince counts posts that failed at or after since.
func (t *Tx) CountFailedSince(since time.Time) (int, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM posts WHERE parent_post_id IS NULL AND status = 'failed' AND updated_at >= ?`,
		fmtTime(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failed posts: %w", mapErr(err))
	}
	return n, nil
}

// RecentTexts returns the texts of the account's tweets created since, newest
// first, for the near-duplicate warning.
func (t *Tx) RecentTexts(accountID string, since time.Time, limit int) ([]string, error) {
	rows, err := t.query(`SELECT content FROM posts WHERE account_id = ? AND created_at >= ?
		ORDER BY created_at DESC LIMIT ?`, accountID, fmtTime(since), limit)
	if err != nil {
		return nil, fmt.Errorf("read recent posts: %w", mapErr(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}
