package publishing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// GrantProver proves an account's grant alive with a real refresh, which X
// does not bill (oauth.Source.Prove). A token source without it gets no
// refresh at pre-flight (the sandbox's).
type GrantProver interface {
	Prove(ctx context.Context, accountID string) error
}

// preflightBatch bounds the posts one pre-flight pass reads at a time.
const preflightBatch = 500

// xMediaLife is how long X keeps an uploaded media id (expires_after_secs,
// 86400 in X's examples): pre-flight uploads only what outlives the due time.
const xMediaLife = 24 * time.Hour

// preflighter is the pre-flight of SPEC §6: a window before a scheduled
// post is due, it proves the account's grant with a refresh (one for every
// post of the account in the window) and uploads the post's media, so that
// at the due instant only the create remains, and a revoked grant or a
// missing file is reported at once (sub_status at_risk with the reason)
// rather than at the due minute.
//
// It works beside the scheduler, never in its way: it runs in a goroutine
// of its own, never changes a post's status, takes no lease, and records
// what it found only on the version of the post it checked (the run_id
// fence), so an edit or a cancel meanwhile simply wins.
type preflighter struct {
	store    *sqlstore.Store
	clock    clock.Clock
	x        XClient
	counter  Counter
	tokens   TokenSource
	prover   GrantProver // nil: no refresh
	window   time.Duration
	log      *slog.Logger
	notifier Notifier
	changed  func(id int64)
	kick     func() // the scheduler: a pass recorded something

	trigger chan struct{}

	mu sync.Mutex
	// proven holds when each account's grant was last proven: a proof
	// serves every post of the account due within a window of it.
	proven map[string]time.Time
	// refused holds the posts whose media X refused, by run_id: a recheck
	// does not send the same bytes again (another counted upload X would
	// refuse alike) until an edit gives a new run_id or a login a new
	// grant. Lazily made.
	refused map[int64]refusal
	// uploading is the post whose media pre-flight is sending (0: none):
	// the scheduler does not claim it meanwhile, so that a post falling
	// due during its pre-flight upload waits for that upload rather than
	// sending the file again. waited: the scheduler left it unclaimed, and
	// is kicked when the upload ends.
	uploading int64
	waited    bool
	// rechecked is when the scheduler last started a pass for the posts
	// at risk (recheckAt).
	rechecked time.Time
	// riskGen counts the passes' at-risk verdicts; cleanGen is the count
	// at which the database last had none. While they are equal the
	// scheduler need not count posts at risk at every round.
	riskGen, cleanGen uint64
}

type refusal struct{ runID, account string }

// Trigger asks for a pass soon; passes do not overlap.
func (f *preflighter) Trigger() {
	select {
	case f.trigger <- struct{}{}:
	default:
	}
}

// forget drops an account's proof: after a login its posts are checked
// again with the new grant.
func (f *preflighter) forget(accountID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.proven, accountID)
	for id, r := range f.refused {
		if r.account == accountID {
			delete(f.refused, id)
		}
	}
}

// run makes a pass per trigger until ctx ends.
func (f *preflighter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.trigger:
		}
		n, err := f.pass(ctx)
		if err != nil && ctx.Err() == nil {
			f.log.Error("pre-flight pass", "err", err)
		}
		if n > 0 {
			// New verdicts: the scheduler's next pre-flight instant moved.
			f.kick()
		}
	}
}

