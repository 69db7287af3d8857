package publishing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/textutil"
	"github.com/psnd/psnd/internal/xapi"
)

// XClient is the part of the X API the publisher uses (xapi.Client).
type XClient interface {
	CreateTweet(ctx context.Context, token string, r xapi.CreateTweetRequest) (xapi.Tweet, xapi.RateLimit, error)
	DeleteTweet(ctx context.Context, token, id string) (xapi.RateLimit, error)
	UserTweets(ctx context.Context, token, userID string, p xapi.UserTweetsParams) (xapi.UserTweetsPage, xapi.RateLimit, error)
	Upload(ctx context.Context, token string, f xapi.MediaFile, progress func(sent, total int64)) (xapi.Media, error)
	SetAltText(ctx context.Context, token, mediaID, text string) (xapi.RateLimit, error)
}

// TokenSource hands out access tokens (internal/oauth's refresher).
type TokenSource interface {
	Token(ctx context.Context, accountID string) (string, error)
	ForceRefresh(ctx context.Context, accountID, stale string) (string, error)
}

// errNeedsReauth is what a token source returns when the account must log
// in again.
var errNeedsReauth = oauth.ErrNeedsReauth

// Retry policy (SPEC §6): transient failures retry up to three times with
// exponential backoff and jitter; the delays are persisted as next_retry_at
// so a restart keeps them.
const (
	retryBase   = 20 * time.Second
	retryFactor = 4
	// recordTimeout bounds the write of a result after shutdown began.
	recordTimeout = 30 * time.Second
	// persistBackoff and persistMaxBackoff space the attempts to write an
	// outcome while the disk is full or the database busy: short, so the
	// post leaves "publishing" within a second of space returning.
	persistBackoff    = 50 * time.Millisecond
	persistMaxBackoff = time.Second
	// mediaMargin: a media id expiring sooner than this is uploaded again.
	mediaMargin = 10 * time.Minute
	// keyWait: how long a post waits when the data key is unavailable.
	keyWait = time.Minute
)

// retryDelay is the wait before retry n (1-based): 20s, 80s, 320s, each
// shortened by up to 25% at random so that posts failing together do not
// retry in lockstep.
func retryDelay(n int, rnd func() float64) time.Duration {
	d := retryBase
	for i := 1; i < n; i++ {
		d *= retryFactor
	}
	return d - time.Duration(float64(d)*0.25*rnd())
}

// Store is the part of the store the publisher writes through
// (*sqlstore.Store).
type Store interface {
	Update(ctx context.Context, fn func(*sqlstore.Tx) error) error
	View(ctx context.Context, fn func(*sqlstore.Tx) error) error
}

type publisher struct {
	store    Store
	clock    clock.Clock
	x        XClient
	tokens   TokenSource
	owner    string
	lease    time.Duration
	log      *slog.Logger
	counter  Counter
	rand     func() float64
	changed  func(id int64) // a post changed: wake waiters
	progress func(id int64, sent, total int64)
	notifier Notifier
	budget   *Budget // nil: no budget
	// lookupFails paces lookups that failed (see lookupFailure).
	lookupFails failCounter
	// gate holds creates back for X's rate limits (shared with the
	// scheduler).
	gate *rateGate
	// sleep waits between attempts to write an outcome the disk refused;
	// nil is a real sleep.
	sleep func(ctx context.Context, d time.Duration) error
}

// outcome is how one publish attempt ended.
type outcome struct {
	kind     outcomeKind
	reason   string
	at       time.Time // retry time
	sub      post.SubStatus
	retries  int  // with outRetry: the post's count of transient failures
	finished bool // published and already recorded as such
}

type outcomeKind int

const (
	outPublished outcomeKind = iota
	outRetry
	outFailed
	outAbandoned // shutdown: leave the lease to lapse, resume on restart
)

