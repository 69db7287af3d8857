package daemon

import (
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
// into tweets: at lines holding only "---" always, and automatically when
// thread is set. Without thread, a part over the limit is an error that
// suggests --thread.
func compose(text string, explicit []string, thread, number bool, max int) (composed, error) {
	var parts []string
	switch {
	case len(explicit) > 0:
		if text != "" {
			return composed{}, &invalidText{"give either text or tweets, not both"}
		}
		parts = explicit
	default:
		parts = splitMarkers(text)
	}
	if thread {
		res, err := splitThread(strings.Join(parts, "\n---\n"), max, number)
		if err != nil {
			return composed{}, &invalidText{err.Error()}
		}
		return res, checkAll(res, max)
	}
	out := composed{tweets: parts}
	if number && len(parts) > 1 {
		for i := range out.tweets {
			out.tweets[i] = fmt.Sprintf("%s %d/%d", strings.TrimRight(out.tweets[i], " \t\n"), i+1, len(parts))
		}
	}
	return out, checkAll(out, max)
}

// checkAll validates each tweet and gathers the soft warnings.
func checkAll(c composed, max int) error {
	if len(c.tweets) == 0 {
		return &invalidText{"the post is empty"}
	}
	for i, t := range c.tweets {
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

// splitMarkers splits text at lines holding only "---" (SPEC §5).
func splitMarkers(text string) []string {
	lines := strings.Split(text, "\n")
	var parts []string
	var cur []string
	for _, l := range lines {
		if strings.TrimSpace(l) == "---" {
			parts = append(parts, strings.TrimSpace(strings.Join(cur, "\n")))
			cur = cur[:0]
			continue
		}
		cur = append(cur, l)
	}
	parts = append(parts, strings.TrimSpace(strings.Join(cur, "\n")))
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkText validates one tweet: its errors (it cannot be posted) and its
// warnings (it can, but look again).
func checkText(t string, max int) (errs, warnings []string) {
	r := tweettext.Check(t, tweettext.CheckOptions{MaxLength: max})
	return r.Errors, r.Warnings
}

// splitThread splits text into a thread (see tweettext.Split).
func splitThread(text string, max int, number bool) (composed, error) {
	res, err := tweettext.Split(text, tweettext.SplitOptions{MaxLength: max, Number: number})
	if err != nil {
		return composed{}, err
	}
	out := composed{warnings: res.Warnings}
	for _, t := range res.Tweets {
		out.tweets = append(out.tweets, t.Text)
	}
	return out, nil
}