// pass checks every scheduled post due within the window that was not
// checked in its current version, and those found at risk before. It
// returns how many posts not checked before it gave a verdict (a recheck
// of a post at risk does not count: the scheduler's next pre-flight
// instant moves only with the first).
func (f *preflighter) pass(ctx context.Context) (int, error) {
	now := f.clock.Now()
	var refs []sqlstore.PreflightRef
	if err := f.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		refs, err = tx.PreflightDue(now.Add(f.window), preflightBatch)
		return err
	}); err != nil {
		return 0, err
	}
	// One proof per account, asked in the order its first post is due.
	grants := map[string]error{}
	recorded := 0
	var lost []lostLogin
	// rechanged: a recheck changed a post at risk (cleared it): the
	// scheduler looks again at what it must wake for.
	rechanged := false
	defer func() {
		if rechanged {
			f.kick()
		}
	}()
	for _, ref := range refs {
		if ctx.Err() != nil {
			return recorded, ctx.Err()
		}
		pst, err := f.post(ctx, ref.ID)
		if errors.Is(err, sqlstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return recorded, err
		}
		if pst.RunID != ref.RunID || pst.Status != post.StatusScheduled {
			continue // changed since it was listed: the next pass sees it
		}
		if ref.Checked && f.wasRefused(ref) {
			continue // at risk until an edit or a login; X would refuse it again
		}
		gerr, asked := grants[ref.AccountID]
		if !asked {
			gerr = f.safeProve(ctx, ref.AccountID, now)
			grants[ref.AccountID] = gerr
		}
		if errors.Is(gerr, secrets.ErrWaiting) || ctx.Err() != nil {
			continue // no verdict while the keyring is locked
		}
		reason, refused := "", false
		if gerr != nil {
			reason = grantReason(pst.Account, gerr)
		} else {
			reason, refused = f.safeMedia(ctx, pst)
		}
		if ctx.Err() != nil {
			return recorded, ctx.Err()
		}
		var changed bool
		err = f.store.Update(ctx, func(tx *sqlstore.Tx) error {
			var err error
			changed, err = tx.SetPreflight(ref.ID, ref.RunID, reason, f.clock.Now())
			return err
		})
		if errors.Is(err, sqlstore.ErrStale) {
			continue // edited, cancelled or claimed meanwhile
		}
		if err != nil {
			return recorded, err
		}
		if refused {
			f.refuse(ref)
		}
		if reason != "" {
			f.mu.Lock()
			f.riskGen++
			f.rechecked = now // at risk as of this pass: recheck from here
			f.mu.Unlock()
		}
		if !ref.Checked {
			recorded++
		}
		log := f.log.With("post", ref.ID, "account", pst.Account, "due", ref.ScheduledAt)
		if !changed {
			continue
		}
		f.changed(ref.ID)
		if ref.Checked {
			rechanged = true
		}
		switch {
		case reason == "":
			log.Info("pre-flight: post no longer at risk")
		case gerr != nil:
			log.Warn("pre-flight: post at risk", "reason", reason)
			lost = addLost(lost, pst, reason, errors.Is(gerr, oauth.ErrNeedsReauth))
		default:
			log.Warn("pre-flight: post at risk", "reason", reason)
			f.notifier.Notify(Notice{Kind: NoticeAtRisk, PostID: pst.ID, Account: pst.Account,
				Title: fmt.Sprintf("psnd: post %d is at risk", pst.ID), Body: reason})
		}
	}
	// A grant that could not be proven is one notice for the account,
	// however many of its posts it puts at risk. A lost login is the
	// account's needs-login notice (the one the token source gives when X
	// refuses the refresh, so the desktop shows it once); a proof that
	// failed otherwise (X unreachable, the app refused) does not tell the
	// user to log in.
	for _, l := range lost {
		body := l.reason
		if l.posts > 1 {
			body = fmt.Sprintf("%d posts due soon are at risk: %s", l.posts, l.reason)
		}
		n := Notice{Kind: NoticeAtRisk, Account: l.account, Body: body,
			Title: fmt.Sprintf("psnd: %d posts of @%s are at risk", l.posts, l.account)}
		switch {
		case l.reauth:
			n.Kind, n.Title = NoticeNeedsLogin, fmt.Sprintf("psnd: @%s must log in again", l.account)
		case l.posts == 1:
			n.PostID, n.Title = l.first, fmt.Sprintf("psnd: post %d is at risk", l.first)
		}
		f.notifier.Notify(n)
	}
	return recorded, nil
}

type lostLogin struct {
	account string
	first   int64
	posts   int
	reason  string
	reauth  bool // the user must log in again
}

func addLost(ls []lostLogin, pst *post.Post, reason string, reauth bool) []lostLogin {
	for i := range ls {
		if ls[i].account == pst.Account {
			ls[i].posts++
			return ls
		}
	}
	return append(ls, lostLogin{account: pst.Account, first: pst.ID, posts: 1, reason: reason, reauth: reauth})
}

// sendMarked reports whether a create of the tweet row may have reached X.
func (f *preflighter) sendMarked(ctx context.Context, rowID int64) (bool, error) {
	var sent *time.Time
	err := f.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		sent, err = tx.SendStartedAt(rowID)
		return err
	})
	return sent != nil, err
}

func (f *preflighter) post(ctx context.Context, id int64) (*post.Post, error) {
	var p *post.Post
	err := f.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.GetPost(id)
		return err
	})
	return p, err
}

