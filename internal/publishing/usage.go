package publishing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/tweettext"
	"github.com/psnd/psnd/internal/xapi"
)

// Counter durably counts what psnd sends to X, per account, UTC month and
// kind (sqlstore.Usage* kinds), and keeps the 24-hour user cap X reported
// last (SPEC §9). sqlstore.Store implements it.
type Counter interface {
	CountXRequest(ctx context.Context, acct string, at time.Time, kind string, n int) error
	RecordUserCap(ctx context.Context, acct string, limit, remaining int, reset, at time.Time) error
}

// countingX is the one place requests to X are counted: every call of an
// attempt goes through it. A request is counted in its own committed
// transaction BEFORE it is sent, so a crash or a lost answer loses no
// count and a request is counted once however it ends. If the count cannot
// be written the request is not sent (a not-sent network error, retried
// like one): an uncounted request would be an unbilled surprise.
//
// Reads are billed per post returned: the request is counted before it is
// sent (read_request) and the posts X returned after the answer (read).
// An answer lost to a crash in between loses only that page's read count.
type countingX struct {
	XClient
	c     Counter
	clock clock.Clock
	acct  string
	post  int64 // the post the requests are for; 0 for none
	log   *slog.Logger
}

// add counts n of kind; through the budget, the post's reservation
// becomes spent.
func (x countingX) add(ctx context.Context, kind string, n int) error {
	if b, ok := x.c.(*Budget); ok {
		return b.countFor(ctx, x.post, x.acct, x.clock.Now(), kind, n)
	}
	return x.c.CountXRequest(ctx, x.acct, x.clock.Now(), kind, n)
}

func (x countingX) count(ctx context.Context, op, kind string, n int) error {
	if err := x.add(ctx, kind, n); err != nil {
		return &xapi.NetError{Op: op, Sent: false, Err: err}
	}
	return nil
}

// CreateKind is the usage kind of creating a post with text: X bills a
// post containing a URL at the dearer rate.
func CreateKind(text string) string {
	if len(tweettext.Links(text)) > 0 {
		return sqlstore.UsagePostURL
	}
	return sqlstore.UsagePost
}

func (x countingX) CreateTweet(ctx context.Context, token string, r xapi.CreateTweetRequest) (xapi.Tweet, xapi.RateLimit, error) {
	if err := x.count(ctx, "POST /2/tweets", CreateKind(r.Text), 1); err != nil {
		return xapi.Tweet{}, xapi.RateLimit{}, err
	}
	t, rl, err := x.XClient.CreateTweet(ctx, token, r)
	cap := rl.User24h
	var xe *xapi.Error
	if err != nil && errors.As(err, &xe) {
		cap = xe.RateLimit.User24h
	}
	if cap.Known() {
		// Only shown by `psnd usage`: a failed write is logged, not fatal.
		if werr := x.c.RecordUserCap(context.WithoutCancel(ctx), x.acct, cap.Limit, cap.Remaining, cap.Reset, x.clock.Now()); werr != nil {
			x.log.Warn("could not record X's 24-hour cap", "err", werr)
		}
	}
	return t, rl, err
}

func (x countingX) UserTweets(ctx context.Context, token, userID string, p xapi.UserTweetsParams) (xapi.UserTweetsPage, xapi.RateLimit, error) {
	if err := x.count(ctx, "GET /2/users/:id/tweets", sqlstore.UsageReadRequest, 1); err != nil {
		return xapi.UserTweetsPage{}, xapi.RateLimit{}, err
	}
	page, rl, err := x.XClient.UserTweets(ctx, token, userID, p)
	if n := len(page.Tweets); err == nil && n > 0 {
		if werr := x.add(context.WithoutCancel(ctx), sqlstore.UsageRead, n); werr != nil {
			x.log.Warn("could not count posts read from X", "n", n, "err", werr)
		}
	}
	return page, rl, err
}

func (x countingX) Upload(ctx context.Context, token string, f xapi.MediaFile, progress func(sent, total int64)) (xapi.Media, error) {
	// One upload is one billed unit however many chunks it takes.
	if err := x.count(ctx, "POST /2/media/upload", sqlstore.UsageMediaUpload, 1); err != nil {
		return xapi.Media{}, err
	}
	return x.XClient.Upload(ctx, token, f, progress)
}

func (x countingX) SetAltText(ctx context.Context, token, mediaID, text string) (xapi.RateLimit, error) {
	if err := x.count(ctx, "POST /2/media/metadata", sqlstore.UsageOther, 1); err != nil {
		return xapi.RateLimit{}, err
	}
	return x.XClient.SetAltText(ctx, token, mediaID, text)
}

func (x countingX) DeleteTweet(ctx context.Context, token, id string) (xapi.RateLimit, error) {
	if err := x.count(ctx, "DELETE /2/tweets/:id", sqlstore.UsageOther, 1); err != nil {
		return xapi.RateLimit{}, err
	}
	return x.XClient.DeleteTweet(ctx, token, id)
}

// StoreCounter is a Counter writing through s, each count its own
// committed transaction.
func StoreCounter(s Store) Counter { return storeCounter{s} }

// storeCounter counts through the publisher's store, so counts share its
// write path (and its failures) with the outcomes.
type storeCounter struct{ s Store }

func (c storeCounter) CountXRequest(ctx context.Context, acct string, at time.Time, kind string, n int) error {
	return c.s.Update(ctx, func(tx *sqlstore.Tx) error { return tx.AddUsage(acct, at, kind, n) })
}

func (c storeCounter) RecordUserCap(ctx context.Context, acct string, limit, remaining int, reset, at time.Time) error {
	return c.s.Update(ctx, func(tx *sqlstore.Tx) error { return tx.SetUserCap(acct, limit, remaining, reset, at) })
}

// counterOf is p's counter: the one it was given, else its store.
func (p *publisher) counterOf() Counter {
	if p.counter != nil {
		return p.counter
	}
	return storeCounter{p.store}
}
