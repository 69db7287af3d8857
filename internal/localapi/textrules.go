package localapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/psnd/psnd/internal/tweettext"
)

// composed is the result of turning a user's text into tweets.
type composed struct {
	tweets   []string
	warnings []string
}

// invalidText is a validation failure: one line for the user.
type invalidText struct{ msg string }

func (e *invalidText) Error() string { return e.msg }

// compose validates a post's text against the account's limit and splits it
// into tweets with tweettext.Compose, the same code `psnd split` previews
// with: at lines holding only "---" always, and automatically when thread is
// set. Without thread, a part over the limit is an error that suggests
// --thread. media says the first tweet carries media, which may then have
// no text.
func compose(text string, explicit []string, thread, number, media bool, max int) (composed, error) {
	opts := tweettext.ComposeOptions{MaxLength: max, Thread: thread, Number: number, Media: media}
	var res tweettext.SplitResult
	var err error
	if len(explicit) > 0 {
		if text != "" {
			return composed{}, &invalidText{"give either text or tweets, not both"}
		}
		res, err = tweettext.ComposeTweets(explicit, opts)
	} else {
		res, err = tweettext.Compose(text, opts)
	}
	if errors.Is(err, tweettext.ErrEmpty) && len(explicit) == 0 {
		return composed{}, &invalidText{"the post is empty: give a text, or media to post without one"}
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "split: ")
		msg = strings.TrimSuffix(msg, ": "+tweettext.ErrEmpty.Error())
		return composed{}, &invalidText{msg}
	}
	out := composed{warnings: res.Warnings}
	for _, t := range res.Tweets {
		out.tweets = append(out.tweets, t.Text)
	}
	return out, checkAll(out, max)
}

// checkAll validates each tweet and gathers the soft warnings. An empty
// tweet is one compose allowed: media without text.
func checkAll(c composed, max int) error {
	if len(c.tweets) == 0 {
		return &invalidText{"the post is empty"}
	}
	for i, t := range c.tweets {
		if t == "" {
			continue
		}
		if errs, _ := checkText(t, max); len(errs) > 0 {
			msg := strings.Join(errs, "; ")
			if len(c.tweets) > 1 {
				msg = fmt.Sprintf("tweet %d/%d: %s", i+1, len(c.tweets), msg)
			}
			return &invalidText{msg}
		}
	}
	return nil
}

// warnings collects the soft warnings of every tweet.
func (c *composed) collectWarnings(max int) {
	seen := map[string]bool{}
	for _, w := range c.warnings {
		seen[w] = true
	}
	for i, t := range c.tweets {
		if t == "" {
			continue
		}
		_, ws := checkText(t, max)
		for _, w := range ws {
			if len(c.tweets) > 1 {
				w = fmt.Sprintf("tweet %d/%d: %s", i+1, len(c.tweets), w)
			}
			if !seen[w] {
				seen[w] = true
				c.warnings = append(c.warnings, w)
			}
		}
	}
}

// checkText validates one tweet: its errors (it cannot be posted) and its
// warnings (it can, but look again).
func checkText(t string, max int) (errs, warnings []string) {
	r := tweettext.Check(t, tweettext.CheckOptions{MaxLength: max})
	return r.Errors, r.Warnings
}
