package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/when"
)

// readText returns the post text from the argument, or stdin for "-" (or
// no argument when stdin is not a terminal).
func readText(env *Env, args []string) (string, error) {
	if len(args) > 1 {
		return "", usagef("give the text as one argument (quote it) or on stdin with -")
	}
	if len(args) == 1 && args[0] != "-" {
		return args[0], validUTF8(args[0])
	}
	if len(args) == 0 && env.StdinIsTerminal {
		return "", usagef("give the text as an argument, or pipe it in with -")
	}
	b, err := io.ReadAll(io.LimitReader(env.Stdin, 10<<20+1))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if len(b) > 10<<20 {
		return "", errors.New("text on stdin is larger than 10 MB")
	}
	if !utf8.Valid(b) {
		return "", exitError{ExitInvalidText, errors.New("text on stdin is not valid UTF-8")}
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// validUTF8 refuses text that is not UTF-8 before it is sent: encoding it
// as JSON would silently turn the bad bytes into U+FFFD.
func validUTF8(text string) error {
	if !utf8.ValidString(text) {
		return exitError{ExitInvalidText, errors.New("the text is not valid UTF-8")}
	}
	return nil
}

type postFlags struct {
	at, account          string
	now, draft, thread   bool
	queue                bool
	number, asJSON, wait bool
	media, alt           []string
}

func newPostCmd(env *Env) *cobra.Command {
	var f postFlags
	cmd := &cobra.Command{
		Use:   "post [TEXT | -]",
		Short: "Create a post or thread and schedule it",
		Long: `Create a post (or a thread) and schedule it. Say when with --at, --now, --queue
(the account's next free queue slot: see psnd slots) or --draft.

Without TEXT on a terminal, psnd opens your editor ($VISUAL, else $EDITOR,
else vi, as git does) on a template: write the post above the scissors line
(lines starting with # are text too), save and quit. psnd shows each tweet
with its count and creates the post; a text that cannot be posted reopens
the editor with the errors at the top, and saving no text aborts. Without a
terminal, the text is read from stdin instead.

A line holding only --- splits the text into a thread's tweets; with --thread,
parts too long for one tweet are split automatically at paragraph, sentence and
word boundaries. --number appends " 1/3" and so on to a post of two or more
tweets (one tweet gets no number). Media (up to 4 images, or 1 GIF, or 1 video)
attach to the first tweet, which may then have no text (post "" --media ...);
--alt gives alt texts in the same order. The text is checked against X's rules
before anything is stored; psnd split previews exactly the tweets stored.
A tweet containing a URL gets a warning with what X charges for it (--json:
contains_url and cost_usd, the estimated cost of all the tweets; see psnd usage).

Times are read in your time zone (PSN_TZ, else the daemon's PSN_TZ, else the
system's): RFC 3339, "2026-11-27 09:30", "09:30" (the next one), or "+90m",
"+2h", "+1d". With --now psnd publishes at once and waits to show the result.`,
		Example: `  psnd post "Hello, X" --now
  psnd post --at 09:30              # write it in your editor
  psnd post "Launch day!" --at "2026-12-01 09:00"
  psnd post --thread --number --at +2h - < thread.txt
  psnd post "Look" --media photo.jpg --alt "A red kite over the hills" --at 18:00
  psnd post "Tip of the day" --queue`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPost(cmd.Context(), env, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.at, "at", "", atUsage("when to publish"))
	fl.BoolVar(&f.now, "now", false, "publish now")
	fl.BoolVar(&f.draft, "draft", false, "save as a draft without scheduling")
	fl.BoolVar(&f.queue, "queue", false, "schedule into the account's next free queue slot (see psnd slots)")
	fl.BoolVar(&f.thread, "thread", false, "split text too long for one tweet into a thread")
	fl.BoolVar(&f.number, "number", false, "number the tweets of a thread (1/n); a single tweet gets no number")
	fl.StringArrayVar(&f.media, "media", nil, "attach a file (repeatable)")
	fl.StringArrayVar(&f.alt, "alt", nil, "alt text for the media, in order (repeatable)")
	fl.StringVar(&f.account, "account", "", "post as this account, a username or X id (default: the default account)")
	jsonFlag(cmd, &f.asJSON, "the post")
	fl.BoolVar(&f.wait, "wait", true, "with --now, wait for the result (--wait=false returns at once)")
	_ = cmd.RegisterFlagCompletionFunc("account", completeAccounts(env))
	noFileFlags(cmd, "at", "alt")
	return cmd
}

func runPost(ctx context.Context, env *Env, f postFlags, args []string) error {
	if f.queue && (f.at != "" || f.now || f.draft) {
		return usagef("--queue goes alone: not with --at, --now or --draft")
	}
	n := 0
	for _, b := range []bool{f.at != "", f.now, f.draft && f.at == "", f.queue} {
		if b {
			n++
		}
	}
	if f.now && f.at != "" || f.now && f.draft {
		return usagef("--now goes alone: not with --at or --draft")
	}
	if n == 0 {
		return usagef("say when to publish: --at WHEN, --now, --queue, or --draft")
	}
	if len(f.alt) > len(f.media) {
		return usagef("%s for %s: give one --alt per --media file, in the same order",
			plural(len(f.alt), "--alt text", "--alt texts"), plural(len(f.media), "--media file", "--media files"))
	}
	// No text on a terminal: write it in the editor (SPEC §8). Anywhere
	// else the text comes from the argument or stdin, as it always did.
	editing := len(args) == 0 && useEditor(env)
	var text string
	if !editing {
		t, err := readText(env, args)
		if err != nil {
			return err
		}
		text = t
	}
	s, err := connect(ctx, env)
	if err != nil {
		return err
	}
	req := api.CreatePost{Text: text, Thread: f.thread, Number: f.number, Now: f.now, Draft: f.draft, Queue: f.queue, Account: f.account}
	if f.at != "" {
		t, err := parseAt(env, s.loc, f.at)
		if err != nil {
			return err
		}
		req.At = &t
	}
	for i, m := range f.media {
		abs, err := filepath.Abs(m)
		if err != nil {
			return err
		}
		in := api.MediaInput{Path: abs}
		if i < len(f.alt) {
			in.AltText = f.alt[i]
		}
		req.Media = append(req.Media, in)
	}
	var p api.Post
	if editing {
		p, err = s.composePost(ctx, env, f, req)
	} else {
		p, err = s.c.CreatePost(ctx, req)
	}
	if err != nil {
		return err
	}
	for _, w := range p.Warnings {
		warn(env, w)
	}
	texts := make([]string, len(p.Tweets))
	for i, tw := range p.Tweets {
		texts[i] = tw.Text
	}
	cost := costOf(env, texts)
	if !f.asJSON {
		cost.notice(env, len(texts))
	}
	if f.now && f.wait {
		p, err = s.waitSettled(ctx, env, p)
		if err != nil {
			return err
		}
	}
	return s.reportAs(env, p, struct {
		api.Post
		textCost
	}{p, cost}, f.asJSON, f.now)
}

// atUsage describes --at on its own line of help, complete in itself.
func atUsage(what string) string {
	return what + `, in your time zone: "2026-12-01 09:00", "09:30" (the next one), "+90m", "+2h", "+1d" or RFC 3339`
}

// pastGrace matches the daemon's tolerance for a time a little in the past.
const pastGrace = time.Minute

// parseAt reads --at in the user's zone and refuses a time in the past
// before asking the daemon, so that the error shows the time as the user
// wrote it, in their zone, and names the flag to use instead.
func parseAt(env *Env, loc *time.Location, at string) (time.Time, error) {
	now := env.now()
	t, err := when.Parse(at, now, loc)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("--at: %w", err)}
	}
	if t.Before(now.Add(-pastGrace)) {
		return time.Time{}, usagef("--at %s is in the past; give a future time, or --now", when.Format(t, now, loc))
	}
	return t, nil
}

// plural is "1 tweet" or "3 tweets".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// waitSettled follows a post being published now until it settles,
// showing a spinner on a terminal.
func (s *session) waitSettled(ctx context.Context, env *Env, p api.Post) (api.Post, error) {
	sp := startSpinner(env, "publishing post %d", p.ID)
	defer sp.stop()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		np, err := s.c.WaitPost(ctx, p.ID, 20*time.Second)
		if err != nil {
			return p, err
		}
		p = np
		if p.Upload != nil {
			sp.set("uploading media for post %d: %d%%", p.ID, p.Upload.Sent*100/max(p.Upload.Total, 1))
		}
		if p.Status != api.StatusPublishing && p.Status != api.StatusScheduled || p.HeldByBudget() {
			return p, nil
		}
	}
	return p, nil
}

