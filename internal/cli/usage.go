package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
)

func newUsageCmd(env *Env) *cobra.Command {
	var asJSON bool
	var month string
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show requests sent to X, their estimated cost and X's 24-hour caps",
		Long: `Show, per account, what psnd sent to X in a month (UTC): posts, posts
containing a URL (X bills them at a dearer rate), media uploads and reads (the
posts X returned when psnd looked up a post whose answer was lost, or that X
called a duplicate; X bills reads per post returned), with the estimated cost
in US dollars, and the 24-hour user cap X reported last (limit, remaining,
reset).

The cost is an estimate from a price table that names its date and source.
To use other prices, write $PSN_HOME/prices.json with any of post_usd,
post_with_url_usd, media_upload_usd, read_usd, as_of and source; it is read
on every request.

Every request is counted before it is sent, so a request whose answer never
came counts too.

PSN_MONTHLY_BUDGET (US dollars, for all accounts together, "none" for no
budget) holds a post that would take the month's estimated cost past it: it
stays scheduled with sub-status over_budget and goes out when the budget is
raised or the UTC month turns. A thread already part-way on X is finished.
The daemon takes the budget from its own environment at start, else the last
value given; any psnd command run with PSN_MONTHLY_BUDGET set brings that
value to the running daemon, which keeps it and looks at held posts again
(PSN_MONTHLY_BUDGET=8 psnd usage). SIGHUP makes the daemon re-read
$PSN_HOME/prices.json and look at held posts again.`,
		Example: `  psnd usage
  psnd usage --month 2026-04
  psnd usage --json | jq '.accounts[] | {account, cost_usd}'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if month != "" {
				if t, err := time.Parse("2006-01", month); err != nil || t.Format("2006-01") != month {
					return usagef("--month must be YYYY-MM, like 2026-04, not %q", month)
				}
			}
			s, err := connectNotice(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			u, err := s.c.Usage(cmd.Context(), month)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, u)
			}
			printUsage(env, s.loc, u)
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the counts, costs and caps")
	cmd.Flags().StringVar(&month, "month", "", "the month, YYYY-MM in UTC (default: this month)")
	noFileFlags(cmd, "month")
	return cmd
}

// printUsage prints the usage as a table, then the prices it used.
func printUsage(env *Env, loc *time.Location, u api.Usage) {
	out := env.Stdout
	fmt.Fprintf(out, "X usage in %s (UTC)\n", u.Month)
	if len(u.Accounts) == 0 {
		fmt.Fprintln(out, "No accounts and no requests.")
	} else {
		rows := [][]string{{"ACCOUNT", "POSTS", "WITH URL", "MEDIA", "READS", "COST", "24H CAP"}}
		for _, a := range u.Accounts {
			rows = append(rows, []string{"@" + a.Account, strconv.Itoa(a.Posts), strconv.Itoa(a.PostsWithURL),
				strconv.Itoa(a.MediaUploads), strconv.Itoa(a.Reads), fmt.Sprintf("$%.4f", a.CostUSD), capText(env, loc, a)})
		}
		widths := make([]int, len(rows[0]))
		for _, r := range rows {
			for i, c := range r {
				widths[i] = max(widths[i], displayWidth(c))
			}
		}
		col := stdoutColors(env)
		for k, r := range rows {
			var b strings.Builder
			for i, c := range r {
				if i < len(r)-1 {
					c = padRight(c, widths[i]+2)
				}
				b.WriteString(c)
			}
			line := b.String()
			if k == 0 {
				line = col.bold(line)
			}
			fmt.Fprintln(out, line)
		}
	}
	col := stdoutColors(env)
	switch {
	case u.Month != env.now().UTC().Format("2006-01"):
		// The budget is this month's; another month's bill stands alone.
	case u.BudgetUSD != nil:
		line := fmt.Sprintf("Monthly budget $%g (all accounts): estimated $%.4f so far, $%.4f left.", *u.BudgetUSD, u.CostUSD, max(0, *u.BudgetUSD-u.CostUSD))
		if u.HeldOverBudget > 0 {
			line += fmt.Sprintf(" %s held until it is raised or the month turns.", plural(u.HeldOverBudget, "post", "posts"))
			line = col.yellow(line)
		}
		fmt.Fprintln(out, line)
	default:
		fmt.Fprintln(out, col.dim("No monthly budget (set PSN_MONTHLY_BUDGET to hold posts past one)."))
	}
	p := u.Prices
	fmt.Fprintln(out, col.dim(fmt.Sprintf("Prices as of %s (%s): post $%g, with a URL $%g, media upload $%g, read $%g per post returned.",
		p.AsOf, p.Source, p.Post, p.PostWithURL, p.MediaUpload, p.Read)))
	if p.Note != "" {
		fmt.Fprintln(out, col.dim(fmt.Sprintf("Note: %s.", p.Note)))
	}
}

// capText is the 24-hour cap X reported last: "97/100 left, resets ...".
func capText(env *Env, loc *time.Location, a api.AccountUsage) string {
	if a.User24hLimit == nil || a.User24hRemaining == nil {
		return "not reported"
	}
	s := fmt.Sprintf("%d/%d left", *a.User24hRemaining, *a.User24hLimit)
	if a.User24hReset != nil {
		if t, err := time.Parse(time.RFC3339, *a.User24hReset); err == nil {
			if !t.After(env.now()) {
				// X reports the cap only on a create: a "0/100 left" whose
				// reset has passed is no longer the case, and reading it as
				// such would make the user wait for nothing.
				return s + " before its reset " + fmtWhen(env, loc, &t) + "; full again since"
			}
			s += ", resets " + fmtWhen(env, loc, &t)
		}
	}
	return s
}
