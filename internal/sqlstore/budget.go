package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// notHeld excludes posts held by the monthly budget (SPEC §9): they are
// not due until the budget or the month changes, which the scheduler
// learns of by itself (it never polls them).
const notHeld = `sub_status <> 'over_budget'`

// MonthlyBudget is the budget the user gave last: "" when never given,
// "none" when removed, else US dollars as text.
func (t *Tx) MonthlyBudget() (string, error) {
	var v sql.NullString
	if err := t.queryRow(`SELECT monthly_budget FROM settings WHERE id = 1`).Scan(&v); err != nil {
		return "", fmt.Errorf("read monthly budget: %w", mapErr(err))
	}
	return v.String, nil
}

// SetMonthlyBudget stores the budget the user gave ("none", or dollars).
func (t *Tx) SetMonthlyBudget(v string, now time.Time) error {
	if _, err := t.exec(`UPDATE settings SET monthly_budget = ?, updated_at = ? WHERE id = 1`, v, fmtTime(now)); err != nil {
		return fmt.Errorf("save monthly budget: %w", mapErr(err))
	}
	return nil
}

// MonthCounts sums every account's counts of the UTC month, by kind: what
// the monthly budget is measured against (X bills the app, not each
// account).
func (t *Tx) MonthCounts(month string) (map[string]int, error) {
	rows, err := t.query(`SELECT kind, SUM(n) FROM x_usage WHERE month = ? GROUP BY kind`, month)
	if err != nil {
		return nil, fmt.Errorf("read month's usage: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("read month's usage: %w", mapErr(err))
		}
		out[k] = n
	}
	return out, mapErr(rows.Err())
}

// Started reports whether a create of the post may already have reached
// X: a tweet has an X id (a thread part-way) or a send mark (an answer
// lost). Such a post is finished whatever the budget says.
func (t *Tx) Started(id int64) (bool, error) {
	var n int
	err := t.queryRow(`SELECT COUNT(*) FROM posts WHERE (id = ?1 OR parent_post_id = ?1)
		AND (platform_post_id IS NOT NULL OR send_started_at IS NOT NULL)`, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read post %d: %w", id, mapErr(err))
	}
	return n > 0, nil
}

// CreatesLeft is how many creates publishing the post still needs: its
// tweets without an X id; 1 once one may have reached X (the rest of a
// thread part-way is sent as X's limits allow). The rate gate asks a
// thread's worth of room of X's caps before starting it.
func (t *Tx) CreatesLeft(id int64) (int, error) {
	var left, started int
	err := t.queryRow(`SELECT COALESCE(SUM(platform_post_id IS NULL), 0),
			COALESCE(SUM(platform_post_id IS NOT NULL OR send_started_at IS NOT NULL), 0)
		FROM posts WHERE id = ?1 OR parent_post_id = ?1`, id).Scan(&left, &started)
	if err != nil {
		return 0, fmt.Errorf("read post %d: %w", id, mapErr(err))
	}
	if started > 0 {
		return min(left, 1), nil
	}
	return left, nil
}

// HoldOverBudget holds a due post that would take the month past the
// budget: it stays (or becomes again) scheduled with sub_status
// over_budget and reason in fail_reason, unclaimed and unsent, and is not
// due until ReleaseOverBudget. Its count of transient failures is kept.
// It fails with ErrStale if the post changed since ref was read or is not
// waiting to be sent.
func (t *Tx) HoldOverBudget(ref DueRef, reason string, now time.Time) error {
	ts := fmtTime(now)
	res, err := t.exec(`UPDATE posts SET status = 'scheduled', sub_status = 'over_budget', fail_reason = ?,
			scheduled_at = COALESCE(scheduled_at, ?), next_retry_at = NULL, updated_at = ?
		WHERE id = ? AND parent_post_id IS NULL AND run_id = ? AND status IN ('scheduled', 'retry')`,
		reason, ts, ts, ref.ID, ref.RunID)
	if err != nil {
		return fmt.Errorf("hold post %d for the budget: %w", ref.ID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("hold post %d for the budget: %w", ref.ID, ErrStale)
	}
	return t.setOpenRows(ref.ID, post.StatusScheduled, ts)
}

// HeldOverBudget lists the posts the budget holds, in the order they
// would have gone out.
func (t *Tx) HeldOverBudget() ([]DueRef, error) {
	// posts_over_budget holds only the held posts, in this order.
	rows, err := t.query(`SELECT id, run_id, scheduled_at, account_id, status FROM posts INDEXED BY posts_over_budget
		WHERE parent_post_id IS NULL AND sub_status = 'over_budget' AND status = 'scheduled'
		ORDER BY scheduled_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list posts held by the budget: %w", mapErr(err))
	}
	defer rows.Close()
	var out []DueRef
	for rows.Next() {
		r, err := scanDueRef(rows)
		if err != nil {
			return nil, fmt.Errorf("list posts held by the budget: %w", mapErr(err))
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// CountHeldOverBudget counts the posts the budget holds.
func (t *Tx) CountHeldOverBudget() (int, error) {
	var n int
	if err := t.queryRow(`SELECT COUNT(*) FROM posts INDEXED BY posts_over_budget
		WHERE parent_post_id IS NULL AND sub_status = 'over_budget' AND status = 'scheduled'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count posts held by the budget: %w", mapErr(err))
	}
	return n, nil
}

// ReleaseOverBudget makes a held post due again (at its scheduled time,
// now when that has passed). ErrStale if it is no longer held as ref read
// it.
func (t *Tx) ReleaseOverBudget(ref DueRef, now time.Time) error {
	res, err := t.exec(`UPDATE posts SET sub_status = '', fail_reason = '', updated_at = ?
		WHERE id = ? AND parent_post_id IS NULL AND run_id = ? AND status = 'scheduled' AND sub_status = 'over_budget'`,
		fmtTime(now), ref.ID, ref.RunID)
	if err != nil {
		return fmt.Errorf("release post %d held by the budget: %w", ref.ID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("release post %d held by the budget: %w", ref.ID, ErrStale)
	}
	return nil
}
