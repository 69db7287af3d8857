package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/slots"
	"github.com/psnd/psnd/internal/when"
)

// Queue errors: the account has no slots, or every slot up to the
// scheduling horizon holds a post.
var (
	ErrNoSlots   = errors.New("the account has no queue slots")
	ErrQueueFull = errors.New("every queue slot is taken")
)

// AddSlots stores one slot per time of spec for the account, read in zone,
// and returns them; a slot already there (same days, time and zone) is
// returned as it is rather than stored twice.
func (t *Tx) AddSlots(accountID string, spec slots.Spec, zone string, now time.Time) ([]slots.Slot, error) {
	var out []slots.Slot
	for _, m := range spec.Minutes {
		if _, err := t.exec(`INSERT INTO slots (account_id, days, minute, zone, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, days, minute, zone) DO NOTHING`,
			accountID, int(spec.Days), m, zone, fmtTime(now)); err != nil {
			return nil, fmt.Errorf("add slot: %w", mapErr(err))
		}
		var id int64
		if err := t.queryRow(`SELECT id FROM slots WHERE account_id = ? AND days = ? AND minute = ? AND zone = ?`,
			accountID, int(spec.Days), m, zone).Scan(&id); err != nil {
			return nil, fmt.Errorf("add slot: %w", mapErr(err))
		}
		s, err := t.Slot(id)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

const slotColumns = `s.id, s.account_id, COALESCE(a.username, ''), s.days, s.minute, s.zone`

// Slot returns one slot.
func (t *Tx) Slot(id int64) (slots.Slot, error) {
	var s slots.Slot
	var days int
	err := t.queryRow(`SELECT `+slotColumns+` FROM slots s LEFT JOIN accounts a ON a.id = s.account_id WHERE s.id = ?`, id).
		Scan(&s.ID, &s.AccountID, &s.Account, &days, &s.Minute, &s.Zone)
	if err != nil {
		return slots.Slot{}, fmt.Errorf("slot %d: %w", id, mapErr(err))
	}
	s.Days = slots.Days(days)
	return s, nil
}

// Slots lists the slots of the account (all accounts when accountID is
// ""), by account, then time of day, then id.
func (t *Tx) Slots(accountID string) ([]slots.Slot, error) {
	rows, err := t.query(`SELECT `+slotColumns+` FROM slots s LEFT JOIN accounts a ON a.id = s.account_id
		WHERE ? = '' OR s.account_id = ?
		ORDER BY COALESCE(a.username, ''), s.minute, s.id`, accountID, accountID)
	if err != nil {
		return nil, fmt.Errorf("list slots: %w", mapErr(err))
	}
	defer rows.Close()
	out := []slots.Slot{}
	for rows.Next() {
		var s slots.Slot
		var days int
		if err := rows.Scan(&s.ID, &s.AccountID, &s.Account, &days, &s.Minute, &s.Zone); err != nil {
			return nil, fmt.Errorf("list slots: %w", mapErr(err))
		}
		s.Days = slots.Days(days)
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

// DeleteSlot removes a slot. Posts scheduled at its times keep them.
func (t *Tx) DeleteSlot(id int64) error {
	res, err := t.exec(`DELETE FROM slots WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("remove slot %d: %w", id, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("slot %d: %w", id, ErrNotFound)
	}
	return nil
}

// SlotPosts returns, for each instant in (from, until] that holds a post
// of the account, that post's id and first tweet's text. A post fills a
// slot when it is not a draft and its scheduled_at is the slot's instant.
// accountID "" means every account with slots; the key is then account
// id and instant.
func (t *Tx) SlotPosts(accountID string, from, until time.Time) (map[SlotKey]SlotPost, error) {
	q, args := slotPostsAll, []any{string(post.StatusDraft), fmtTime(from), fmtTime(until)}
	if accountID != "" {
		q, args = slotPostsAccount, append([]any{accountID}, args...)
	}
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read queued posts: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[SlotKey]SlotPost{}
	for rows.Next() {
		var acct, at, text, status string
		var id int64
		if err := rows.Scan(&acct, &at, &id, &text, &status); err != nil {
			return nil, fmt.Errorf("read queued posts: %w", mapErr(err))
		}
		ts, err := parseTime(at)
		if err != nil {
			return nil, err
		}
		k := SlotKey{AccountID: acct, Unix: ts.Unix()}
		if cur, dup := out[k]; !dup || id < cur.ID { // the first post created holds the slot
			out[k] = SlotPost{ID: id, Text: text, Status: post.Status(status)}
		}
	}
	return out, mapErr(rows.Err())
}

// The queue view's reads: a range of posts_account_scheduled per account
// (one with slots, when no account is named), never a scan of every post
// (an "empty parameter OR account_id = ?" filter would be one, since the
// plan is made before the parameter is known).
const (
	slotPostsWhere = ` AND p.parent_post_id IS NULL AND p.status <> ? AND p.scheduled_at > ? AND p.scheduled_at <= ?`
	slotPostsAll   = `SELECT p.account_id, p.scheduled_at, p.id, p.content, p.status FROM posts p
		WHERE p.account_id IN (SELECT DISTINCT account_id FROM slots)` + slotPostsWhere
	slotPostsAccount = `SELECT p.account_id, p.scheduled_at, p.id, p.content, p.status FROM posts p
		WHERE p.account_id = ?` + slotPostsWhere
)

// SlotKey names a slot instant of an account.
type SlotKey struct {
	AccountID string
	Unix      int64
}

// SlotPost is the post in a slot.
type SlotPost struct {
	ID     int64
	Text   string // the first tweet's
	Status post.Status
}

// SlotPicker hands out an account's free slots, earliest first, within one
// transaction: each Next marks the slot it returns as taken, so several
// posts stored in the same transaction (an import) take consecutive
// slots, and since write transactions are serial two concurrent creates
// never get the same one. It is used only inside the transaction it was
// made in.
//
// It works a window of weeks at a time: the window's slot instants are
// computed once and walked, and the posts taking instants are read for
// that window only, so a pick costs a few weeks' instants and posts, not
// two years' (nor a window's instants per pick, for an import of
// thousands).
type SlotPicker struct {
	tx        *Tx
	accountID string
	exclude   int64
	slots     []slots.Slot
	taken     map[int64]bool // unix seconds of taken instants
	loaded    time.Time      // taken holds the posts up to here
	horizon   time.Time
	occ       []slots.Occurrence // the current window's instants, earliest first
	next      int                // occ[next:] have not been handed out or passed
	until     time.Time          // the current window's end
}

// pickerWindow is how far ahead the picker looks at a time: most picks
// are in the first.
const pickerWindow = 28 * 24 * time.Hour

// NewSlotPicker reads the account's slots; the picker hands out instants
// after now up to the scheduling horizon. exclude is a post that does not
// count as filling its slot (the post being moved into the queue), 0 for
// none. ErrNoSlots when the account has none.
func (t *Tx) NewSlotPicker(accountID string, now time.Time, exclude int64) (*SlotPicker, error) {
	ss, err := t.Slots(accountID)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, ErrNoSlots
	}
	return &SlotPicker{tx: t, accountID: accountID, exclude: exclude, slots: ss, taken: map[int64]bool{},
		loaded: now, horizon: when.Horizon(now), until: now}, nil
}

// load marks taken the instants of the account's posts in (p.loaded, until].
func (p *SlotPicker) load(until time.Time) error {
	if !until.After(p.loaded) {
		return nil
	}
	rows, err := p.tx.query(`SELECT p.scheduled_at FROM posts p
		WHERE p.parent_post_id IS NULL AND p.account_id = ? AND p.status <> ? AND p.id <> ?
		  AND p.scheduled_at > ? AND p.scheduled_at <= ?`,
		p.accountID, string(post.StatusDraft), p.exclude, fmtTime(p.loaded), fmtTime(until))
	if err != nil {
		return fmt.Errorf("read queued posts: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var at string
		if err := rows.Scan(&at); err != nil {
			return fmt.Errorf("read queued posts: %w", mapErr(err))
		}
		ts, err := parseTime(at)
		if err != nil {
			return err
		}
		p.taken[ts.Unix()] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read queued posts: %w", mapErr(err))
	}
	p.loaded = until
	return nil
}

// Reserve marks an instant taken without handing it out (a dry run's
// earlier picks).
func (p *SlotPicker) Reserve(at time.Time) { p.taken[at.Unix()] = true }

// Next returns the earliest free slot instant after the last one handed
// out and marks it taken; ErrQueueFull when none is free up to the
// horizon.
func (p *SlotPicker) Next() (time.Time, error) {
	for {
		for ; p.next < len(p.occ); p.next++ {
			if at := p.occ[p.next].At; !p.taken[at.Unix()] {
				p.taken[at.Unix()] = true
				p.next++
				return at, nil
			}
		}
		if !p.until.Before(p.horizon) {
			return time.Time{}, ErrQueueFull
		}
		from := p.until
		if p.until = from.Add(pickerWindow); p.until.After(p.horizon) {
			p.until = p.horizon
		}
		if err := p.load(p.until); err != nil {
			return time.Time{}, err
		}
		occ, err := slots.Between(p.slots, from, p.until)
		if err != nil {
			return time.Time{}, err
		}
		p.occ, p.next = occ, 0
	}
}
