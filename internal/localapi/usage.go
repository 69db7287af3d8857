package localapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/pricing"
	"github.com/psnd/psnd/internal/sqlstore"
)

// handleUsage answers `psnd usage`: the month's counted requests to X per
// account, their estimated cost with the price table (re-read from
// $PSN_HOME/prices.json on every request, so an edit needs no restart),
// and the 24-hour caps X reported last. The budget takes the same table,
// so that the month's cost shown is the one it measures.
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	month := r.URL.Query().Get("month")
	if month == "" {
		month = sqlstore.UsageMonth(s.clock.Now())
	} else if t, err := time.Parse("2006-01", month); err != nil || t.Format("2006-01") != month {
		writeError(w, badRequest(fmt.Sprintf("month must be YYYY-MM, like 2026-04, not %q", month)))
		return
	}
	prices, err := pricing.Load(s.cfg.Env.Home)
	if err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	if s.cfg.Budget != nil {
		s.cfg.Budget.UsePrices(prices)
	}
	var rows []sqlstore.AccountUsage
	var held int
	if err := s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		var err error
		if rows, err = tx.Usage(month); err != nil {
			return err
		}
		held, err = tx.CountHeldOverBudget()
		return err
	}); err != nil {
		s.fail(w, "read usage", err)
		return
	}
	out := api.Usage{Month: month, Accounts: []api.AccountUsage{}, Prices: api.Prices(prices),
		BudgetUSD: s.budgetUSD(), HeldOverBudget: held}
	var all [4]int
	for _, u := range rows {
		c := u.Counts
		a := api.AccountUsage{
			Account: u.Username, Posts: c[sqlstore.UsagePost], PostsWithURL: c[sqlstore.UsagePostURL],
			MediaUploads: c[sqlstore.UsageMediaUpload], Reads: c[sqlstore.UsageRead],
			ReadRequests: c[sqlstore.UsageReadRequest], OtherRequests: c[sqlstore.UsageOther],
		}
		if a.Account == "" {
			a.Account = u.AccountID
		}
		a.CostUSD = prices.Cost(a.Posts, a.PostsWithURL, a.MediaUploads, a.Reads)
		all[0], all[1], all[2], all[3] = all[0]+a.Posts, all[1]+a.PostsWithURL, all[2]+a.MediaUploads, all[3]+a.Reads
		if u.Cap != nil {
			a.User24hLimit, a.User24hRemaining = &u.Cap.Limit, &u.Cap.Remaining
			if u.Cap.Reset != nil {
				at := u.Cap.Reset.UTC().Format(time.RFC3339)
				a.User24hReset = &at
			}
		}
		out.Accounts = append(out.Accounts, a)
	}
	out.CostUSD = prices.Cost(all[0], all[1], all[2], all[3])
	writeJSON(w, http.StatusOK, out)
}