// safeProve is prove, and safeMedia media, behind a recover: a panic
// while pre-flighting one post (a bug) puts that post at risk with the
// reason, not looked at again until it changes, and the pass goes on.
// Letting it kill the daemon would kill it again at every start (posts in
// the window are pre-flighted first), and no post would go out. The
// publish, which recovers alike, still tries at the due time.
func (f *preflighter) safeProve(ctx context.Context, acct string, now time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f.log.Error("pre-flight panicked proving a login", "account", acct, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error (please report it): %v", r)
		}
	}()
	return f.prove(ctx, acct, now)
}

func (f *preflighter) safeMedia(ctx context.Context, pst *post.Post) (reason string, refused bool) {
	defer func() {
		if r := recover(); r != nil {
			f.log.Error("pre-flight panicked preparing media", "post", pst.ID, "panic", r, "stack", string(debug.Stack()))
			reason, refused = fmt.Sprintf("internal error while preparing the post's media (please report it): %v; psnd tries again when the post is due", r), true
		}
	}()
	return f.media(ctx, pst)
}

// proofReuse bounds how long one proof serves posts entering the window
// after it. One pass proves an account once for all its posts; later
// passes reuse the proof only this long, so a grant revoked after a
// proof is found when the next post enters its window, not at that
// post's due minute. A refresh is free (X does not bill it), so a few an
// hour per account cost nothing.
const proofReuse = 5 * time.Minute

// prove proves the account's grant unless a recent proof serves (within
// proofReuse, and never longer than the window).
func (f *preflighter) prove(ctx context.Context, acct string, now time.Time) error {
	if f.prover == nil {
		// No refresh to ask for: still notice an account that is known
		// to need a login, or that has none.
		_, err := f.tokens.Token(ctx, acct)
		return err
	}
	f.mu.Lock()
	at, ok := f.proven[acct]
	f.mu.Unlock()
	if ok && now.Sub(at) < min(f.window, proofReuse) {
		return nil
	}
	if err := f.prover.Prove(ctx, acct); err != nil {
		return err
	}
	f.mu.Lock()
	f.proven[acct] = now
	f.mu.Unlock()
	return nil
}

// recheckEvery is how often posts at risk are looked at again.
const recheckEvery = time.Minute

// mayBeAtRisk reports whether posts may be at risk, and the count of
// at-risk verdicts to hand back to recheckAt.
func (f *preflighter) mayBeAtRisk() (uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.riskGen, f.riskGen != f.cleanGen
}

// recheckAt returns when the posts at risk (if any) are next looked at
// again, and starts a pass if that is now: recheckEvery after they were
// first seen at risk or last looked at. Zero: none at risk (as of gen).
func (f *preflighter) recheckAt(now time.Time, atRisk bool, gen uint64) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !atRisk:
		f.rechecked = time.Time{}
		f.cleanGen = max(f.cleanGen, gen)
		return time.Time{}
	case f.rechecked.IsZero() || now.Before(f.rechecked):
		f.rechecked = now // at risk from an earlier run
	case !now.Before(f.rechecked.Add(recheckEvery)):
		f.rechecked = now
		f.Trigger()
	}
	return f.rechecked.Add(recheckEvery)
}

// holding is the post the scheduler must not claim now (0: none).
func (f *preflighter) holding() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uploading != 0 {
		f.waited = true
	}
	return f.uploading
}

func (f *preflighter) hold(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploading = id
}

func (f *preflighter) unhold() {
	f.mu.Lock()
	waited := f.waited
	f.uploading, f.waited = 0, false
	f.mu.Unlock()
	if waited {
		f.kick()
	}
}

func (f *preflighter) refuse(ref sqlstore.PreflightRef) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused == nil {
		f.refused = map[int64]refusal{}
	}
	f.refused[ref.ID] = refusal{runID: ref.RunID, account: ref.AccountID}
}

func (f *preflighter) wasRefused(ref sqlstore.PreflightRef) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.refused[ref.ID]
	return ok && r.runID == ref.RunID
}

// grantReason is the fail_reason of a post whose account's grant could not
// be proven: what is wrong and what to do.
func grantReason(account string, err error) string {
	var re *oauth.ReauthError
	if errors.As(err, &re) {
		return fmt.Sprintf("account @%s must log in again: psnd auth login (%s)", account, re.Reason)
	}
	if errors.Is(err, oauth.ErrNeedsReauth) {
		return fmt.Sprintf("account @%s must log in again: psnd auth login", account)
	}
	return fmt.Sprintf("could not prove the login of @%s is still valid: %v (psnd tries again when the post is due)", account, err)
}

