package cli

import (
	"fmt"

	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/pricing"
	"github.com/psnd/psnd/internal/tweettext"
)

// textCost is what creating a text's tweets costs at X's prices (SPEC §9):
// a tweet containing a URL is billed at the dearer rate. --json output of
// check, split and post carries it.
type textCost struct {
	ContainsURL bool    `json:"contains_url"`
	CostUSD     float64 `json:"cost_usd"`
	urls        int     // tweets with a URL
	prices      pricing.Table
}

// costOf prices texts (one per tweet) with the table of $PSN_HOME/prices.json
// (X's published prices without it). A broken prices file is a warning,
// not a failure: the text can still be checked.
func costOf(env *Env, texts []string) textCost {
	prices := pricing.Default
	if cfg, err := config.Load(env.Getenv, env.GOOS); err == nil {
		if p, err := pricing.Load(cfg.Home); err != nil {
			warn(env, err.Error()+"; using X's published prices")
		} else {
			prices = p
		}
	}
	c := textCost{prices: prices}
	for _, t := range texts {
		if len(tweettext.Links(t)) > 0 {
			c.urls++
		}
	}
	c.ContainsURL = c.urls > 0
	c.CostUSD = prices.Cost(len(texts)-c.urls, c.urls, 0, 0)
	return c
}

// notice warns, when a tweet contains a URL, what X charges for it; it
// never blocks posting.
func (c textCost) notice(env *Env, tweets int) {
	if !c.ContainsURL {
		return
	}
	what := "the text contains a URL"
	if tweets > 1 {
		what = fmt.Sprintf("%d of %d tweets contain a URL", c.urls, tweets)
	}
	warn(env, fmt.Sprintf("%s: X bills a post with a URL $%g instead of $%g; estimated cost $%g (psnd usage shows the month)",
		what, c.prices.PostWithURL, c.prices.Post, c.CostUSD))
}
