package sqlstore

import (
	"cmp"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/tweettext"
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
	p := &post.Post{
		AccountID:   np.AccountID,
		Status:      np.Status,
		ScheduledAt: np.ScheduledAt,
		RunID:       NewRunID(),
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	for i, tw := range np.Tweets {
		p.Tweets = append(p.Tweets, post.Tweet{Position: i, Text: tw.Text, Status: np.Status, Media: tw.Media})
	}
	id, err := t.InsertPost(p)
	if err != nil {
		return nil, err
	}
	return t.GetPost(id)
}

// InsertPost writes p as given, every stored field of the post, its tweets
// and their media, and returns the new post's id. The store assigns the ids
// (p.ID, Tweet.RowID, Media.ID are ignored) and takes the account's
// username from the accounts table; a tweet's position is its index. It
// checks nothing beyond the schema's constraints: CreatePost is the way
// for new posts; this is for seeding and for tests that fill every field.
func (t *Tx) InsertPost(p *post.Post) (int64, error) {
	if len(p.Tweets) == 0 {
		return 0, errors.New("insert post: no tweets")
	}
	var rootID int64
	for i := range p.Tweets {
		id, err := t.insertTweetRow(p, rootID, i)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			rootID = id
		}
	}
	return rootID, nil
}

// insertTweetRow writes p.Tweets[i] as a row of the thread whose root row
// is rootID (i > 0), or as the root row (i == 0, which also carries the
// post-level fields), with its media. Every row of a post shares its
// schedule, run_id and timestamps, as UpdatePost and the publisher expect.
func (t *Tx) insertTweetRow(p *post.Post, rootID int64, i int) (int64, error) {
	tw := &p.Tweets[i]
	var parent any
	status, sub, reason := p.Status, p.SubStatus, p.FailReason
	attempts, retries, next := p.Attempts, p.Retries, p.NextRetryAt
	if i > 0 {
		parent = rootID
		status, sub, reason = tw.Status, post.SubNone, ""
		attempts, retries, next = 0, 0, nil
	}
	var xid any
	if tw.PlatformPostID != "" {
		xid = tw.PlatformPostID
	}
	res, err := t.exec(`INSERT INTO posts
		(account_id, parent_post_id, thread_position, content, status, sub_status, scheduled_at, published_at,
		 fail_reason, platform_post_id, run_id, attempts, retries, next_retry_at, created_at, updated_at, weighted_length)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AccountID, parent, i, tw.Text, string(status), string(sub), fmtTimePtr(p.ScheduledAt), fmtTimePtr(tw.PublishedAt),
		reason, xid, p.RunID, attempts, retries, fmtTimePtr(next), fmtTime(p.CreatedAt), fmtTime(p.UpdatedAt),
		tweettext.WeightedLength(tw.Text))
	if err != nil {
		return 0, fmt.Errorf("insert post: %w", mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert post: %w", err)
	}
	if err := t.insertMedia(id, tw.Media, fmtTime(p.CreatedAt)); err != nil {
		return 0, err
	}
	return id, nil
}

func (t *Tx) insertMedia(rowID int64, media []post.Media, ts string) error {
	for i, m := range media {
		if _, err := t.exec(`INSERT INTO media
			(post_id, position, path, sha256, mime_type, size_bytes, alt_text, x_media_id, x_media_expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rowID, i, m.Path, m.SHA256, m.MimeType, m.Size, m.AltText, nullString(m.XMediaID), fmtTimePtr(m.MediaExpiresAt), ts); err != nil {
			return fmt.Errorf("insert media: %w", mapErr(err))
		}
	}
	return nil
}

// nullString stores "" as NULL, for columns where NULL means "none yet".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// postFields are the columns read for every post row, each with where it
// is scanned to: the one list both the SELECT (postColumns) and the scan
// (rowScanner) are built from, so they cannot drift apart.
var postFields = []struct {
	expr string
	dest func(*row) any
}{
	{"p.id", func(r *row) any { return &r.id }},
	{"p.account_id", func(r *row) any { return &r.accountID }},
	{"COALESCE(a.username, '')", func(r *row) any { return &r.username }},
	{"p.parent_post_id", func(r *row) any { return &r.parent }},
	{"p.thread_position", func(r *row) any { return &r.position }},
	{"p.content", func(r *row) any { return &r.content }},
	{"p.status", func(r *row) any { return &r.status }},
	{"p.sub_status", func(r *row) any { return &r.subStatus }},
	{"p.scheduled_at", func(r *row) any { return &r.scheduled }},
	{"p.published_at", func(r *row) any { return &r.published }},
	{"p.fail_reason", func(r *row) any { return &r.failReason }},
	{"p.platform_post_id", func(r *row) any { return &r.platformID }},
	{"p.run_id", func(r *row) any { return &r.runID }},
	{"p.attempts", func(r *row) any { return &r.attempts }},
	{"p.retries", func(r *row) any { return &r.retries }},
	{"p.next_retry_at", func(r *row) any { return &r.nextRetry }},
	{"p.created_at", func(r *row) any { return &r.created }},
	{"p.updated_at", func(r *row) any { return &r.updated }},
	{"p.weighted_length", func(r *row) any { return &r.weightedLength }},
}

