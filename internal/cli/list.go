package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
)

// listSection is one part of `psnd list`'s default view.
type listSection struct {
	statuses []string
	what     string // for the "more" hint
}

// listSections are the default view's parts, in the daemon's list order.
var listSections = []listSection{
	{[]string{api.StatusFailed, api.StatusRetry, api.StatusPublishing}, "needing attention"},
	{[]string{api.StatusScheduled}, "scheduled"},
	{[]string{api.StatusDraft, api.StatusPublished}, "drafts and published"},
}

// sectionOf is the index in listSections of a status.
func sectionOf(status string) int {
	for i, s := range listSections {
		if slices.Contains(s.statuses, status) {
			return i
		}
	}
	return len(listSections) - 1
}

// postSection is the section a post lists in: a scheduled post pre-flight
// found at risk, or one the monthly budget holds, needs attention (the
// daemon lists it first).
func postSection(p api.Post) int {
	if p.Status == api.StatusScheduled && p.SubStatus != nil &&
		(*p.SubStatus == api.SubAtRisk || *p.SubStatus == api.SubOverBudget) {
		return 0
	}
	return sectionOf(p.Status)
}

// defaultListLimit is how many posts each section of the default view shows.
const defaultListLimit = 20

// screenful is how many table rows are read before the column widths are
// fixed; later rows are printed as they arrive.
const screenful = 50

