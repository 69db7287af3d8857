package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/when"
)

// fmtWhen shows a time in the user's zone with a relative hint:
// "2026-11-27 10:30 CET (in 2h)"; "-" when there is none.
func fmtWhen(env *Env, loc *time.Location, t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when.Format(*t, env.now(), loc)
}

// postWhen is fmtWhen for one of a post's times. A draft (a cancelled post
// keeps its time) says it is not scheduled instead of "in 25h", which
// read as if cancelling had not worked.
func postWhen(env *Env, loc *time.Location, p api.Post, t *time.Time) string {
	if p.Status == api.StatusDraft && t != nil {
		return t.In(loc).Format("2006-01-02 15:04 MST") + " (not scheduled)"
	}
	return fmtWhen(env, loc, t)
}

// statusText is a post's status with its sub-status: "retry (rate_limited)".
func statusText(p api.Post) string {
	if p.SubStatus != nil {
		return p.Status + " (" + *p.SubStatus + ")"
	}
	return p.Status
}

// listTime is the time that matters for a post in a list: when it was
// published, when it will be retried, else when it is (or was) due.
func listTime(p api.Post) *time.Time {
	switch {
	case p.PublishedAt != nil:
		return p.PublishedAt
	case p.Status == api.StatusRetry && p.NextRetryAt != nil:
		return p.NextRetryAt
	}
	return p.ScheduledAt
}

func printPost(env *Env, loc *time.Location, p api.Post) error {
	w := env.Stdout
	c := stdoutColors(env)
	fmt.Fprintf(w, "%s by @%s\n", c.bold(fmt.Sprintf("Post %d", p.ID)), p.Account)
	fmt.Fprintf(w, "  status:     %s\n", c.status(p.Status, statusText(p)))
	label := "scheduled: "
	if p.Status == api.StatusDraft && p.ScheduledAt != nil {
		label = "time:      "
	}
	fmt.Fprintf(w, "  %s %s\n", label, postWhen(env, loc, p, p.ScheduledAt))
	if p.PublishedAt != nil {
		fmt.Fprintf(w, "  published:  %s\n", fmtWhen(env, loc, p.PublishedAt))
	}
	if p.NextRetryAt != nil {
		fmt.Fprintf(w, "  next retry: %s\n", fmtWhen(env, loc, p.NextRetryAt))
	}
	if p.Attempts > 0 {
		fmt.Fprintf(w, "  attempts:   %d\n", p.Attempts)
	}
	if p.FailReason != nil {
		fmt.Fprintf(w, "  reason:     %s\n", c.red(*p.FailReason))
	}
	if p.Status == api.StatusPublished && len(p.PlatformPostIDs) > 0 {
		fmt.Fprintf(w, "  on X:       https://x.com/%s/status/%s\n", p.Account, p.PlatformPostIDs[0])
	}
	n := len(p.Tweets)
	for _, t := range p.Tweets {
		id := "not posted"
		if t.PlatformPostID != nil {
			id = "x id " + *t.PlatformPostID
		}
		fmt.Fprintf(w, "\n  [%d/%d] %s, %s\n", t.Position+1, n, c.status(t.Status, t.Status), id)
		for _, line := range strings.Split(t.Text, "\n") {
			if line == "" {
				fmt.Fprintln(w)
				continue
			}
			fmt.Fprintf(w, "    %s\n", line)
		}
		for _, m := range t.Media {
			fmt.Fprintf(w, "    media: %s (%s)", m.Path, m.MimeType)
			if m.AltText != "" {
				fmt.Fprintf(w, " alt: %q", m.AltText)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}
