package publishing

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/xapi"
)

// resetSlack is added to X's reset times: X sends them in whole seconds,
// so the window may still be spent for up to a second after the header's
// instant.
const resetSlack = time.Second

// rateGate keeps, per account, what X last said about the windows of
// POST /2/tweets (the 15-minute window and the 24-hour caps), and decides
// from it which creates may be sent. Without it every post waiting on a
// rate limit retried at each reset and all but a few got 429 again (a
// herd). With it, a post due while no request is left waits for the reset
// without asking X, and at the reset only as many posts as X allows are
// released, in due order (the scheduler asks in that order).
//
// Until X has answered once, one create per account is let through (a
// probe) and the others wait for its answer; an account whose answers
// carry no rate-limit headers is not held back at all.
type rateGate struct {
	mu    sync.Mutex
	accts map[string]*rateState
	// changed is closed (and replaced) whenever an answer or a release may
	// let more creates through.
	changed chan struct{}
	// kick wakes the scheduler for the same reason, when it waits for
	// one: asked, the gate said waitNext (wantKick). Otherwise the
	// scheduler has nothing to gain from the answer, and the round a
	// kick starts on every answer of a burst (a write transaction, with
	// every worker busy) is work for nothing; a finishing publish kicks
	// it anyway when it frees its worker.
	kick     func()
	wantKick bool
}

type rateState struct {
	win, user, app xapi.Window   // as of the last answer
	answered       bool          // X has answered a create at least once
	inflight       int           // creates reserved or sent, not yet answered
	held           map[int64]int // creates reserved for a post, not yet taken
	// sent counts a post's creates taken and not yet answered: done gives
	// them back too, so a publish that ends without hearing the answer
	// (a panic it recovered from) leaves nothing in flight.
	sent map[int64]int
}

func newRateGate(kick func()) *rateGate {
	if kick == nil {
		kick = func() {}
	}
	return &rateGate{accts: map[string]*rateState{}, changed: make(chan struct{}), kick: kick}
}

func (g *rateGate) state(acct string) *rateState {
	st := g.accts[acct]
	if st == nil {
		st = &rateState{held: map[int64]int{}, sent: map[int64]int{}}
		g.accts[acct] = st
	}
	return st
}

// decision is what the gate says about one more create.
type decision int

const (
	sendNow  decision = iota // a request is left: it is reserved
	waitFor                  // nothing left before the time returned
	waitNext                 // nothing left and the reset is not known yet: wait for an answer
)

// decide reserves creates for acct if need creates may be sent now (a
// thread not yet started needs all of its tweets: sent part-way into a
// spent 24-hour cap it would sit half-published until the reset), and
// returns how many it reserved: need, or fewer when a window's whole
// limit is smaller (such a window only has to be full) or no reset is
// known; at least one. g.mu held.
func (g *rateGate) decide(acct string, now time.Time, need int) (decision, time.Time, int) {
	st := g.state(acct)
	if !st.answered {
		if st.inflight == 0 {
			st.inflight++
			return sendNow, time.Time{}, 1
		}
		return waitNext, time.Time{}, 0
	}
	blocked := false
	room := need
	var until time.Time
	for _, w := range []*xapi.Window{&st.win, &st.user, &st.app} {
		if !w.Known() {
			continue
		}
		if !w.Reset.IsZero() && !now.Before(w.Reset.Add(resetSlack)) {
			// The window has reset: X allows its full limit again, until a
			// new answer says when the new window ends.
			w.Remaining, w.Reset = w.Limit, time.Time{}
		}
		n := max(1, min(need, w.Limit))
		if w.Reset.IsZero() {
			n = 1 // no reset to wait for: a thread goes as far as it can
		}
		if w.Remaining-st.inflight >= n {
			room = min(room, w.Remaining-st.inflight)
			continue
		}
		blocked = true
		if !w.Reset.IsZero() && w.Reset.Add(resetSlack).After(until) {
			until = w.Reset.Add(resetSlack)
		}
	}
	switch {
	case !blocked:
		r := max(1, room)
		st.inflight += r
		return sendNow, time.Time{}, r
	case !until.IsZero():
		return waitFor, until, 0
	}
	return waitNext, time.Time{}, 0
}

// admit is the scheduler's question for a due post of acct that needs
// need creates: sendNow reserves them (as many as the windows have room
// for), for the post's publish to use (take) or give back (done), so that
// another post does not take the creates a thread still needs.
func (g *rateGate) admit(acct string, postID int64, now time.Time, need int) (decision, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, until, r := g.decide(acct, now, need)
	switch d {
	case sendNow:
		g.state(acct).held[postID] += r
	case waitNext:
		g.wantKick = true
	}
	return d, until
}

// waiting lists the accounts whose posts wait for an answer (waitNext)
// now; the scheduler leaves their posts alone until the answer kicks it.
func (g *rateGate) waiting(now time.Time) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for acct, st := range g.accts {
		if !st.answered && st.inflight > 0 {
			out = append(out, acct)
			continue
		}
		d, _, r := g.decide(acct, now, 1)
		if d == sendNow {
			st.inflight -= r // only asking
		} else if d == waitNext {
			out = append(out, acct)
		}
	}
	if len(out) > 0 {
		g.wantKick = true
	}
	return out
}

