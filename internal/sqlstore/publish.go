package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// DueRef identifies a post the scheduler may claim, with the run_id it was
// read with: the claim succeeds only if nobody changed the post since.
type DueRef struct {
	ID        int64
	RunID     string
	DueAt     time.Time
	AccountID string
	Status    post.Status
}

// notBusy excludes the posts a live publish in this process is working on
// (a JSON array of ids): their due_at is the lease expiry, which that publish
// keeps pushing forward. A post whose lease lapsed with no live publish
// behind it — whoever held it — is due again.
const notBusy = `id NOT IN (SELECT value FROM json_each(?))`

// notWaiting excludes the posts of accounts the scheduler holds back for
// now (a JSON array of account ids: X's rate limit is awaited).
const notWaiting = `account_id NOT IN (SELECT value FROM json_each(?))`

// dueOrder is the order posts are acted on: due time, then — among posts
// due at the same instant, such as posts held back together until a rate
// limit's reset — the time the user chose, then creation.
const dueOrder = `ORDER BY due_at, scheduled_at, id`

func busyJSON(busy []int64) string {
	if len(busy) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(busy)
	return string(b)
}

func accountsJSON(accts []string) string {
	if len(accts) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(accts)
	return string(b)
}

func scanDueRef(sc interface{ Scan(...any) error }) (DueRef, error) {
	var r DueRef
	var due, st string
	if err := sc.Scan(&r.ID, &r.RunID, &due, &r.AccountID, &st); err != nil {
		return DueRef{}, err
	}
	r.Status = post.Status(st)
	var err error
	r.DueAt, err = parseTime(due)
	return r, err
}

// NextDue returns the post the scheduler must act on first, if any.
func (t *Tx) NextDue(busy []int64) (DueRef, bool, error) {
	return t.NextDueExcept(busy, nil)
}

// NextDueExcept is NextDue ignoring the posts of the accounts in skip.
func (t *Tx) NextDueExcept(busy []int64, skip []string) (DueRef, bool, error) {
	r, err := scanDueRef(t.queryRow(`SELECT id, run_id, due_at, account_id, status FROM posts
		WHERE parent_post_id IS NULL AND due_at IS NOT NULL AND `+notBusy+` AND `+notWaiting+` AND `+notHeld+`
		`+dueOrder+` LIMIT 1`, busyJSON(busy), accountsJSON(skip)))
	if errors.Is(err, sql.ErrNoRows) {
		return DueRef{}, false, nil
	}
	if err != nil {
		return DueRef{}, false, fmt.Errorf("find next due post: %w", mapErr(err))
	}
	return r, true, nil
}

// DueAt lists posts due at or before now, earliest first.
func (t *Tx) DueAt(busy []int64, now time.Time, limit int) ([]DueRef, error) {
	return t.DueAtExcept(busy, nil, now, limit)
}

