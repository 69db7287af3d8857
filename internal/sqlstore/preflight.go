package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// PreflightRef is a scheduled post pre-flight must check (SPEC §6).
type PreflightRef struct {
	ID          int64
	RunID       string
	AccountID   string
	ScheduledAt time.Time
	SubStatus   post.SubStatus
	FailReason  string
	// Checked: pre-flight already gave this version a verdict (the post
	// is listed again because it is at risk).
	Checked bool
}

// PreflightDue lists the scheduled posts due at or before by that
// pre-flight has not checked in their current version, soonest first, then
// those it found at risk (checked again until the problem is gone): posts at risk
// never keep an unchecked one out of a batch. Posts held by the monthly
// budget are left out: nothing is prepared for a post that may not go out.
func (t *Tx) PreflightDue(by time.Time, limit int) ([]PreflightRef, error) {
	out, err := t.scanPreflightRefs(nil, preflightUncheckedQuery, fmtTime(by), limit)
	if err != nil || limit >= 0 && len(out) >= limit {
		return out, err
	}
	rest := limit - len(out)
	if limit < 0 {
		rest = -1
	}
	return t.scanPreflightRefs(out, preflightAtRiskQuery, fmtTime(by), rest)
}

// The two halves of PreflightDue, each read in due order from an index
// holding only its posts (migration 00019) instead of from every
// scheduled post and a sort: the posts not checked in their current
// version, then those checked and found at risk. INDEXED BY keeps SQLite,
// which without statistics takes status = 'scheduled' for a few rows,
// from reading every scheduled post through posts_root_status and sorting
// them; the WHERE repeats each partial index's terms as written, which is
// what lets SQLite use it. preflightOrder is dueOrder for scheduled posts
// (their due_at is their scheduled_at) in the order of those indexes, on
// due_at alone: with dueOrder SQLite would sort.
const (
	preflightOrder          = `ORDER BY due_at, id`
	preflightColumns        = `SELECT id, run_id, account_id, scheduled_at, sub_status, fail_reason`
	preflightUncheckedWhere = `parent_post_id IS NULL AND due_at IS NOT NULL AND status = 'scheduled'
		  AND ` + notHeld + ` AND preflight_run_id IS NOT run_id`
	preflightUncheckedQuery = preflightColumns + `, 0 FROM posts INDEXED BY posts_preflight_due
		WHERE ` + preflightUncheckedWhere + ` AND due_at <= ?
		` + preflightOrder + ` LIMIT ?`
	preflightAtRiskQuery = preflightColumns + `, 1 FROM posts INDEXED BY posts_at_risk_due
		WHERE parent_post_id IS NULL AND due_at IS NOT NULL AND status = 'scheduled' AND sub_status = 'at_risk'
		  AND due_at <= ? AND preflight_run_id IS run_id
		` + preflightOrder + ` LIMIT ?`
	nextPreflightQuery = `SELECT due_at FROM posts INDEXED BY posts_preflight_due
		WHERE ` + preflightUncheckedWhere + `
		` + preflightOrder + ` LIMIT 1`
)

// scanPreflightRefs appends the rows of a PreflightDue query to out.
func (t *Tx) scanPreflightRefs(out []PreflightRef, query string, args ...any) ([]PreflightRef, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("list posts for pre-flight: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var r PreflightRef
		var at, sub string
		if err := rows.Scan(&r.ID, &r.RunID, &r.AccountID, &at, &sub, &r.FailReason, &r.Checked); err != nil {
			return nil, fmt.Errorf("list posts for pre-flight: %w", mapErr(err))
		}
		r.SubStatus = post.SubStatus(sub)
		if r.ScheduledAt, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("list posts for pre-flight: %w", err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// NextPreflight returns the due time of the soonest scheduled post that
// pre-flight has not checked in its current version.
func (t *Tx) NextPreflight() (time.Time, bool, error) {
	var at string
	err := t.queryRow(nextPreflightQuery).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find next pre-flight: %w", mapErr(err))
	}
	due, err := parseTime(at)
	return due, err == nil, err
}

// SetPreflight records pre-flight's verdict on the version runID of a
// scheduled post: at risk with reason, or (reason "") fine, which clears
// an earlier at_risk. It never changes the status, and fails with ErrStale
// if the post changed since (an edit, a cancel, a claim). changed reports
// whether the sub-status or reason changed. A post held by the budget
// (over_budget) keeps that hold: ErrStale.
func (t *Tx) SetPreflight(id int64, runID, reason string, now time.Time) (changed bool, err error) {
	var sub, old string
	err = t.queryRow(`SELECT sub_status, fail_reason FROM posts
		WHERE id = ? AND parent_post_id IS NULL AND run_id = ? AND status = 'scheduled'`, id, runID).Scan(&sub, &old)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("record pre-flight of post %d: %w", id, ErrStale)
	}
	if err != nil {
		return false, fmt.Errorf("record pre-flight of post %d: %w", id, mapErr(err))
	}
	if sub == string(post.SubOverBudget) {
		// Held by the budget since it was listed: that hold says why the
		// post waits, and pre-flight looks again once it is released.
		return false, fmt.Errorf("record pre-flight of post %d: held by the budget: %w", id, ErrStale)
	}
	newSub, newReason := sub, old
	switch {
	case reason != "":
		newSub, newReason = string(post.SubAtRisk), reason
	case sub == string(post.SubAtRisk):
		newSub, newReason = "", ""
	}
	changed = newSub != sub || newReason != old
	q := `UPDATE posts SET preflight_run_id = run_id WHERE id = ?`
	args := []any{id}
	if changed {
		q = `UPDATE posts SET preflight_run_id = run_id, sub_status = ?, fail_reason = ?, updated_at = ? WHERE id = ?`
		args = []any{newSub, newReason, fmtTime(now), id}
	}
	if _, err := t.exec(q, args...); err != nil {
		return false, fmt.Errorf("record pre-flight of post %d: %w", id, mapErr(err))
	}
	return changed, nil
}

// RecordPreflightMedia stores the X media id pre-flight uploaded for a
// file of the version runID of a scheduled post; ErrStale if the post
// changed since, or if the file's tweet is on X or its create may have
// reached X unanswered (a send mark): the ids that create sent are what
// the lookup recognises the tweet by, so they must stay.
func (t *Tx) RecordPreflightMedia(rootID int64, runID string, mediaID int64, xid string, expires *time.Time) error {
	res, err := t.exec(`UPDATE media SET x_media_id = ?, x_media_expires_at = ?
		WHERE id = ? AND EXISTS (SELECT 1 FROM posts
			WHERE id = ? AND parent_post_id IS NULL AND run_id = ? AND status = 'scheduled')
		  AND NOT EXISTS (SELECT 1 FROM posts tw WHERE tw.id = media.post_id
			AND (tw.send_started_at IS NOT NULL OR tw.platform_post_id IS NOT NULL))`,
		xid, fmtTimePtr(expires), mediaID, rootID, runID)
	if err != nil {
		return fmt.Errorf("record media id: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("record media id of post %d: %w", rootID, ErrStale)
	}
	return nil
}

// CountAtRisk counts scheduled posts pre-flight found at risk.
func (t *Tx) CountAtRisk() (int, error) {
	var n int
	// A scheduled root post always has a due_at (its scheduled_at), so
	// the term the partial index needs changes nothing.
	err := t.queryRow(`SELECT count(*) FROM posts INDEXED BY posts_at_risk_due
		WHERE parent_post_id IS NULL AND due_at IS NOT NULL AND status = 'scheduled' AND sub_status = 'at_risk'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count posts at risk: %w", mapErr(err))
	}
	return n, nil
}