// postColumns is the SELECT list of postFields; queries over posts alias
// the table p and left-join accounts as a.
var postColumns = func() string {
	exprs := make([]string, len(postFields))
	for i, f := range postFields {
		exprs[i] = f.expr
	}
	return strings.Join(exprs, ", ")
}()

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
	attempts, retries    int
	nextRetry            sql.NullString
	created, updated     string
	weightedLength       sql.NullInt64
}

// rowScanner scans post rows into one reused row and one reused argument
// list: a row scanned into a fresh struct escapes to the heap, a few hundred
// bytes per row that listing 100,000 posts paid for nothing.
type rowScanner struct {
	r    row
	dest []any
}

func newRowScanner() *rowScanner {
	s := &rowScanner{dest: make([]any, len(postFields))}
	for i, f := range postFields {
		s.dest[i] = f.dest(&s.r)
	}
	return s
}

// scan reads the next row; the result is valid until the next call.
func (s *rowScanner) scan(rows *sql.Rows) (*row, error) {
	err := rows.Scan(s.dest...)
	return &s.r, err
}

// addRow folds one row into the post it belongs to: a root row starts a new
// post, a child row appends a tweet.
func addRow(p *post.Post, r *row) error {
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
		WeightedLength: int(r.weightedLength.Int64),
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
			Retries:     r.retries,
			NextRetryAt: next,
			CreatedAt:   created,
			UpdatedAt:   updated,
		}
	}
	p.Tweets = append(p.Tweets, tw)
	return nil
}

// getPostQuery reads the rows of the post whose root row is ?1, in thread
// order: the root row (position 0), then its tweets in the order of
// posts_thread. As two parts merged, not one query with OR, which SQLite
// read in two index searches and then sorted in a temporary B-tree.
var getPostQuery = `SELECT ` + postColumns + ` FROM posts p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.id = ?1 AND p.parent_post_id IS NULL
	UNION ALL
	SELECT ` + postColumns + ` FROM posts p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.parent_post_id = ?1
	ORDER BY thread_position`