// report prints a post after a change. published: the change asked for
// the post to go out now, so a failed post is the change's failure and a
// non-zero exit; otherwise (an edit of a failed post's text, say) the post
// was failed before and still is, which is no error of this command.
func (s *session) report(env *Env, p api.Post, asJSON, published bool) error {
	return s.reportAs(env, p, p, asJSON, published)
}

// reportAs is report with v as the JSON form of p.
func (s *session) reportAs(env *Env, p api.Post, v any, asJSON, published bool) error {
	if asJSON {
		if err := writeJSON(env, v); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(env.Stdout, s.summary(env, p, published))
	}
	if p.Status == api.StatusFailed && published {
		if asJSON {
			return silentError{ExitError}
		}
		return errors.New("post " + fmt.Sprint(p.ID) + " failed: " + deref(p.FailReason))
	}
	if p.HeldByBudget() && published {
		// Asked to go out now, held instead: the command did not do
		// what it was asked, and says why in one line.
		if asJSON {
			return silentError{ExitError}
		}
		return errors.New("post " + fmt.Sprint(p.ID) + " not sent: " + deref(p.FailReason))
	}
	return nil
}

// summary is the one-line human report of a post's state. published:
// the command asked for the post to go out now.
func (s *session) summary(env *Env, p api.Post, published bool) string {
	now := env.now()
	c := stdoutColors(env)
	what := fmt.Sprintf("Post %d", p.ID)
	if len(p.Tweets) > 1 {
		what = fmt.Sprintf("Post %d (a thread of %d tweets)", p.ID, len(p.Tweets))
	}
	st := func(word string) string { return c.status(p.Status, word) }
	switch p.Status {
	case api.StatusPublished:
		url := ""
		if len(p.PlatformPostIDs) > 0 {
			url = fmt.Sprintf(": https://x.com/%s/status/%s", p.Account, p.PlatformPostIDs[0])
		}
		return fmt.Sprintf("%s %s as @%s%s", what, st(api.StatusPublished), p.Account, url)
	case api.StatusScheduled:
		if p.HeldByBudget() {
			return fmt.Sprintf("%s %s as @%s, held by the monthly budget (see `psnd show %d`)", what, st(api.StatusScheduled), p.Account, p.ID)
		}
		if published {
			// --wait=false: queued to go out now, not "scheduled for … (now)".
			return fmt.Sprintf("%s %s as @%s; see `psnd show %d`", what, st("is being published now"), p.Account, p.ID)
		}
		return fmt.Sprintf("%s %s for %s as @%s", what, st(api.StatusScheduled), fmtWhen(env, s.loc, p.ScheduledAt), p.Account)
	case api.StatusFailed:
		if !published {
			return fmt.Sprintf("%s: text updated; the post is still %s: run `psnd retry %d`", what, st(api.StatusFailed), p.ID)
		}
		return fmt.Sprintf("%s %s", what, st("has failed"))
	case api.StatusDraft:
		return fmt.Sprintf("%s saved as a %s", what, st(api.StatusDraft))
	case api.StatusRetry:
		at := ""
		if p.NextRetryAt != nil {
			at = " at " + when.Format(*p.NextRetryAt, now, s.loc)
		}
		sub := ""
		if p.SubStatus != nil {
			sub = " (" + *p.SubStatus + ")"
		}
		return fmt.Sprintf("%s %s%s%s: %s", what, st("will be retried"), at, sub, deref(p.FailReason))
	case api.StatusPublishing:
		return fmt.Sprintf("%s %s; see `psnd show %d`", what, st("is being published"), p.ID)
	}
	return fmt.Sprintf("%s is %s", what, st(p.Status))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func newEditCmd(env *Env) *cobra.Command {
	var text, at string
	var now, thread, number, asJSON, wait, queue bool
	cmd := &cobra.Command{
		Use:   "edit ID",
		Short: "Change a post's text or time (refused once publishing has started)",
		Long: `Change a draft, scheduled, failed or retrying post: new text with --text
(- reads stdin), a new time with --at or --queue (the account's earliest free
queue slot; the post's own counts as free), or publish it now with --now
(which waits for the result, as 'psnd post --now' does). With none of these,
on a terminal, psnd opens the post's text in your editor as 'psnd post' does:
a thread's tweets between --- lines, without their numbers (kept on saving);
saving it unchanged changes nothing. The text is checked as for 'psnd post';
a thread stays a thread and its media stay with the first tweet. Giving a
time schedules a draft or failed post; a failed post edited without one stays
failed until 'psnd retry'. The text of a thread that is partly on X can no
longer change.

The edit and a publish can never overlap: once psnd has started publishing
the post, the edit is refused with a message saying so, and nothing changes.
Times are read as for 'psnd post' (RFC 3339, "2026-11-27 09:30", "09:30",
"+90m", "+2h", "+1d").`,
		Example: `  psnd edit 12                      # edit the text in your editor
  psnd edit 12 --at "2026-12-01 10:00"
  psnd edit 12 --text "Fixed the typo"
  psnd edit 12 --text - --thread < new.txt
  psnd edit 12 --now
  psnd edit 12 --queue`,
		Args:              exactArgs(1, "one post ID"),
		ValidArgsFunction: completePostIDs(env, api.StatusesWhere(api.Editable)...),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			// Nothing to change on the command line: on a terminal that
			// means "edit the text in my editor" (SPEC §8).
			editing := !cmd.Flags().Changed("text") && at == "" && !now && !queue
			if editing && !useEditor(env) {
				return usagef("say what to change: --text, --at, --queue or --now")
			}
			if now && at != "" {
				return usagef("--now goes alone: not with --at")
			}
			if queue && (now || at != "") {
				return usagef("--queue goes alone: not with --at or --now")
			}
			var req api.EditPost
			if cmd.Flags().Changed("text") {
				t := text
				if t == "-" {
					if t, err = readText(env, []string{"-"}); err != nil {
						return err
					}
				} else if err := validUTF8(t); err != nil {
					return err
				}
				req.Text = &t
			}
			req.Thread, req.Number, req.Now, req.Queue = thread, number, now, queue
			// The failure notice waits for the answer: editing a failed
			// post is dealing with the failure already.
			s, err := connectNotice(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			if at != "" {
				t, err := parseAt(env, s.loc, at)
				if err != nil {
					return err
				}
				req.At = &t
			}
			var p api.Post
			if editing {
				cur, gerr := s.c.GetPost(cmd.Context(), id)
				if gerr != nil {
					return gerr
				}
				var changed bool
				p, changed, err = s.editInEditor(cmd.Context(), env, cur, thread, number, asJSON)
				if err == nil && !changed {
					s.failureNotice(env)
					if asJSON {
						fmt.Fprintln(env.Stderr, "No changes.")
						return writeJSON(env, cur)
					}
					fmt.Fprintln(env.Stdout, "No changes.")
					return nil
				}
			} else {
				p, err = s.c.EditPost(cmd.Context(), id, req)
			}
			if err != nil {
				s.failureNotice(env)
				return err
			}
			if p.Status != api.StatusFailed {
				s.failureNotice(env)
			}
			for _, w := range p.Warnings {
				warn(env, w)
			}
			if now && wait {
				if p, err = s.waitSettled(cmd.Context(), env, p); err != nil {
					return err
				}
			}
			return s.report(env, p, asJSON, now)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&text, "text", "", "new text (- reads stdin)")
	fl.StringVar(&at, "at", "", atUsage("new time to publish"))
	fl.BoolVar(&now, "now", false, "publish now")
	fl.BoolVar(&queue, "queue", false, "move into the account's earliest free queue slot (see psnd queue)")
	fl.BoolVar(&wait, "wait", true, "with --now, wait for the result (--wait=false returns at once)")
	fl.BoolVar(&thread, "thread", false, "split long text into a thread")
	fl.BoolVar(&number, "number", false, "number the thread's tweets")
	jsonFlag(cmd, &asJSON, "the post")
	noFileFlags(cmd, "at", "text")
	return cmd
}

// newChangeCmd builds cancel and retry. publishes: the change publishes the
// post now, so the command waits for the result as post --now does.
func newChangeCmd(env *Env, use, short, long, example string, statuses []string, publishes bool, op func(ctx context.Context, s *session, id int64) (api.Post, error)) *cobra.Command {
	var asJSON, wait bool
	cmd := &cobra.Command{
		Use:               use + " ID",
		Short:             short,
		Long:              long,
		Example:           example,
		Args:              exactArgs(1, "one post ID"),
		ValidArgsFunction: completePostIDs(env, statuses...),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			// Retrying is dealing with the failures: no notice about them.
			s, err := connectNotice(cmd.Context(), env, !publishes)
			if err != nil {
				return err
			}
			p, err := op(cmd.Context(), s, id)
			if err != nil {
				return err
			}
			if publishes && wait {
				if p, err = s.waitSettled(cmd.Context(), env, p); err != nil {
					return err
				}
			}
			return s.report(env, p, asJSON, publishes)
		},
	}
	jsonFlag(cmd, &asJSON, "the post")
	if publishes {
		cmd.Flags().BoolVar(&wait, "wait", true, "wait for the result (--wait=false returns at once)")
	}
	return cmd
}

func newCancelCmd(env *Env) *cobra.Command {
	return newChangeCmd(env, "cancel", "Unschedule a post: it goes back to draft, text kept",
		`Unschedule a scheduled, retrying or failed post. It becomes a draft with its
text, media and thread kept; schedule it again with 'psnd edit ID --at WHEN'.
Refused once psnd has started publishing it, or when part of a thread is
already on X (retry or delete it instead).`,
		`  psnd cancel 12
  psnd cancel 12 && psnd edit 12 --at "2026-12-01 09:00"`,
		api.StatusesWhere(api.Cancellable), false,
		func(ctx context.Context, s *session, id int64) (api.Post, error) { return s.c.CancelPost(ctx, id) })
}

func newRetryCmd(env *Env) *cobra.Command {
	return newChangeCmd(env, "retry", "Publish a failed post now (a thread resumes where it stopped)",
		`Publish a failed post (or one waiting for an automatic retry) now, and wait
to show the result as 'psnd post --now' does. A thread that stopped
part-way (thread_partial) resumes after the last tweet X accepted: no tweet
is posted twice. To publish later instead, use 'psnd edit ID --at WHEN'.`,
		`  psnd retry 12
  psnd list --status failed --json | jq -r '.[].id' | xargs -n1 psnd retry`,
		api.StatusesWhere(api.Retryable), true,
		func(ctx context.Context, s *session, id int64) (api.Post, error) { return s.c.RetryPost(ctx, id) })
}

func newDeleteCmd(env *Env) *cobra.Command {
	var yes, asJSON bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a post; a published one is deleted on X too (asks first)",
		Long: `Delete a post from psnd. If any of its tweets is on X, psnd asks first and
then deletes them on X too, last tweet first; without a terminal, pass --yes.
A tweet already gone from X counts as deleted, so an interrupted delete can
simply be run again. Refused while the post is being published.

Answering anything but y at the question deletes nothing: psnd says
"Nothing deleted." and exits 0.`,
		Example: `  psnd delete 12
  psnd delete 12 --yes     # no question, also deletes it on X`,
		Args:              exactArgs(1, "one post ID"),
		ValidArgsFunction: completePostIDs(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, p, err := fetchPost(cmd.Context(), env, args[0])
			if err != nil {
				return err
			}
			s.failureNotice(env)
			id := p.ID
			onX := 0
			for _, t := range p.Tweets {
				if t.PlatformPostID != nil {
					onX++
				}
			}
			if onX > 0 && !yes {
				if !env.StdinIsTerminal {
					return fmt.Errorf("post %d is on X (%s); pass --yes to delete it there too", id, plural(onX, "tweet", "tweets"))
				}
				fmt.Fprintf(env.Stderr, "Delete post %d from X (%s) and from psnd? [y/N] ", id, plural(onX, "tweet", "tweets"))
				line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					// Declining is an answer, not an error.
					fmt.Fprintln(env.Stdout, "Nothing deleted.")
					return nil
				}
			}
			res, err := s.c.DeletePost(cmd.Context(), id, onX > 0)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, res)
			}
			if onX > 0 {
				fmt.Fprintf(env.Stdout, "Deleted post %d here and %s on X.\n", id, plural(len(res.DeletedOnX)+len(res.AlreadyGone), "tweet", "tweets"))
			} else {
				fmt.Fprintf(env.Stdout, "Deleted post %d.\n", id)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask before deleting on X")
	jsonFlag(cmd, &asJSON, "the result")
	return cmd
}