// media uploads the media of the post's unpublished tweets that have no X
// id good until after the due time, and returns why the post is at risk
// ("" if it is not), and whether X refused a file. Uploads X could not
// take for a passing reason (the network, a 5xx) are left to the publish,
// as without pre-flight.
func (f *preflighter) media(ctx context.Context, pst *post.Post) (reason string, refused bool) {
	if pst.ScheduledAt == nil {
		return "", false
	}
	due := *pst.ScheduledAt
	log := f.log.With("post", pst.ID, "account", pst.Account)
	x := countingX{XClient: f.x, c: f.counter, clock: f.clock, acct: pst.AccountID, log: log}
	token := ""
	for i := range pst.Tweets {
		tw := &pst.Tweets[i]
		if tw.PlatformPostID != "" || len(tw.Media) == 0 {
			continue
		}
		// A create that may have reached X unanswered (a send mark) is
		// looked up by the media ids it sent, expired or not: uploading
		// again here would replace them, the lookup would miss the tweet
		// and the post would go out twice. The publish uploads after the
		// lookup if it must.
		if sent, err := f.sendMarked(ctx, tw.RowID); err != nil || sent {
			if err != nil {
				log.Warn("pre-flight: read send mark", "err", err)
			}
			continue
		}
		for j := range tw.Media {
			m := &tw.Media[j]
			if m.XMediaID != "" && m.MediaExpiresAt != nil && m.MediaExpiresAt.After(due.Add(mediaMargin)) {
				continue // still good when the post is due
			}
			file, err := xapi.InspectMedia(m.Path)
			if err != nil {
				return fmt.Sprintf("media %s: %v (put the file back or change the post's media: psnd edit %d)", m.Path, err, pst.ID), false
			}
			if !f.clock.Now().Add(xMediaLife).After(due.Add(mediaMargin)) {
				// An id uploaded now would expire before the post is due
				// (PSN_PREFLIGHT near 24h) and the publish would upload
				// it again: a second billed upload for nothing. The file
				// is there; the publish uploads it.
				continue
			}
			if token == "" {
				// From here until the uploads end the scheduler leaves the
				// post alone; one it claimed just before is not uploaded
				// for here.
				f.hold(pst.ID)
				defer f.unhold()
				cur, err := f.post(ctx, pst.ID)
				if err != nil || cur.RunID != pst.RunID || cur.Status != post.StatusScheduled {
					return "", false
				}
				if token, err = f.tokens.Token(ctx, pst.AccountID); err != nil {
					if errors.Is(err, oauth.ErrNeedsReauth) {
						return grantReason(pst.Account, err), false
					}
					log.Warn("pre-flight: no token to upload media; it is uploaded when the post is due", "err", err)
					return "", false
				}
			}
			up, err := x.Upload(ctx, token, file, nil)
			if err == nil && m.AltText != "" {
				_, err = x.SetAltText(ctx, token, up.ID, m.AltText)
			}
			if err != nil {
				if ctx.Err() != nil || xapi.IsTransient(err) || xapi.IsUnauthorized(err) {
					log.Warn("pre-flight: media upload failed; it is uploaded again when the post is due", "path", m.Path, "err", err)
					return "", false
				}
				if _, limited := xapi.IsRateLimited(err); limited {
					log.Warn("pre-flight: media upload rate limited; it is uploaded when the post is due", "path", m.Path)
					return "", false
				}
				msg := err.Error()
				var xe *xapi.Error
				if errors.As(err, &xe) {
					msg = xe.Message()
				}
				return fmt.Sprintf("X refused media %s: %s", m.Path, msg), true
			}
			var exp = &up.ExpiresAt
			if up.ExpiresAt.IsZero() {
				exp = nil // unknown: the publish uploads it again
			}
			err = f.store.Update(ctx, func(tx *sqlstore.Tx) error {
				return tx.RecordPreflightMedia(pst.ID, pst.RunID, m.ID, up.ID, exp)
			})
			if err != nil {
				if !errors.Is(err, sqlstore.ErrStale) {
					log.Warn("pre-flight: record media id", "err", err)
				}
				return "", false
			}
			log.Info("pre-flight: media uploaded ahead", "path", m.Path, "expires_at", exp)
		}
	}
	return "", false
}
