package publishing

import (
	"errors"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// budgetRound is what one scheduler round did about the budget, so that a
// round whose transaction is run again or fails can undo it.
type budgetRound struct {
	recheck  bool
	asked    uint64          // the changes of budget or prices the look covers
	reserved []int64         // posts admitted (their cost reserved)
	released []int64         // held posts let go
	held     []budgetHeldOne // posts held in this round
	count    int             // posts held after the round
}

type budgetHeldOne struct {
	id      int64
	account string
	reason  string
}

// budgetStart begins a round: on the first round of a month (the counts
// are loaded) or after the budget or the prices changed, the posts held
// are looked at again, oldest first, and those that now fit are let go
// (due again in this very round).
func (s *Scheduler) budgetStart(tx *sqlstore.Tx, bs *budgetRound, now time.Time) error {
	if s.budget == nil {
		return nil
	}
	// The transaction may run again: undo what the last run reserved.
	for _, id := range bs.reserved {
		s.budget.release(id)
	}
	bs.reserved, bs.released, bs.held = bs.reserved[:0], bs.released[:0], bs.held[:0]
	recheck, asked, err := s.budget.roundStart(tx, now)
	if err != nil {
		return err
	}
	bs.recheck = bs.recheck || recheck
	if recheck {
		bs.asked = asked
	}
	if !bs.recheck {
		return nil
	}
	refs, err := tx.HeldOverBudget()
	if err != nil {
		return err
	}
	var extra int64
	for _, ref := range refs {
		p, err := tx.GetPost(ref.ID)
		if err != nil {
			return err
		}
		c := units(PostCost(p, s.budget.pricesNow(), now))
		// Oldest first, each let go if it fits: a cheaper post behind
		// one still too dear goes, as a new post of its cost would.
		if !s.budget.fits(extra + c) {
			// Still held: its reason shows today's numbers.
			err := tx.HoldOverBudget(ref, s.budget.reason(c, now), now)
			if err != nil && !errors.Is(err, sqlstore.ErrStale) {
				return err
			}
			continue
		}
		err = tx.ReleaseOverBudget(ref, now)
		if errors.Is(err, sqlstore.ErrStale) {
			continue
		}
		if err != nil {
			return err
		}
		extra += c
		bs.released = append(bs.released, ref.ID)
	}
	return nil
}

// budgetAdmit decides a due post against the budget before it is claimed:
// it reserves the post's cost, or holds the post (held true).
func (s *Scheduler) budgetAdmit(tx *sqlstore.Tx, bs *budgetRound, ref sqlstore.DueRef, now time.Time) (held bool, err error) {
	if s.budget == nil || !s.budget.active() {
		return false, nil
	}
	p, err := tx.GetPost(ref.ID)
	if err != nil {
		return false, err
	}
	started, err := tx.Started(ref.ID)
	if err != nil {
		return false, err
	}
	// A post left publishing by a lapsed lease may be part-way: finish it.
	started = started || ref.Status == post.StatusPublishing
	ok, reason := s.budget.admit(ref.ID, PostCost(p, s.budget.pricesNow(), now), started, now)
	if ok {
		bs.reserved = append(bs.reserved, ref.ID)
		return false, nil
	}
	err = tx.HoldOverBudget(ref, reason, now)
	if errors.Is(err, sqlstore.ErrStale) {
		return true, nil // changed under us; the next round sees it
	}
	if err != nil {
		return false, err
	}
	bs.held = append(bs.held, budgetHeldOne{id: ref.ID, account: p.Account, reason: reason})
	return true, nil
}

// budgetUnreserve returns a post's reservation when it is not claimed
// after all.
func (s *Scheduler) budgetUnreserve(id int64) {
	if s.budget != nil {
		s.budget.release(id)
	}
}

// budgetCount counts the posts held, for the wake at the month's turn.
func (s *Scheduler) budgetCount(tx *sqlstore.Tx, bs *budgetRound) error {
	if s.budget == nil {
		return nil
	}
	if !s.budget.active() && !bs.recheck && s.held == 0 {
		// No budget: nothing can be held (the last look let all go).
		bs.count = 0
		return nil
	}
	n, err := tx.CountHeldOverBudget()
	bs.count = n
	return err
}

// budgetFailed undoes a round that did not commit.
func (s *Scheduler) budgetFailed(bs *budgetRound) {
	if s.budget == nil {
		return
	}
	for _, id := range bs.reserved {
		s.budget.release(id)
	}
	if bs.recheck {
		s.budget.redirty()
	}
}

// budgetDone tells clients and the user what the round held or let go:
// one notice per held post.
func (s *Scheduler) budgetDone(bs *budgetRound) {
	if s.budget == nil {
		return
	}
	s.held = bs.count
	if bs.recheck {
		s.budget.roundDone(bs.asked)
	}
	for _, id := range bs.released {
		s.log.Info("post no longer held by the monthly budget", "post", id)
		s.changed(id)
	}
	for _, h := range bs.held {
		s.log.Warn("post held by the monthly budget", "post", h.id, "reason", h.reason)
		s.changed(h.id)
		if s.budget.notify(h.id) {
			s.notifier.Notify(Notice{Kind: NoticeOverBudget, PostID: h.id, Account: h.account,
				Title: fmt.Sprintf("psnd: post %d held by the monthly budget", h.id), Body: h.reason})
		}
	}
}