// DueAtExcept is DueAt ignoring the posts of the accounts in skip.
func (t *Tx) DueAtExcept(busy []int64, skip []string, now time.Time, limit int) ([]DueRef, error) {
	rows, err := t.query(`SELECT id, run_id, due_at, account_id, status FROM posts
		WHERE parent_post_id IS NULL AND due_at IS NOT NULL AND due_at <= ? AND `+notBusy+` AND `+notWaiting+` AND `+notHeld+`
		`+dueOrder+` LIMIT ?`, fmtTime(now), busyJSON(busy), accountsJSON(skip), limit)
	if err != nil {
		return nil, fmt.Errorf("list due posts: %w", mapErr(err))
	}
	defer rows.Close()
	var out []DueRef
	for rows.Next() {
		r, err := scanDueRef(rows)
		if err != nil {
			return nil, fmt.Errorf("list due posts: %w", mapErr(err))
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// DeferRateLimited holds a due post back, unclaimed and unsent, until
// next: X's rate limit for its account has no request left before its
// reset. The post shows as retry/rate_limited with the reset in its reason;
// its count of transient failures is kept. It fails with ErrStale if the
// post changed since ref was read or is not waiting to be sent (scheduled
// or retry).
func (t *Tx) DeferRateLimited(ref DueRef, next time.Time, reason string, now time.Time) error {
	ts := fmtTime(now)
	res, err := t.exec(`UPDATE posts SET status = 'retry', sub_status = 'rate_limited', next_retry_at = ?,
			fail_reason = ?, updated_at = ?
		WHERE id = ? AND parent_post_id IS NULL AND run_id = ? AND status IN ('scheduled', 'retry')`,
		fmtTime(next), reason, ts, ref.ID, ref.RunID)
	if err != nil {
		return fmt.Errorf("hold post %d for the rate limit: %w", ref.ID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("hold post %d for the rate limit: %w", ref.ID, ErrStale)
	}
	return t.setOpenRows(ref.ID, post.StatusRetry, ts)
}

// Claim moves a due post to publishing under a lease held by owner. It
// fails with ErrStale if the post changed since ref was read (the run_id
// fence) or is no longer due. The caller must not pass a post a live
// publish holds (see DueAt's busy list).
func (t *Tx) Claim(ref DueRef, owner string, now, leaseUntil time.Time) (*post.Post, error) {
	return t.ClaimDueBy(ref, owner, now, now, leaseUntil)
}

// ClaimDueBy is Claim for a post due at or before dueBy, which may lie a
// little after now: the scheduler claims a post just before it is due, so
// that the claim's commit is done when the due instant comes (the publisher
// then waits for that instant).
func (t *Tx) ClaimDueBy(ref DueRef, owner string, now, dueBy, leaseUntil time.Time) (*post.Post, error) {
	ts := fmtTime(now)
	res, err := t.exec(`UPDATE posts SET status = 'publishing', lease_owner = ?, lease_expires_at = ?,
			attempts = attempts + 1, updated_at = ?
		WHERE id = ? AND parent_post_id IS NULL AND run_id = ? AND due_at IS NOT NULL AND due_at <= ?`,
		owner, fmtTime(leaseUntil), ts, ref.ID, ref.RunID, fmtTime(dueBy))
	if err != nil {
		return nil, fmt.Errorf("claim post %d: %w", ref.ID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, fmt.Errorf("claim post %d: %w", ref.ID, ErrStale)
	}
	if err := t.setOpenRows(ref.ID, post.StatusPublishing, ts); err != nil {
		return nil, err
	}
	return t.GetPost(ref.ID)
}

// setOpenRows gives every tweet of the thread that has no X id yet the
// status st (the root's row included).
func (t *Tx) setOpenRows(rootID int64, st post.Status, ts string) error {
	if _, err := t.exec(`UPDATE posts SET status = ?, updated_at = ?
		WHERE parent_post_id = ? AND platform_post_id IS NULL`, string(st), ts, rootID); err != nil {
		return fmt.Errorf("update thread rows: %w", mapErr(err))
	}
	return nil
}

// checkLease confirms owner still holds the post's publishing lease.
func (t *Tx) checkLease(rootID int64, owner string) error {
	var st string
	var lo sql.NullString
	err := t.queryRow(`SELECT status, lease_owner FROM posts WHERE id = ? AND parent_post_id IS NULL`, rootID).Scan(&st, &lo)
	if err != nil {
		return fmt.Errorf("post %d: %w", rootID, mapErr(err))
	}
	if st != string(post.StatusPublishing) || lo.String != owner {
		return fmt.Errorf("post %d is no longer being published by this daemon: %w", rootID, ErrStale)
	}
	return nil
}

// ExtendLease pushes the lease forward while a long publish (media
// processing, a long thread) is under way.
func (t *Tx) ExtendLease(rootID int64, owner string, until time.Time) error {
	if err := t.checkLease(rootID, owner); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE posts SET lease_expires_at = ? WHERE id = ?`, fmtTime(until), rootID)
	return mapErr(err)
}

// ResetForeignLeases makes posts left in publishing by an earlier daemon
// (one that died; the data-dir lock guarantees it is not running) due now.
func (t *Tx) ResetForeignLeases(owner string, now time.Time) (int64, error) {
	res, err := t.exec(`UPDATE posts SET lease_expires_at = ?
		WHERE parent_post_id IS NULL AND status = 'publishing' AND lease_owner IS NOT ?`, fmtTime(now), owner)
	if err != nil {
		return 0, fmt.Errorf("reset stale leases: %w", mapErr(err))
	}
	return res.RowsAffected()
}

// MarkSending records, before the request, that the tweet's create may
// reach X. It is cleared when the id is recorded.
func (t *Tx) MarkSending(rootID, rowID int64, owner string, now time.Time) error {
	if err := t.checkLease(rootID, owner); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE posts SET send_started_at = COALESCE(send_started_at, ?) WHERE id = ?`, fmtTime(now), rowID)
	return mapErr(err)
}

// SendStartedAt returns when a create for the tweet row was first attempted,
// or nil if never.
func (t *Tx) SendStartedAt(rowID int64) (*time.Time, error) {
	var s sql.NullString
	if err := t.queryRow(`SELECT send_started_at FROM posts WHERE id = ?`, rowID).Scan(&s); err != nil {
		return nil, fmt.Errorf("read send mark: %w", mapErr(err))
	}
	return parseTimePtr(s)
}

// RecordTweetID stores the X id of one tweet and touches the post's root
// row (its updated_at says the post changed). It deliberately ignores the lease: once X has the tweet, its id must be
// kept whatever else happened.
func (t *Tx) RecordTweetID(rootID, rowID int64, xid string, now time.Time) error {
	ts := fmtTime(now)
	// The root row's status is the whole post's: only FinishPublished
	// changes it. A child row is published once it has its id.
	res, err := t.exec(`UPDATE posts SET platform_post_id = ?,
			status = CASE WHEN parent_post_id IS NULL THEN status ELSE 'published' END,
			published_at = ?, send_started_at = NULL, updated_at = ?
		WHERE id = ? AND (id = ? OR parent_post_id = ?) AND (platform_post_id IS NULL OR platform_post_id = ?)`,
		xid, ts, ts, rowID, rootID, rootID, xid)
	if err != nil {
		return fmt.Errorf("record tweet id %s: %w", xid, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("record tweet id %s for row %d: %w", xid, rowID, ErrNotFound)
	}
	if rowID == rootID {
		return nil
	}
	if _, err := t.exec(`UPDATE posts SET updated_at = ? WHERE id = ?`, ts, rootID); err != nil {
		return fmt.Errorf("record tweet id %s: touch post %d: %w", xid, rootID, mapErr(err))
	}
	return nil
}

// SetSubStatus changes the sub-status of a post being published.
func (t *Tx) SetSubStatus(rootID int64, owner string, sub post.SubStatus, now time.Time) error {
	if err := t.checkLease(rootID, owner); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE posts SET sub_status = ?, updated_at = ? WHERE id = ?`, string(sub), fmtTime(now), rootID)
	return mapErr(err)
}

// FinishPublished marks the post published once every tweet has an id.
func (t *Tx) FinishPublished(rootID int64, owner string, now time.Time) error {
	if err := t.checkLease(rootID, owner); err != nil {
		return err
	}
	var open int
	if err := t.queryRow(`SELECT count(*) FROM posts WHERE (id = ?1 OR parent_post_id = ?1) AND platform_post_id IS NULL`,
		rootID).Scan(&open); err != nil {
		return mapErr(err)
	}
	if open != 0 {
		return fmt.Errorf("finish post %d: %d tweets have no X id", rootID, open)
	}
	ts := fmtTime(now)
	_, err := t.exec(`UPDATE posts SET status = 'published', sub_status = '', fail_reason = '',
			published_at = ?, next_retry_at = NULL, retries = 0, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
		WHERE id = ?`, ts, ts, rootID)
	return mapErr(err)
}

// ScheduleRetry puts the post back in the queue for an automatic retry at
// next (a transient error, or a rate limit until its reset).
// retries is the post's new count of consecutive transient failures.
func (t *Tx) ScheduleRetry(rootID int64, owner string, sub post.SubStatus, next time.Time, reason string, retries int, now time.Time) error {
	if err := t.checkLease(rootID, owner); err != nil {
		return err
	}
	ts := fmtTime(now)
	if _, err := t.exec(`UPDATE posts SET status = 'retry', sub_status = ?, next_retry_at = ?, fail_reason = ?,
			retries = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
		WHERE id = ?`, string(sub), fmtTime(next), reason, retries, ts, rootID); err != nil {
		return fmt.Errorf("schedule retry: %w", mapErr(err))
	}
	return t.setOpenRows(rootID, post.StatusRetry, ts)
}

// FailPost records a failure that needs the user. A thread with some
// tweets already on X gets sub-status thread_partial; retry resumes it.
func (t *Tx) FailPost(rootID int64, owner string, reason string, now time.Time) error {
	if err := t.checkLease(rootID, owner); err != nil {
		return err
	}
	ts := fmtTime(now)
	if _, err := t.exec(`UPDATE posts SET status = 'failed',
			sub_status = CASE WHEN EXISTS (SELECT 1 FROM posts c WHERE (c.id = ?1 OR c.parent_post_id = ?1)
				AND c.platform_post_id IS NOT NULL) THEN 'thread_partial' ELSE '' END,
			fail_reason = ?2, next_retry_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3
		WHERE id = ?1`, rootID, reason, ts); err != nil {
		return fmt.Errorf("record failure: %w", mapErr(err))
	}
	return t.setOpenRows(rootID, post.StatusFailed, ts)
}

// RecordMediaUpload stores the X media id of an attached file.
func (t *Tx) RecordMediaUpload(mediaID int64, xid string, expires *time.Time) error {
	_, err := t.exec(`UPDATE media SET x_media_id = ?, x_media_expires_at = ? WHERE id = ?`, xid, fmtTimePtr(expires), mediaID)
	if err != nil {
		return fmt.Errorf("record media id: %w", mapErr(err))
	}
	return nil
}
