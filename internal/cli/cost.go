package cli

import (
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
	prices := loadPrices(env, func(msg string) { warn(env, msg) })
	c := textCost{prices: prices, urls: tweettext.TweetsWithLinks(texts)}
	c.ContainsURL = c.urls > 0
	c.CostUSD = prices.Cost(len(texts)-c.urls, c.urls, 0, 0)
	return c
}

// notice warns, when a tweet contains a URL, what X charges for it; it
// never blocks posting.
func (c textCost) notice(env *Env, tweets int) {
	if msg := c.prices.URLNotice(c.urls, tweets); msg != "" {
		warn(env, msg)
	}
}

// loadPrices is the table of $PSN_HOME/prices.json, else X's published one;
// a broken file is told to warnf and X's prices are used.
func loadPrices(env *Env, warnf func(string)) pricing.Table {
	cfg, err := config.Load(env.Getenv, env.GOOS)
	if err != nil {
		return pricing.Default
	}
	p, err := pricing.Load(cfg.Home)
	if err != nil {
		warnf(err.Error() + "; using X's published prices")
		return pricing.Default
	}
	return p
}
