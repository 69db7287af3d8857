package publishing

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/pricing"
	"github.com/psnd/psnd/internal/sqlstore"
)

// Budget keeps the month's estimated cost of X within PSN_MONTHLY_BUDGET
// (SPEC §9). The budget is for the whole X app, all accounts together:
// X bills the app. Months are UTC, as the usage counts are.
//
// The scheduler asks it before claiming a post (admit): the month's cost so
// far, the cost still to come of the posts being published and this post's
// cost must stay within the budget, or the post is held (scheduled,
// over_budget) and not sent. The counts come from the durable counter: read
// from the database once a month (at the first round of the month) and
// then kept in step by every request the daemon counts (CountXRequest), so
// that a burst of posts is measured exactly without a query per post. Money
// is kept in units of 1e-5 dollars so that the crossing is exact.
//
// A thread already part-way on X (or a post whose create may have reached
// X) is never held: it is finished, since half a thread is worse than a
// budget overrun of a few cents.
type Budget struct {
	inner Counter

	mu       sync.Mutex
	limit    int64 // in 1e-5 dollars; -1: no budget
	prices   pricing.Table
	month    string         // the UTC month counts are for; "" until loaded
	counts   map[string]int // kind → n this month, every account
	reserved map[int64]int64
	notified map[int64]bool
	// dirty: the budget or the prices changed (or the month turned):
	// held posts are looked at again at the next round.
	dirty bool
	// asked counts the looks asked for (a change of budget or prices),
	// looked those a committed round made; lookedCh is closed and
	// replaced at each such round, for Settle.
	asked, looked uint64
	lookedCh      chan struct{}
	kick          func()
	log           *slog.Logger
}

// NoBudget is the limit of a budget that holds nothing.
const NoBudget = -1.0

// NewBudget returns a budget of usd dollars (NoBudget: none) estimated with
// prices, counting through inner (nil: the scheduler's store).
func NewBudget(usd float64, prices pricing.Table, inner Counter, log *slog.Logger) *Budget {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Budget{inner: inner, limit: units(usd), prices: prices, counts: map[string]int{},
		reserved: map[int64]int64{}, notified: map[int64]bool{}, dirty: true, kick: func() {}, log: log,
		lookedCh: make(chan struct{})}
}

func units(usd float64) int64 {
	if usd < 0 {
		return -1
	}
	return int64(math.Round(usd * 1e5))
}

func dollars(u int64) string {
	return "$" + strconv.FormatFloat(float64(u)/1e5, 'f', -1, 64)
}

// Set changes the budget (NoBudget: none) and has held posts looked at again.
func (b *Budget) Set(usd float64) {
	b.mu.Lock()
	b.limit = units(usd)
	b.dirty = true
	b.asked++
	b.mu.Unlock()
	b.kick()
}

// Settle waits until a scheduler round has looked at the held posts since
// the last change of budget or prices (and committed what it let go), so
// that the command that raised the budget sees them go; ctx bounds it.
func (b *Budget) Settle(ctx context.Context) error {
	b.mu.Lock()
	want := b.asked
	b.mu.Unlock()
	for {
		b.mu.Lock()
		ok, ch := b.looked >= want, b.lookedCh
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// roundDone records that a committed round looked at the held posts as
// of asked.
func (b *Budget) roundDone(asked uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if asked > b.looked {
		b.looked = asked
		close(b.lookedCh)
		b.lookedCh = make(chan struct{})
	}
}

// Limit is the budget in dollars, or NoBudget.
func (b *Budget) Limit() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit < 0 {
		return NoBudget
	}
	return float64(b.limit) / 1e5
}

// SetPrices changes the price table and has held posts looked at again;
// it reports whether the table changed.
func (b *Budget) SetPrices(p pricing.Table) bool {
	b.mu.Lock()
	changed := b.prices != p
	b.prices = p
	b.dirty = b.dirty || changed
	if changed {
		b.asked++
	}
	b.mu.Unlock()
	if changed {
		b.kick()
	}
	return changed
}

// CountXRequest counts through the inner counter, then keeps the month's
// counts in step. Counter.
func (b *Budget) CountXRequest(ctx context.Context, acct string, at time.Time, kind string, n int) error {
	return b.countFor(ctx, 0, acct, at, kind, n)
}

// RecordUserCap passes through. Counter.
func (b *Budget) RecordUserCap(ctx context.Context, acct string, limit, remaining int, reset, at time.Time) error {
	return b.inner.RecordUserCap(ctx, acct, limit, remaining, reset, at)
}

// countFor counts a request made for post id (0: none): what it costs
// moves from the post's reservation to the month's counts at once.
func (b *Budget) countFor(ctx context.Context, id int64, acct string, at time.Time, kind string, n int) error {
	if err := b.inner.CountXRequest(ctx, acct, at, kind, n); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.month == sqlstore.UsageMonth(at) {
		b.counts[kind] += n
	}
	// Only what admit reserved (creates and uploads, PostCost) comes off
	// the reservation: a lookup's reads are spent on top of it.
	if r, ok := b.reserved[id]; ok && id != 0 && kind != sqlstore.UsageRead {
		b.reserved[id] = max(0, r-units(b.price(kind))*int64(n))
	}
	return nil
}

func (b *Budget) price(kind string) float64 {
	switch kind {
	case sqlstore.UsagePost:
		return b.prices.Post
	case sqlstore.UsagePostURL:
		return b.prices.PostWithURL
	case sqlstore.UsageMediaUpload:
		return b.prices.MediaUpload
	case sqlstore.UsageRead:
		return b.prices.Read
	}
	return 0
}

// spentLocked is the month's estimated cost so far, in units.
func (b *Budget) spentLocked() int64 {
	c := b.counts
	return units(b.prices.Cost(c[sqlstore.UsagePost], c[sqlstore.UsagePostURL], c[sqlstore.UsageMediaUpload], c[sqlstore.UsageRead]))
}

// Estimate is the month's estimated cost so far, in dollars, as the budget
// measures it (0 before the scheduler's first round).
func (b *Budget) Estimate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return float64(b.spentLocked()) / 1e5
}