// publish runs one attempt for a claimed post and records how it ended.
func (p *publisher) publish(ctx context.Context, pst *post.Post, due time.Time) {
	log := p.log.With("post", pst.ID, "account", pst.Account)
	// A create the scheduler reserved for this post and left unused
	// goes back to the account's window.
	defer p.gate.done(pst.AccountID, pst.ID)
	// What the scheduler reserved of the budget for this post and it did
	// not spend returns to the month.
	if p.budget != nil {
		defer p.budget.release(pst.ID)
	}
	o := p.attempt(ctx, pst, due, log)
	if o.kind == outAbandoned {
		log.Info("publish interrupted by shutdown; it resumes at the next start")
		return
	}
	now := p.clock.Now()
	var err error
	// A post finished with its last tweet's id needs no further write.
	// Otherwise the outcome must land, or the post stays "publishing"
	// until its lease lapses: it is kept here and written as soon as the
	// disk takes it (see persist).
	if o.kind != outPublished || !o.finished {
		err = p.persist(ctx, log, "record publish outcome", func(tx *sqlstore.Tx) error {
			switch o.kind {
			case outPublished:
				return tx.FinishPublished(pst.ID, p.owner, now)
			case outRetry:
				return tx.ScheduleRetry(pst.ID, p.owner, o.sub, o.at, o.reason, o.retries, now)
			default:
				return tx.FailPost(pst.ID, p.owner, o.reason, now)
			}
		})
	}
	switch {
	case err != nil:
		log.Error("record publish outcome", "err", err)
	case o.kind == outPublished:
		log.Info("published", "tweets", len(pst.Tweets))
	case o.kind == outRetry:
		log.Warn("publish will be retried", "reason", o.reason, "at", o.at, "sub_status", o.sub)
	default:
		log.Error("publish failed", "reason", o.reason)
		p.notifyFailed(pst, o.reason)
	}
	p.changed(pst.ID)
}

// notifyFailed tells the user a post failed for good, once its outcome is
// recorded (so `psnd retry`, which the notice suggests, finds it failed).
func (p *publisher) notifyFailed(pst *post.Post, reason string) {
	if p.notifier == nil {
		return
	}
	body := textutil.Truncate(textutil.FirstLine(reason), 200)
	if !strings.Contains(body, "psnd retry") {
		body += fmt.Sprintf("\nRun psnd retry %d", pst.ID)
	}
	p.notifier.Notify(Notice{Kind: NoticeFailed, PostID: pst.ID, Account: pst.Account,
		Title: fmt.Sprintf("psnd: post %d failed", pst.ID), Body: body})
}

