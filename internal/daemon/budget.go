package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/pricing"
	"github.com/psnd/psnd/internal/publishing"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// budgetKeeper is the daemon's monthly budget (SPEC §9) and where it comes
// from. A running daemon's environment cannot change, so the rule is:
//   - at start, the daemon's own PSN_MONTHLY_BUDGET wins when set; else
//     the last value a user gave (kept in the settings table);
//   - any psnd command run with PSN_MONTHLY_BUDGET set carries it to the
//     daemon (api.BudgetHeader); a changed value is adopted, logged and
//     kept, and held posts are looked at again at once;
//   - "none" removes the budget;
//   - SIGHUP re-reads $PSN_HOME/prices.json and looks at held posts again;
//     so does `psnd usage` when the file changed, so that the cost it
//     shows is the one the budget measures.
type budgetKeeper struct {
	d *Daemon
	b *publishing.Budget

	mu    sync.Mutex
	value string // "", "none", or dollars: what is in force
}

// setupBudget builds the budget from the environment and the settings.
func (d *Daemon) setupBudget(ctx context.Context) (*budgetKeeper, error) {
	prices, err := pricing.Load(d.cfg.Env.Home)
	if err != nil {
		d.log.Warn("price file unreadable; using X's published prices", "err", err)
	}
	var stored string
	if err := d.store.View(ctx, func(tx *sqlstore.Tx) error {
		stored, err = tx.MonthlyBudget()
		return err
	}); err != nil {
		return nil, err
	}
	value := stored
	if env := d.cfg.Env.Budget; env != "" && env != stored {
		value = env
		if err := d.store.Update(ctx, func(tx *sqlstore.Tx) error { return tx.SetMonthlyBudget(env, d.clock.Now()) }); err != nil {
			return nil, err
		}
	}
	usd, err := budgetUSD(value)
	if err != nil {
		// A stored value this build cannot read: no budget, said loudly.
		d.log.Error("stored monthly budget unreadable; none in force", "value", value, "err", err)
		usd = publishing.NoBudget
	}
	if usd >= 0 {
		d.log.Info("monthly budget in force", "usd", usd)
	}
	return &budgetKeeper{d: d, value: value, b: publishing.NewBudget(usd, prices, publishing.StoreCounter(d.store), d.log)}, nil
}

func budgetUSD(v string) (float64, error) {
	if v == "" {
		return publishing.NoBudget, nil
	}
	_, usd, err := config.ParseBudget(v)
	if err != nil {
		return 0, err
	}
	if usd < 0 {
		return publishing.NoBudget, nil
	}
	return usd, nil
}

// Adopt takes the budget a command brought (api.BudgetHeader).
func (k *budgetKeeper) Adopt(ctx context.Context, raw string) error {
	canon, usd, err := config.ParseBudget(raw)
	if err != nil {
		return err
	}
	k.mu.Lock()
	changed, err := k.adoptLocked(ctx, canon, usd)
	k.mu.Unlock()
	if err != nil || !changed {
		return err
	}
	// Answer once the held posts were looked at, so that the command
	// that raised the budget does not report them still held. A scheduler
	// that cannot run now (a locked keyring) only delays the answer.
	wctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	if err := k.b.Settle(wctx); err != nil {
		k.d.log.Debug("held posts not looked at yet", "err", err)
	}
	return nil
}

// settleWait bounds how long a command that changed the budget waits for
// the held posts to be looked at.
const settleWait = 3 * time.Second

func (k *budgetKeeper) adoptLocked(ctx context.Context, canon string, usd float64) (bool, error) {
	if canon == k.value || (canon == config.NoBudget && k.value == "") {
		return false, nil
	}
	if err := k.d.store.Update(context.WithoutCancel(ctx), func(tx *sqlstore.Tx) error {
		return tx.SetMonthlyBudget(canon, k.d.clock.Now())
	}); err != nil {
		return false, fmt.Errorf("save monthly budget: %w", err)
	}
	k.d.log.Info("monthly budget changed by a psnd command", "from", orNone(k.value), "to", canon)
	k.value = canon
	if usd < 0 {
		usd = publishing.NoBudget
	}
	k.b.Set(usd)
	return true, nil
}

func orNone(v string) string {
	if v == "" {
		return config.NoBudget
	}
	return v
}

// Budget is the budget in force in dollars; ok false when none.
func (k *budgetKeeper) Budget() (usd float64, ok bool) {
	l := k.b.Limit()
	return l, l >= 0
}

// Estimate is the month's estimated cost as the budget measures it.
func (k *budgetKeeper) Estimate() float64 { return k.b.Estimate() }

// UsePrices takes the prices `psnd usage` read (localapi.Budget).
func (k *budgetKeeper) UsePrices(p pricing.Table) {
	if k.b.SetPrices(p) {
		k.d.log.Info("prices re-read by psnd usage; looking at held posts again", "as_of", p.AsOf, "source", p.Source)
	}
}

// reload is SIGHUP: the price file is read again and held posts are looked
// at again.
func (k *budgetKeeper) reload() {
	prices, err := pricing.Load(k.d.cfg.Env.Home)
	if err != nil {
		k.d.log.Warn("SIGHUP: price file unreadable; keeping the prices in use", "err", err)
		return
	}
	k.d.log.Info("SIGHUP: prices re-read; looking at held posts again", "as_of", prices.AsOf, "source", prices.Source)
	if !k.b.SetPrices(prices) {
		k.b.Recheck()
	}
}

// countingMe counts GET /2/users/me (login, verify, the profile refresh
// after each token refresh) like every other request to X: before it is
// sent when the caller named the account (oauth.WithAccount), else — a
// login, whose account X names in the answer — once answered.
type countingMe struct {
	x oauth.Identifier
	c publishing.Counter
	d *Daemon
}

func (m countingMe) Me(ctx context.Context, token string) (xapi.User, xapi.RateLimit, error) {
	acct := oauth.AccountOf(ctx)
	if acct != "" {
		if err := m.c.CountXRequest(ctx, acct, m.d.clock.Now(), sqlstore.UsageOther, 1); err != nil {
			return xapi.User{}, xapi.RateLimit{}, &xapi.NetError{Op: "GET /2/users/me", Sent: false, Err: err}
		}
	}
	u, rl, err := m.x.Me(ctx, token)
	if acct == "" && err == nil && u.ID != "" {
		if cerr := m.c.CountXRequest(context.WithoutCancel(ctx), u.ID, m.d.clock.Now(), sqlstore.UsageOther, 1); cerr != nil {
			m.d.log.Warn("could not count GET /2/users/me", "err", cerr)
		}
	}
	return u, rl, err
}

// countingDelete counts the remote deletes of `psnd delete`.
type countingDelete struct {
	x publishing.XClient
	c publishing.Counter
	d *Daemon
}

func (c countingDelete) DeleteTweet(ctx context.Context, acct, token, id string) (xapi.RateLimit, error) {
	if err := c.c.CountXRequest(ctx, acct, c.d.clock.Now(), sqlstore.UsageOther, 1); err != nil {
		return xapi.RateLimit{}, &xapi.NetError{Op: "DELETE /2/tweets/:id", Sent: false, Err: err}
	}
	return c.x.DeleteTweet(ctx, token, id)
}
