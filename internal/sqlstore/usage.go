package sqlstore

import (
	"database/sql"
	"fmt"
	"time"
)

// Usage kinds: what one counted unit of X traffic is (SPEC §9). A read is
// one post returned by GET /2/users/{id}/tweets (X bills owned reads per
// post returned); a read_request is one such request, answered or not.
const (
	UsagePost        = "post"
	UsagePostURL     = "post_url"
	UsageMediaUpload = "media_upload"
	UsageRead        = "read"
	UsageReadRequest = "read_request"
	UsageOther       = "other" // alt texts, deletes, GET /2/users/me: sent, not priced
)

// UsageMonth is the UTC month a request at t counts in, "YYYY-MM".
func UsageMonth(t time.Time) string { return t.UTC().Format("2006-01") }

// AddUsage adds n of kind to acct's count for the month of at.
func (t *Tx) AddUsage(acct string, at time.Time, kind string, n int) error {
	if _, err := t.exec(`INSERT INTO x_usage (account_id, month, kind, n) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, month, kind) DO UPDATE SET n = n + excluded.n`,
		acct, UsageMonth(at), kind, n); err != nil {
		return fmt.Errorf("count X request: %w", mapErr(err))
	}
	return nil
}

// SetUserCap records the 24-hour user cap X reported at at.
func (t *Tx) SetUserCap(acct string, limit, remaining int, reset, at time.Time) error {
	var r any
	if !reset.IsZero() {
		r = fmtTime(reset)
	}
	if _, err := t.exec(`INSERT INTO x_user_caps (account_id, cap_limit, remaining, reset_at, seen_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET cap_limit = excluded.cap_limit, remaining = excluded.remaining,
			reset_at = excluded.reset_at, seen_at = excluded.seen_at
		WHERE excluded.seen_at >= x_user_caps.seen_at`,
		acct, limit, remaining, r, fmtTime(at)); err != nil {
		return fmt.Errorf("record 24-hour cap: %w", mapErr(err))
	}
	return nil
}

// AccountUsage is one account's counts for a month and its last 24-hour cap.
type AccountUsage struct {
	AccountID string
	Username  string // "" for an account no longer connected
	Counts    map[string]int
	// Cap is nil when X never reported a 24-hour user cap for the account.
	Cap *UserCap
}

// UserCap is a 24-hour user cap as X reported it last.
type UserCap struct {
	Limit, Remaining int
	Reset            *time.Time
	SeenAt           time.Time
}

// Usage lists, for month ("YYYY-MM"), every connected account and every
// account with counts in that month, by username.
func (t *Tx) Usage(month string) ([]AccountUsage, error) {
	rows, err := t.query(`WITH ids AS (
			SELECT id FROM accounts UNION SELECT account_id FROM x_usage WHERE month = ?)
		SELECT ids.id, COALESCE(a.username, ''), c.cap_limit, c.remaining, c.reset_at, c.seen_at
		FROM ids LEFT JOIN accounts a ON a.id = ids.id LEFT JOIN x_user_caps c ON c.account_id = ids.id
		ORDER BY a.username IS NULL, a.username COLLATE NOCASE, ids.id`, month)
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", mapErr(err))
	}
	var out []AccountUsage
	idx := map[string]int{}
	for rows.Next() {
		var u AccountUsage
		var lim, rem sql.NullInt64
		var reset, seen sql.NullString
		if err := rows.Scan(&u.AccountID, &u.Username, &lim, &rem, &reset, &seen); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read usage: %w", mapErr(err))
		}
		if lim.Valid {
			c := &UserCap{Limit: int(lim.Int64), Remaining: int(rem.Int64)}
			if c.Reset, err = parseTimePtr(reset); err != nil {
				rows.Close()
				return nil, err
			}
			if c.SeenAt, err = parseTime(seen.String); err != nil {
				rows.Close()
				return nil, err
			}
			u.Cap = c
		}
		u.Counts = map[string]int{}
		idx[u.AccountID] = len(out)
		out = append(out, u)
	}
	if err := rows.Close(); err != nil {
		return nil, mapErr(err)
	}
	crows, err := t.query(`SELECT account_id, kind, n FROM x_usage WHERE month = ?`, month)
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", mapErr(err))
	}
	defer crows.Close()
	for crows.Next() {
		var id, kind string
		var n int
		if err := crows.Scan(&id, &kind, &n); err != nil {
			return nil, fmt.Errorf("read usage: %w", mapErr(err))
		}
		if i, ok := idx[id]; ok {
			out[i].Counts[kind] = n
		}
	}
	return out, mapErr(crows.Err())
}

// UserCaps lists the 24-hour user caps X reported last, by account id.
func (t *Tx) UserCaps() (map[string]UserCap, error) {
	rows, err := t.query(`SELECT account_id, cap_limit, remaining, reset_at, seen_at FROM x_user_caps`)
	if err != nil {
		return nil, fmt.Errorf("read 24-hour caps: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string]UserCap{}
	for rows.Next() {
		var id, seen string
		var reset sql.NullString
		var c UserCap
		if err := rows.Scan(&id, &c.Limit, &c.Remaining, &reset, &seen); err != nil {
			return nil, fmt.Errorf("read 24-hour caps: %w", mapErr(err))
		}
		if c.Reset, err = parseTimePtr(reset); err != nil {
			return nil, err
		}
		if c.SeenAt, err = parseTime(seen); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, mapErr(rows.Err())
}