// attempt posts every tweet that has no X id yet, in order, each as a reply
// to the one before. Each id is committed before the next request. The
// first request waits for due: the scheduler claims a post a little early
// so that everything before the request is done by then.
func (p *publisher) attempt(ctx context.Context, pst *post.Post, due time.Time, log *slog.Logger) outcome {
	// The token is asked for before each tweet, below; a post whose
	// tweets all have ids needs none.
	var o outcome
	var ok bool
	xs := &xsession{p: p, pst: pst,
		x: countingX{XClient: p.x, c: p.counterOf(), clock: p.clock, acct: pst.AccountID, post: pst.ID, log: log}}
	prevID := ""
	// The claim gave a full lease; extend it only once a quarter of it has
	// gone (long threads, slow media), sparing a commit per tweet.
	leaseFrom := p.clock.Now()
	finished := false
	for i := range pst.Tweets {
		tw := &pst.Tweets[i]
		if tw.PlatformPostID != "" {
			prevID = tw.PlatformPostID
			continue
		}
		if ctx.Err() != nil {
			return outcome{kind: outAbandoned}
		}
		if now := p.clock.Now(); now.Sub(leaseFrom) > p.lease/4 {
			if err := p.extendLease(ctx, pst.ID); err != nil {
				return p.storeFailure(ctx, err)
			}
			leaseFrom = now
		}
		// A long thread or slow media can outlast a token: ask each time
		// (the source returns its cached token while it is fresh).
		if xs.token, o, ok = p.token(ctx, pst); !ok {
			return o
		}
		// A create that may have reached X before a crash or a dropped
		// connection is looked up first, so it is never posted twice.
		if found, o, ok := p.reconcileIfSent(ctx, xs, tw, prevID, log); !ok {
			return o
		} else if found != "" {
			prevID = found
			continue
		}
		// kept: media ids uploaded before this attempt (by pre-flight or
		// an earlier attempt) are sent; X may refuse them all the same.
		kept := keptMedia(tw, p.clock.Now())
		mediaIDs, o, ok := p.ensureMedia(ctx, xs, tw, log)
		if !ok {
			return o
		}
		req := xapi.CreateTweetRequest{Text: tw.Text, ReplyToID: prevID, MediaIDs: mediaIDs}
		for {
			// X's rate limit has no request left: wait for its reset
			// without asking (a thread resumes from this tweet).
			ok, until, err := p.gate.take(ctx, pst.AccountID, pst.ID, p.clock.Now)
			if err != nil {
				return outcome{kind: outAbandoned}
			}
			if !ok {
				return outcome{kind: outRetry, sub: post.SubRateLimited, at: until, retries: pst.Retries,
					reason: rateLimitedReason(until)}
			}
			if err := p.store.Update(ctx, func(tx *sqlstore.Tx) error {
				return tx.MarkSending(pst.ID, tw.RowID, p.owner, p.clock.Now())
			}); err != nil {
				p.gate.answered(pst.AccountID, pst.ID, xapi.RateLimit{}, false) // not sent
				return p.storeFailure(ctx, err)
			}
			if !p.waitUntil(ctx, due) {
				p.gate.answered(pst.AccountID, pst.ID, xapi.RateLimit{}, false)
				return outcome{kind: outAbandoned}
			}
			var created xapi.Tweet
			calls := 0
			err = xs.call(ctx, func(token string) error {
				if calls++; calls > 1 {
					// The same create again after a token refresh: a
					// request of its own in X's window.
					p.gate.sending(pst.AccountID, pst.ID)
				}
				var err error
				var rl xapi.RateLimit
				created, rl, err = xs.x.CreateTweet(ctx, token, req)
				p.noteAnswer(pst.AccountID, pst.ID, rl, err)
				return err
			})
			if err == nil {
				last := i == len(pst.Tweets)-1
				fin, err := p.record(ctx, pst.ID, tw, created.ID, last)
				if err != nil {
					return p.recordFailure(ctx, pst, err)
				}
				finished = fin
				prevID = created.ID
				log.Debug("tweet posted", "position", tw.Position, "x_id", created.ID)
				break
			}
			if ctx.Err() != nil {
				return outcome{kind: outAbandoned}
			}
			var te tokenError
			if errors.As(err, &te) {
				return p.tokenFailure(pst, te.err)
			}
			if xapi.IsDuplicate(err) {
				// X already has this text: if it is our tweet from an
				// attempt whose answer was lost, record it and go on.
				id, o, ok := p.findDuplicate(ctx, xs, tw, prevID, log)
				if !ok {
					return o
				}
				if id != "" {
					prevID = id
					break
				}
			}
			// X refused for certain (a 4xx answer), or the request never
			// left: no tweet can exist, so no lookup is owed before the
			// next attempt, and the user may edit the post again.
			if definitelyNotCreated(err) {
				p.clearSendMark(ctx, tw)
			}
			if kept && xapi.IsBadMedia(err) {
				// X no longer takes ids psnd's record says are good (it
				// let them expire early, or the clock that stamped them
				// was off): upload the files again, once, and send the
				// create again. Left as they were, every attempt and
				// every `psnd retry` would send the same ids.
				log.Warn("X refused the media ids uploaded earlier; uploading the files again", "err", err)
				kept = false
				for j := range tw.Media {
					tw.Media[j].XMediaID, tw.Media[j].MediaExpiresAt = "", nil
				}
				if req.MediaIDs, o, ok = p.ensureMedia(ctx, xs, tw, log); !ok {
					return o
				}
				continue
			}
			return p.classify(pst, tw, xs.refreshed, err)
		}
	}
	return outcome{kind: outPublished, finished: finished}
}

// noteAnswer tells the rate gate what X said about its windows in the
// answer to a create (an error answer carries the headers too).
func (p *publisher) noteAnswer(acct string, postID int64, rl xapi.RateLimit, err error) {
	var xe *xapi.Error
	switch {
	case err == nil:
		p.gate.answered(acct, postID, rl, true)
	case errors.As(err, &xe):
		p.gate.answered(acct, postID, xe.RateLimit, true)
	default:
		p.gate.answered(acct, postID, xapi.RateLimit{}, false)
	}
}

// token gets an access token for the post's account, or the outcome when
// none can be had.
func (p *publisher) token(ctx context.Context, pst *post.Post) (string, outcome, bool) {
	tok, err := p.tokens.Token(ctx, pst.AccountID)
	if err != nil {
		if ctx.Err() != nil {
			return "", outcome{kind: outAbandoned}, false
		}
		return "", p.tokenFailure(pst, err), false
	}
	return tok, outcome{}, true
}

