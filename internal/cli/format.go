package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/when"
)

func fmtWhen(loc *time.Location, t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when.Format(*t, time.Now(), loc)
}

func printPostTable(env *Env, loc *time.Location, posts []api.Post) error {
	if len(posts) == 0 {
		fmt.Fprintln(env.Stdout, "No posts.")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tWHEN\tACCOUNT\tTEXT")
	for _, p := range posts {
		status := p.Status
		if p.SubStatus != nil {
			status += " (" + *p.SubStatus + ")"
		}
		when := p.ScheduledAt
		if p.PublishedAt != nil {
			when = p.PublishedAt
		}
		text := ""
		if len(p.Tweets) > 0 {
			text = truncate(p.Tweets[0].Text, 50)
		}
		if len(p.Tweets) > 1 {
			text += fmt.Sprintf(" [+%d]", len(p.Tweets)-1)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, status, fmtWhen(loc, when), "@"+p.Account, text)
	}
	return tw.Flush()
}

func printPost(env *Env, loc *time.Location, p api.Post) error {
	w := env.Stdout
	fmt.Fprintf(w, "Post %d by @%s\n", p.ID, p.Account)
	status := p.Status
	if p.SubStatus != nil {
		status += " (" + *p.SubStatus + ")"
	}
	fmt.Fprintf(w, "  status:     %s\n", status)
	fmt.Fprintf(w, "  scheduled:  %s\n", fmtWhen(loc, p.ScheduledAt))
	if p.PublishedAt != nil {
		fmt.Fprintf(w, "  published:  %s\n", fmtWhen(loc, p.PublishedAt))
	}
	if p.NextRetryAt != nil {
		fmt.Fprintf(w, "  next retry: %s\n", fmtWhen(loc, p.NextRetryAt))
	}
	if p.FailReason != nil {
		fmt.Fprintf(w, "  reason:     %s\n", *p.FailReason)
	}
	n := len(p.Tweets)
	for _, t := range p.Tweets {
		id := "not posted"
		if t.PlatformPostID != nil {
			id = "x id " + *t.PlatformPostID
		}
		fmt.Fprintf(w, "\n  [%d/%d] %s, %s\n", t.Position+1, n, t.Status, id)
		for _, line := range strings.Split(t.Text, "\n") {
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

// truncate shortens s to n runes on one line.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