// take is the publisher's question before each create of a post: the
// reservation the scheduler made for it, or a fresh one. With waitNext it
// waits for the next answer (ctx bounds it) and asks again.
func (g *rateGate) take(ctx context.Context, acct string, postID int64, now func() time.Time) (bool, time.Time, error) {
	for {
		g.mu.Lock()
		st := g.state(acct)
		if n := st.held[postID]; n > 0 && !st.spent(now()) {
			if n == 1 {
				delete(st.held, postID)
			} else {
				st.held[postID] = n - 1
			}
			st.sent[postID]++
			g.mu.Unlock()
			return true, time.Time{}, nil
		}
		if n := st.held[postID]; n > 0 {
			// X says a window is spent after all (posts from elsewhere):
			// the reservation is void; wait like any other create.
			delete(st.held, postID)
			st.inflight = max(st.inflight-n, 0)
		}
		d, until, _ := g.decide(acct, now(), 1)
		if d == sendNow {
			st.sent[postID]++
		}
		ch := g.changed
		g.mu.Unlock()
		switch d {
		case sendNow:
			return true, time.Time{}, nil
		case waitFor:
			return false, until, nil
		}
		select {
		case <-ctx.Done():
			return false, time.Time{}, ctx.Err()
		case <-ch:
		}
	}
}

// spent reports whether X's last answer left a window with no request
// before a reset still to come.
func (st *rateState) spent(now time.Time) bool {
	for _, w := range []xapi.Window{st.win, st.user, st.app} {
		if w.Known() && w.Remaining <= 0 && !w.Reset.IsZero() && now.Before(w.Reset.Add(resetSlack)) {
			return true
		}
	}
	return false
}

// seed restores a 24-hour user cap recorded before a restart, so that a
// spent cap holds posts until its reset instead of a probe collecting a
// 429 from X. A cap whose reset has passed says nothing and is left out.
func (g *rateGate) seed(acct string, user xapi.Window, now time.Time) {
	if !user.Known() || user.Reset.IsZero() || !now.Before(user.Reset) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.state(acct)
	if st.answered {
		return
	}
	st.user = user
	st.answered = true
}

// sending counts a create of postID sent without asking first (the same
// create again after a 401 and a token refresh), so that its answer is
// not taken for another post's reservation.
func (g *rateGate) sending(acct string, postID int64) {
	g.mu.Lock()
	st := g.state(acct)
	st.inflight++
	st.sent[postID]++
	g.mu.Unlock()
}

// answered records X's answer to a create of postID sent under a
// reservation; rl is the answer's rate-limit headers (zero for a request
// that got no answer, which gives the reservation back).
func (g *rateGate) answered(acct string, postID int64, rl xapi.RateLimit, gotAnswer bool) {
	g.mu.Lock()
	st := g.state(acct)
	st.inflight = max(st.inflight-1, 0)
	if n := st.sent[postID]; n > 1 {
		st.sent[postID] = n - 1
	} else {
		delete(st.sent, postID)
	}
	if gotAnswer {
		st.answered = true
		merge(&st.win, rl.Window)
		merge(&st.user, rl.User24h)
		merge(&st.app, rl.App24h)
	}
	g.notifyLocked()
	kick := g.wantKick
	g.wantKick = false
	g.mu.Unlock()
	if kick {
		g.kick()
	}
}

// done gives back the reservation of a post whose publish ended without
// using it (the tweet was found on X, the token failed, ...), and any of
// its creates whose answer the publish never heard (it panicked): no
// create of the post is in flight once its publish has ended.
func (g *rateGate) done(acct string, postID int64) {
	g.mu.Lock()
	st := g.state(acct)
	n := st.held[postID] + st.sent[postID]
	if n == 0 {
		g.mu.Unlock()
		return
	}
	delete(st.held, postID)
	delete(st.sent, postID)
	st.inflight = max(st.inflight-n, 0)
	g.notifyLocked()
	kick := g.wantKick
	g.wantKick = false
	g.mu.Unlock()
	if kick {
		g.kick()
	}
}

func (g *rateGate) notifyLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// merge folds a newly answered window into what is known. Answers to
// concurrent requests arrive in any order: within one window the lowest
// remaining count is the latest; a later reset is a new window; an earlier
// one is an old answer.
func merge(cur *xapi.Window, w xapi.Window) {
	switch {
	case !w.Known():
	case cur.Reset.IsZero() || w.Reset.After(cur.Reset):
		*cur = w
	case w.Reset.Equal(cur.Reset):
		cur.Limit = w.Limit
		cur.Remaining = min(cur.Remaining, w.Remaining)
	}
}

// rateLimitedReason is the fail_reason of a post waiting for a reset.
func rateLimitedReason(until time.Time) string {
	return fmt.Sprintf("rate limited by X until %s", until.Add(-resetSlack).UTC().Format(time.RFC3339))
}