func newListCmd(env *Env) *cobra.Command {
	var asJSON, all bool
	var status string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List posts: what needs attention, what comes next, the latest",
		Long: `List posts, one line each. By default, in three parts: posts needing
attention (failed, waiting to retry, being published, scheduled but at
risk or held by the monthly budget; oldest first), then the next scheduled
posts (soonest first), then the latest drafts and published posts (newest
first) — at most 20 of each (--limit N), with a line saying how to see the
rest. --all lists every post in the same order; --status lists every post
of those statuses. Long lists print as they arrive.

WHEN is the publish time for a published post, the next attempt for one
waiting to retry, and otherwise the time it is scheduled for, shown in your
time zone (PSN_TZ) with a hint such as "in 2h". A thread shows its first
tweet and how many follow ([+3]).

Statuses: draft, scheduled, publishing, published, failed, retry. A
sub-status in brackets says more: retry_1..retry_3 (which automatic retry is
next), rate_limited (waiting for X's limit to reset), media_uploading,
media_uploaded, thread_partial (a thread stopped part-way; psnd retry
resumes it), at_risk (pre-flight found a problem before the post is due,
such as a login X no longer accepts or a missing media file; the reason
says what to do), over_budget (held by PSN_MONTHLY_BUDGET until it is raised
or the month turns; see psnd usage).

--json prints every post (or those of --status; at most --limit) for
programs, in the same order.`,
		Example: `  psnd list
  psnd list --status failed
  psnd list --all --limit 200
  psnd list --status scheduled --json | jq -r '.[].id'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var statuses []string
			if status != "" {
				for _, s := range strings.Split(status, ",") {
					s = strings.TrimSpace(s)
					if !slices.Contains(api.Statuses, s) {
						return usagef("unknown status %q (want one of %s)", s, strings.Join(api.Statuses, ", "))
					}
					statuses = append(statuses, s)
				}
			}
			if limit < 0 {
				return usagef("--limit must be a positive number, not %d", limit)
			}
			if all && status != "" {
				return usagef("--all lists every status; give --status or --all, not both")
			}
			// The failure notice only where the listing hides failed
			// posts: the default view shows them first.
			hidesFailed := len(statuses) > 0 && !slices.Contains(statuses, api.StatusFailed)
			s, err := connectNotice(cmd.Context(), env, hidesFailed)
			if err != nil {
				return err
			}
			q := apiclient.ListQuery{Statuses: statuses, Limit: limit}
			ctx := cmd.Context()
			if asJSON {
				return listJSON(ctx, env, s.c, q)
			}
			t := newPostTable(env, s.loc)
			if all || len(statuses) > 0 {
				err = listEvery(ctx, s.c, q, t)
			} else {
				if limit == 0 {
					limit = defaultListLimit
				}
				err = listDefault(ctx, s.c, limit, t)
			}
			if err != nil {
				return err
			}
			return t.close()
		},
	}
	jsonFlag(cmd, &asJSON, "the posts (an array)")
	cmd.Flags().BoolVar(&all, "all", false, "list every post")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most N posts (per part of the default view: 20)")
	cmd.Flags().StringVar(&status, "status", "", "only posts with these statuses (comma-separated): draft, scheduled, publishing, published, failed, retry")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(statusCompletions, cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveKeepOrder))
	noFileFlags(cmd, "limit")
	return cmd
}

// listDefault prints the default view: each section's first posts, and a
// hint where a section has more.
func listDefault(ctx context.Context, c *apiclient.Client, limit int, t *postTable) error {
	for _, sec := range listSections {
		for cursor, left := "", limit; left > 0; {
			posts, next, err := c.ListPage(ctx, apiclient.ListQuery{Statuses: sec.statuses, Limit: min(left, api.ListMaxLimit), Cursor: cursor})
			if err != nil {
				return err
			}
			for _, p := range posts {
				t.add(p)
			}
			left -= len(posts)
			if next == "" {
				break
			}
			if left == 0 {
				t.note(fmt.Sprintf("… more %s: psnd list --status %s", sec.what, strings.Join(sec.statuses, ",")))
			}
			cursor = next
		}
	}
	return nil
}

// listEvery prints every post q selects as they arrive.
func listEvery(ctx context.Context, c *apiclient.Client, q apiclient.ListQuery, t *postTable) error {
	return c.EachPost(ctx, q, func(p api.Post) error { return t.add(p) })
}

// listJSON prints the posts q selects as one JSON array. Without a limit
// the daemon's answer is copied as it streams in.
func listJSON(ctx context.Context, env *Env, c *apiclient.Client, q apiclient.ListQuery) error {
	if q.Limit == 0 {
		return copyJSON(env, func(w io.Writer) error { return c.ListPostsJSON(ctx, q, w) })
	}
	w := env.Stdout
	n := 0
	err := c.EachPost(ctx, q, func(p api.Post) error {
		var b []byte
		var err error
		sep := ","
		if env.StdoutIsTerminal {
			b, err = json.MarshalIndent(p, "  ", "  ")
			sep = ",\n  "
		} else {
			b, err = json.Marshal(p)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			sep = "["
			if env.StdoutIsTerminal {
				sep = "[\n  "
			}
		}
		n++
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	end := "]\n"
	switch {
	case n == 0:
		end = "[]\n"
	case env.StdoutIsTerminal:
		end = "\n]\n"
	}
	_, err = io.WriteString(w, end)
	return err
}

// postTable prints posts one line each, in columns. It holds the first
// screenful of lines to size the columns, then prints every further line
// as it comes (a longer cell then just pushes its line out). A blank line
// separates the default view's sections.
type postTable struct {
	env     *Env
	loc     *time.Location
	c       palette
	widths  []int // nil until fixed
	pending []tableLine
	rows    int
	section int
}

type tableLine struct {
	cells  []string // nil for a note
	status string
	note   string
}

func newPostTable(env *Env, loc *time.Location) *postTable {
	return &postTable{env: env, loc: loc, c: stdoutColors(env), section: -1}
}

func (t *postTable) add(p api.Post) error {
	if sec := postSection(p); sec != t.section {
		if t.section >= 0 {
			t.line(tableLine{note: ""})
		}
		t.section = sec
	}
	text := ""
	if len(p.Tweets) > 0 {
		text = truncate(p.Tweets[0].Text, 50)
	}
	if len(p.Tweets) > 1 {
		text += fmt.Sprintf(" [+%d]", len(p.Tweets)-1)
	}
	t.rows++
	return t.line(tableLine{cells: []string{fmt.Sprint(p.ID), statusText(p), postWhen(t.env, t.loc, p, listTime(p)), "@" + p.Account, text}, status: p.Status})
}

// note adds a line of its own (a hint) after the rows so far.
func (t *postTable) note(s string) { t.line(tableLine{note: s}) }

func (t *postTable) line(l tableLine) error {
	if t.widths == nil {
		t.pending = append(t.pending, l)
		if t.rows < screenful {
			return nil
		}
		return t.flush()
	}
	return t.write(l)
}

// flush fixes the column widths from the lines held and prints them.
func (t *postTable) flush() error {
	header := []string{"ID", "STATUS", "WHEN", "ACCOUNT", "TEXT"}
	t.widths = make([]int, len(header))
	for _, l := range append([]tableLine{{cells: header}}, t.pending...) {
		for i, cell := range l.cells {
			t.widths[i] = max(t.widths[i], displayWidth(cell))
		}
	}
	if err := t.write(tableLine{cells: header, status: "header"}); err != nil {
		return err
	}
	for _, l := range t.pending {
		if err := t.write(l); err != nil {
			return err
		}
	}
	t.pending = nil
	return nil
}

// write prints one line: cells two spaces apart, padded by display width
// (CJK and emoji take two columns) outside their colour so escape
// sequences never upset the alignment; the last column is not padded.
func (t *postTable) write(l tableLine) error {
	if l.cells == nil {
		_, err := fmt.Fprintln(t.env.Stdout, l.note)
		return err
	}
	var b strings.Builder
	for ci, cell := range l.cells {
		switch {
		case l.status == "header":
			b.WriteString(t.c.bold(cell))
		case ci == 1:
			b.WriteString(t.c.status(l.status, cell))
		default:
			b.WriteString(cell)
		}
		if ci < len(l.cells)-1 {
			b.WriteString(strings.Repeat(" ", max(t.widths[ci]-displayWidth(cell), 0)+2))
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.env.Stdout, b.String())
	return err
}

// close prints what is still held; "No posts." when there was nothing.
func (t *postTable) close() error {
	if t.rows == 0 {
		_, err := fmt.Fprintln(t.env.Stdout, "No posts.")
		return err
	}
	if t.widths == nil {
		return t.flush()
	}
	return nil
}