func (p *publisher) tokenFailure(pst *post.Post, err error) outcome {
	now := p.clock.Now()
	switch {
	case errors.Is(err, errNeedsReauth):
		return outcome{kind: outFailed, reason: fmt.Sprintf("account @%s must log in again (run `psnd auth login`), then `psnd retry %d`: %v", pst.Account, pst.ID, err)}
	case errors.Is(err, secrets.ErrWaiting):
		return outcome{kind: outRetry, sub: post.SubNone, at: now.Add(keyWait), retries: pst.Retries,
			reason: "waiting for the keyring to unlock: " + err.Error()}
	case errors.Is(err, secrets.ErrKeyMismatch):
		return outcome{kind: outFailed, reason: err.Error()}
	}
	// Network trouble while refreshing: a transient failure.
	return p.transient(pst, fmt.Errorf("get access token: %w", err))
}

// classify turns an X error into an outcome (SPEC §6).
func (p *publisher) classify(pst *post.Post, tw *post.Tweet, refreshed bool, err error) outcome {
	if at, ok := xapi.IsRateLimited(err); ok {
		if at.IsZero() || at.Before(p.clock.Now()) {
			at = p.clock.Now().Add(time.Minute)
		}
		return outcome{kind: outRetry, sub: post.SubRateLimited, at: at.Add(time.Second), retries: pst.Retries,
			reason: fmt.Sprintf("rate limited by X until %s", at.UTC().Format(time.RFC3339))}
	}
	if xapi.IsTransient(err) {
		return p.transient(pst, err)
	}
	msg := err.Error()
	var xe *xapi.Error
	if errors.As(err, &xe) {
		msg = xe.Message()
	}
	if xapi.IsUnauthorized(err) {
		if refreshed {
			msg = "X refused the access token even after a refresh: " + msg + " (try `psnd auth login`)"
		} else {
			msg = "X refused the access token: " + msg + " (try `psnd auth login`)"
		}
	}
	if pst.IsThread() {
		msg = fmt.Sprintf("tweet %d/%d: %s", tw.Position+1, len(pst.Tweets), msg)
	}
	return outcome{kind: outFailed, reason: msg}
}

// transient schedules the next automatic retry, or fails after the third.
func (p *publisher) transient(pst *post.Post, err error) outcome {
	n := pst.Retries + 1
	if n > post.MaxAutoRetries {
		return outcome{kind: outFailed, reason: fmt.Sprintf("gave up after %d retries: %v", post.MaxAutoRetries, err)}
	}
	return outcome{kind: outRetry, sub: post.RetrySub(n), at: p.clock.Now().Add(retryDelay(n, p.rand)), retries: n, reason: err.Error()}
}

// storeFailure: the database refused a write mid-publish. The lease makes
// the post claimable again later; retry it like a transient failure.
func (p *publisher) storeFailure(ctx context.Context, err error) outcome {
	if ctx.Err() != nil {
		return outcome{kind: outAbandoned}
	}
	if errors.Is(err, sqlstore.ErrStale) {
		return outcome{kind: outAbandoned}
	}
	return outcome{kind: outRetry, sub: post.SubNone, at: p.clock.Now().Add(time.Minute), retries: 0,
		reason: "database error: " + err.Error()}
}

// recordFailure: an X id could not be recorded. A constraint violation
// means the id already belongs to another tweet — never retry that; other
// errors are retried, and the send mark makes the retry look the tweet up.
func (p *publisher) recordFailure(ctx context.Context, pst *post.Post, err error) outcome {
	if errors.Is(err, sqlstore.ErrConstraint) {
		return outcome{kind: outFailed, reason: "X answered with the id of a tweet psnd already recorded for another post: " + err.Error()}
	}
	return p.storeFailure(ctx, err)
}

// definitelyNotCreated reports errors after which X certainly holds no new
// tweet: a 4xx refusal, or a request that never left.
func definitelyNotCreated(err error) bool {
	var xe *xapi.Error
	if errors.As(err, &xe) {
		return xe.StatusCode >= 400 && xe.StatusCode < 500
	}
	return xapi.NotSent(err)
}

// clearSendMark forgets a tweet's send mark (best effort: a mark left
// behind only costs a lookup).
func (p *publisher) clearSendMark(ctx context.Context, tw *post.Tweet) {
	err := p.store.Update(context.WithoutCancel(ctx), func(tx *sqlstore.Tx) error { return tx.ClearSendMark(tw.RowID) })
	if err != nil {
		p.log.Warn("clear send mark", "err", err)
	}
}

// xsession carries an attempt's access token and refreshes it once when X
// answers 401, for every call of the attempt (create, media, lookups).
type xsession struct {
	p         *publisher
	pst       *post.Post
	token     string
	x         XClient // counts every request (countingX)
	refreshed bool
}