// PostCost is what sending the tweets of p that have no X id yet costs at
// now: each create (dearer with a URL) and each media upload, but for
// media pre-flight already uploaded whose X id will still be good.
func PostCost(p *post.Post, prices pricing.Table, now time.Time) float64 {
	var posts, urls, media int
	for _, t := range p.Tweets {
		if t.PlatformPostID != "" {
			continue
		}
		if CreateKind(t.Text) == sqlstore.UsagePostURL {
			urls++
		} else {
			posts++
		}
		for _, m := range t.Media {
			if !(m.XMediaID != "" && m.MediaExpiresAt != nil && m.MediaExpiresAt.After(now.Add(mediaMargin))) {
				media++
			}
		}
	}
	return prices.Cost(posts, urls, media, 0)
}

// roundStart is called at the start of each scheduler round: it loads the
// month's counts when the month turned (or on the first round) and
// reports whether held posts must be looked at again.
func (b *Budget) roundStart(tx *sqlstore.Tx, now time.Time) (recheck bool, asked uint64, err error) {
	month := sqlstore.UsageMonth(now)
	b.mu.Lock()
	load := month != b.month
	b.mu.Unlock()
	var counts map[string]int
	if load {
		if counts, err = tx.MonthCounts(month); err != nil {
			return false, 0, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if load {
		b.month, b.counts, b.dirty = month, counts, true
	}
	recheck, b.dirty = b.dirty, false
	return recheck, b.asked, nil
}

// Recheck has held posts looked at again at once (SIGHUP).
func (b *Budget) Recheck() {
	b.mu.Lock()
	b.dirty = true
	b.asked++
	b.mu.Unlock()
	b.kick()
}

// redirty asks for another look at held posts (a round that failed).
func (b *Budget) redirty() {
	b.mu.Lock()
	b.dirty = true
	b.mu.Unlock()
}

// active reports whether a budget is set.
func (b *Budget) active() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit >= 0
}

// admit reserves cost for post id if the month stays within the budget
// with it; otherwise it returns the reason to hold the post with. A post
// already started is always admitted.
func (b *Budget) admit(id int64, cost float64, started bool, now time.Time) (ok bool, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := units(cost)
	if started || b.limit < 0 {
		b.reserved[id] = c
		delete(b.notified, id)
		return true, ""
	}
	var pending int64
	for _, r := range b.reserved {
		pending += r
	}
	spent := b.spentLocked() + pending
	if spent+c <= b.limit {
		b.reserved[id] = c
		delete(b.notified, id)
		return true, ""
	}
	return false, b.reasonLocked(spent, c, now)
}

// fits reports whether extra units more fit in the budget (the look at
// held posts, oldest first, adds up what it lets go).
func (b *Budget) fits(extra int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit < 0 {
		return true
	}
	var pending int64
	for _, r := range b.reserved {
		pending += r
	}
	return b.spentLocked()+pending+extra <= b.limit
}

// reasonLocked is the one line a held post shows in fail_reason, and that
// `psnd post --now` and `retry` print: the budget, the month's estimate
// and the post's cost.
func (b *Budget) reasonLocked(spent, cost int64, now time.Time) string {
	if cost > b.limit {
		// No month leaves room for it: do not promise the turn.
		return fmt.Sprintf("held by the monthly budget of %s (PSN_MONTHLY_BUDGET): this post alone costs %s, more than the whole budget; it goes out only when the budget is raised",
			dollars(b.limit), dollars(cost))
	}
	return fmt.Sprintf("held by the monthly budget of %s (PSN_MONTHLY_BUDGET): this month's estimated X cost is %s and this post costs %s; raise the budget, or it goes out when the month turns (%s UTC)",
		dollars(b.limit), dollars(spent), dollars(cost), nextMonth(now).Format("2006-01-02 15:04"))
}

// reason is the hold reason of a post costing c units now.
func (b *Budget) reason(c int64, now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var pending int64
	for _, r := range b.reserved {
		pending += r
	}
	return b.reasonLocked(b.spentLocked()+pending, c, now)
}

// release drops what is left of post id's reservation (its publish ended,
// or it was not claimed after all). Money reserved and not spent may let a
// held post go: they are looked at again at the next round.
func (b *Budget) release(id int64) {
	b.mu.Lock()
	if b.reserved[id] > 0 {
		b.dirty = true
	}
	delete(b.reserved, id)
	b.mu.Unlock()
}

// notify reports whether post id's hold is news (one notice per held post).
func (b *Budget) notify(id int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notified[id] {
		return false
	}
	b.notified[id] = true
	return true
}

// nextMonth is the start of the UTC month after now's: when held posts are
// looked at again without being asked.
func nextMonth(now time.Time) time.Time {
	y, m, _ := now.UTC().Date()
	return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}

func (b *Budget) pricesNow() pricing.Table {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.prices
}