// GetPost returns the post whose root row is id, with all its tweets and
// media. A child row's id is not a post id: ErrNotFound.
func (t *Tx) GetPost(id int64) (*post.Post, error) {
	rows, err := t.query(getPostQuery, id)
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
	sc := newRowScanner()
	for rows.Next() {
		r, err := sc.scan(rows)
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
	// Media are rare: one query for all the tweets, their ids passed as one
	// JSON array so the statement text stays fixed.
	idsJSON, _ := json.Marshal(ids)
	rows, err := t.query(`SELECT `+mediaColumns+`
		FROM media m WHERE m.post_id IN (SELECT value FROM json_each(?)) ORDER BY m.post_id, m.position`, string(idsJSON))
	if err != nil {
		return fmt.Errorf("read media: %w", mapErr(err))
	}
	return scanMedia(rows, idx)
}

// mediaColumns are the media columns scanMedia reads, in its order; queries
// alias the table m.
const mediaColumns = `m.id, m.post_id, m.path, m.sha256, m.mime_type, m.size_bytes, m.alt_text,
	m.x_media_id, m.x_media_expires_at`

// scanMedia attaches media rows (mediaColumns, ordered by tweet and
// position) to the tweets in idx; rows of other tweets are skipped.
func scanMedia(rows *sql.Rows, idx map[int64]*post.Tweet) error {
	defer rows.Close()
	for rows.Next() {
		var m post.Media
		var rowID int64
		var xid, xexp sql.NullString
		if err := rows.Scan(&m.ID, &rowID, &m.Path, &m.SHA256, &m.MimeType, &m.Size, &m.AltText, &xid, &xexp); err != nil {
			return fmt.Errorf("read media: %w", mapErr(err))
		}
		tw := idx[rowID]
		if tw == nil {
			continue
		}
		m.XMediaID = xid.String
		exp, err := parseTimePtr(xexp)
		if err != nil {
			return err
		}
		m.MediaExpiresAt = exp
		tw.Media = append(tw.Media, m)
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
//
// It reads root rows and thread rows with two plain scans and orders the
// posts in Go. Ordering in SQL made SQLite sort every joined row, text
// included, through temporary files: most of the time of a list over
// 100,000 posts.
func (t *Tx) ListPosts(f ListFilter) ([]*post.Post, error) {
	rootsQ := `SELECT ` + postColumns + ` FROM posts p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.parent_post_id IS NULL`
	childrenQ := `SELECT ` + postColumns + ` FROM posts p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.parent_post_id IS NOT NULL`
	mediaQ := `SELECT ` + mediaColumns + `
		FROM media m JOIN posts t ON t.id = m.post_id JOIN posts r ON r.id = COALESCE(t.parent_post_id, t.id)
		WHERE r.parent_post_id IS NULL`
	var args []any
	if f.Status != "" {
		rootsQ += ` AND p.status = ?`
		childrenQ += ` AND p.parent_post_id IN (SELECT id FROM posts WHERE parent_post_id IS NULL AND status = ?)`
		mediaQ += ` AND r.status = ?`
		args = append(args, string(f.Status))
	}
	childrenQ += ` ORDER BY p.parent_post_id, p.thread_position`
	mediaQ += ` ORDER BY m.post_id, m.position`

	rows, err := t.query(rootsQ, args...)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", mapErr(err))
	}
	posts, err := collectPosts(rows)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	byID := make(map[int64]*post.Post, len(posts))
	for _, p := range posts {
		byID[p.ID] = p
	}
	rows, err = t.query(childrenQ, args...)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", mapErr(err))
	}
	if err := addChildren(rows, byID); err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	sortPosts(posts)
	if f.Limit > 0 && len(posts) > f.Limit {
		posts = posts[:f.Limit]
	}
	idx := map[int64]*post.Tweet{}
	for _, p := range posts {
		for i := range p.Tweets {
			idx[p.Tweets[i].RowID] = &p.Tweets[i]
		}
	}
	rows, err = t.query(mediaQ, args...)
	if err != nil {
		return nil, fmt.Errorf("read media: %w", mapErr(err))
	}
	if err := scanMedia(rows, idx); err != nil {
		return nil, err
	}
	return posts, nil
}

// addChildren appends thread rows (ordered by root, then position) to
// their posts; rows of posts not listed are skipped.
func addChildren(rows *sql.Rows, byID map[int64]*post.Post) error {
	defer rows.Close()
	sc := newRowScanner()
	for rows.Next() {
		r, err := sc.scan(rows)
		if err != nil {
			return mapErr(err)
		}
		if p := byID[r.parent.Int64]; p != nil {
			if err := addRow(p, r); err != nil {
				return err
			}
		}
	}
	return mapErr(rows.Err())
}

// postRank is listRank, with a scheduled post at risk among those being
// published: it needs attention.
func postRank(p *post.Post) int {
	if p.Status == post.StatusScheduled && p.SubStatus == post.SubAtRisk {
		return listRank(post.StatusPublishing)
	}
	return listRank(p.Status)
}

// listRank orders statuses for ListPosts: what needs attention first.
func listRank(s post.Status) int {
	switch s {
	case post.StatusFailed:
		return 0
	case post.StatusRetry:
		return 1
	case post.StatusPublishing:
		return 2
	case post.StatusScheduled:
		return 3
	case post.StatusDraft:
		return 4
	}
	return 5
}

// sortPosts puts posts in list order: by rank; then by scheduled time,
// earliest first, posts without one (and published posts) after those with
// one; then by publish time, newest first, posts without one last; then by
// id.
func sortPosts(ps []*post.Post) {
	sched := func(p *post.Post) *time.Time {
		if p.Status == post.StatusPublished {
			return nil
		}
		return p.ScheduledAt
	}
	slices.SortFunc(ps, func(a, b *post.Post) int {
		if c := cmp.Compare(postRank(a), postRank(b)); c != 0 {
			return c
		}
		sa, sb := sched(a), sched(b)
		switch {
		case sa == nil && sb != nil:
			return 1
		case sa != nil && sb == nil:
			return -1
		case sa != nil && sb != nil:
			if c := sa.Compare(*sb); c != 0 {
				return c
			}
		}
		pa, pb := a.PublishedAt, b.PublishedAt
		switch {
		case pa == nil && pb != nil:
			return 1
		case pa != nil && pb == nil:
			return -1
		case pa != nil && pb != nil:
			if c := pb.Compare(*pa); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// CountFailedSince counts posts that failed at or after since.
func (t *Tx) CountFailedSince(since time.Time) (int, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM posts INDEXED BY posts_failed_updated
		WHERE parent_post_id IS NULL AND status = 'failed' AND updated_at >= ?`,
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