// tokenError wraps a failure to get a fresh token after a 401.
type tokenError struct{ err error }

func (e tokenError) Error() string { return e.err.Error() }
func (e tokenError) Unwrap() error { return e.err }

// call runs fn with the current token; on a 401 it refreshes once and runs
// fn again.
func (s *xsession) call(ctx context.Context, fn func(token string) error) error {
	err := fn(s.token)
	if err == nil || !xapi.IsUnauthorized(err) || s.refreshed {
		return err
	}
	s.refreshed = true
	nt, rerr := s.p.tokens.ForceRefresh(ctx, s.pst.AccountID, s.token)
	if rerr != nil {
		return tokenError{rerr}
	}
	s.token = nt
	return fn(s.token)
}

// record commits a tweet's X id with a context shutdown cannot cancel: the
// tweet exists on X, so its id must not be lost. For the last tweet
// (finish) the post is marked published in the same transaction; finished
// reports whether that happened (when the status change fails, the id is
// recorded alone and the caller finishes the post separately).
func (p *publisher) record(ctx context.Context, rootID int64, tw *post.Tweet, xid string, finish bool) (finished bool, err error) {
	log := p.log.With("post", rootID, "x_id", xid)
	err = p.persist(ctx, log, "record tweet id", func(tx *sqlstore.Tx) error {
		now := p.clock.Now()
		if err := tx.RecordTweetID(rootID, tw.RowID, xid, now); err != nil {
			return err
		}
		if finish {
			return tx.FinishPublished(rootID, p.owner, now)
		}
		return nil
	})
	if err != nil && finish {
		// Never let the status change cost the id: record it alone.
		p.log.Warn("finish post with its last id", "post", rootID, "err", err)
		_, err = p.record(ctx, rootID, tw, xid, false)
		return false, err
	}
	if err == nil {
		tw.PlatformPostID = xid
		p.changed(rootID)
	}
	if err != nil {
		// The id is on X but not in the database: say so where the user
		// can find it (the send mark makes the next attempt look it up).
		log.Error("tweet is on X but its id could not be recorded", "err", err)
	}
	return finish && err == nil, err
}

// persist runs a write that must not be lost — an X id, or how an attempt
// ended — until it lands. A full disk or a busy database fails the write
// whole; the outcome stays in memory and the write is tried again after a
// short backoff, for as long as the daemon runs and then for recordTimeout
// after shutdown began (shutdown cannot cancel it). Other errors (a stale
// lease, a constraint) are returned at once: trying again cannot help.
func (p *publisher) persist(ctx context.Context, log *slog.Logger, what string, fn func(*sqlstore.Tx) error) error {
	wctx := context.WithoutCancel(ctx)
	shutdown := false
	backoff := persistBackoff
	for try := 1; ; try++ {
		if !shutdown && ctx.Err() != nil {
			// Shutdown began: keep trying, but not forever.
			shutdown = true
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
			defer cancel()
		}
		err := p.store.Update(wctx, fn)
		if err == nil {
			if try > 1 {
				log.Info(what+": written after the database refused it", "attempts", try)
			}
			return nil
		}
		if !retryableWrite(err) {
			return err
		}
		if try == 1 {
			log.Warn(what+": database refused the write; keeping it and trying again", "err", err)
		}
		sleep := p.sleep
		if sleep == nil {
			sleep = clock.Sleep
		}
		if sleep(wctx, backoff) != nil {
			return err // the allowance after shutdown is spent
		}
		backoff = min(2*backoff, persistMaxBackoff)
	}
}

// retryableWrite reports database errors after which the same write may
// succeed later: no room on the disk, or another writer holding the lock.
func retryableWrite(err error) bool {
	return errors.Is(err, sqlstore.ErrFull) || errors.Is(err, sqlstore.ErrBusy)
}

func (p *publisher) extendLease(ctx context.Context, id int64) error {
	return p.store.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.ExtendLease(id, p.owner, p.clock.Now().Add(p.lease))
	})
}

// waitUntil returns at t (at once if t has passed), or false if ctx ends
// first. t is at most the scheduler's lead ahead, so a Go timer (which
// stops while the machine sleeps) is precise enough.
func (p *publisher) waitUntil(ctx context.Context, t time.Time) bool {
	d := t.Sub(p.clock.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// jitter is the default random source.
func jitter() float64 { return rand.Float64() }
