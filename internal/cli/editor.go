package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/tweettext"
)

// Composing in the editor (SPEC §8): `psnd post` without text and `psnd
// edit ID` without flags open the user's editor on a template, as `git
// commit` does, but only when stdin and stdout are a terminal: a script
// never waits on an editor nobody sees.

// The template's two marker lines. A post's own lines may start with "#"
// (#buildinpublic), so psnd never treats "#" lines as comments: only these
// exact lines delimit what psnd wrote. Everything from scissorsLine down is
// ignored, as after git's scissors line; on a reopen, the errors sit above
// errorsEndLine and everything up to it is ignored.
const (
	scissorsLine  = "# ------------------------ >8 ------------------------"
	errorsEndLine = "# ------------------------ 8< ------------------------"
)

// useEditor says whether a command without text should open the editor:
// only when both ends are a terminal the user sees.
func useEditor(env *Env) bool {
	return env.StdinIsTerminal && env.StdoutIsTerminal
}

// editorCommand picks the editor as git does: $VISUAL (unless the
// terminal is dumb), then $EDITOR, then vi (not on a dumb terminal).
func editorCommand(env *Env) (string, error) {
	dumb := env.Getenv("TERM") == "dumb"
	if v := strings.TrimSpace(env.Getenv("VISUAL")); v != "" && !dumb {
		return v, nil
	}
	if e := strings.TrimSpace(env.Getenv("EDITOR")); e != "" {
		return e, nil
	}
	if dumb {
		return "", errors.New("the terminal is dumb (TERM=dumb) and EDITOR is unset: set EDITOR, or give the text as an argument")
	}
	return "vi", nil
}

// template is what the editor shows: the user's text, errors from the
// last attempt above it, and help below the scissors line.
type template struct {
	text   string
	errors []string
	help   []string
	// mediaAlone: the post being edited has media and no text, so saving
	// no text is saving it unchanged, not aborting.
	mediaAlone bool
}

// String renders the file.
func (t template) String() string {
	var b strings.Builder
	if len(t.errors) > 0 {
		for _, l := range t.errorLines() {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString(t.text)
	if t.text != "" && !strings.HasSuffix(t.text, "\n") {
		b.WriteByte('\n')
	}
	if t.text == "" {
		b.WriteByte('\n')
	}
	b.WriteString(scissorsLine + "\n")
	for _, l := range t.help {
		b.WriteString(commentLine(l) + "\n")
	}
	return b.String()
}

// errorLines is the block above the text on a reopen, marker included.
func (t template) errorLines() []string {
	lines := []string{"# psnd could not post this text:"}
	for _, e := range t.errors {
		for _, l := range strings.Split(e, "\n") {
			lines = append(lines, commentLine("  "+l))
		}
	}
	lines = append(lines, "# Fix the text below and save again. Quit without a change to stop (psnd",
		"# keeps the text in a file), or delete all of it to abort.", errorsEndLine)
	return lines
}

func commentLine(s string) string {
	if s == "" {
		return "#"
	}
	return "# " + s
}

// parse returns the text the user saved in the file content: the lines
// between the errors block (if still there) and the scissors line, with
// CRLF read as LF, a byte-order mark some editors write dropped, and
// blank lines at either end dropped. Lines of the errors block are
// dropped wherever they are, in case the user deleted its end marker but
// not the errors.
func (t template) parse(content string) string {
	content = strings.TrimPrefix(content, "\uFEFF")
	content = strings.ReplaceAll(content, "\r\n", "\n")
	lines := strings.Split(content, "\n")
	marker := func(l, m string) bool { return strings.TrimRight(l, " \t\r") == m }
	for i, l := range lines {
		if marker(l, errorsEndLine) {
			lines = lines[i+1:]
			break
		}
	}
	for i, l := range lines {
		if marker(l, scissorsLine) {
			lines = lines[:i]
			break
		}
	}
	ours := map[string]bool{}
	if len(t.errors) > 0 {
		for _, l := range t.errorLines() {
			ours[l] = true
		}
	}
	kept := lines[:0]
	for _, l := range lines {
		if !ours[strings.TrimRight(l, " \t\r")] {
			kept = append(kept, l)
		}
	}
	for len(kept) > 0 && strings.TrimSpace(kept[0]) == "" {
		kept = kept[1:]
	}
	for len(kept) > 0 && strings.TrimSpace(kept[len(kept)-1]) == "" {
		kept = kept[:len(kept)-1]
	}
	return strings.Join(kept, "\n")
}

// errAborted ends an editor session the user gave up; its message has been
// printed.
var errAborted = silentError{ExitError}

// editSession runs the editor on a private temporary file until submit
// accepts the text. submit returns the problems that make the text
// unpostable (the editor reopens with them) or an error that ends the
// session. An empty text aborts. The file lives in a directory only the
// user can read and is removed at the end, except when the session ends
// without storing a text the user wrote (the editor failed, Ctrl-C, the
// daemon refused or was gone): then that text is kept there and the path
// is said, as git keeps COMMIT_EDITMSG.
func editSession(ctx context.Context, env *Env, t template, submit func(text string) ([]string, error)) (err error) {
	editor, err := editorCommand(env)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "psnd-edit-")
	if err != nil {
		return fmt.Errorf("create the file to edit: %w", err)
	}
	// .txt: editors highlight nothing in it, where .md would show a line
	// starting with #hashtag as a heading.
	path := filepath.Join(dir, "post.txt")
	// text is the user's latest text; initial is what psnd showed first
	// (the post's own text when editing), which needs no keeping.
	initial, text := t.text, t.text
	stored := false
	defer func() {
		if !stored && strings.TrimSpace(text) != "" && text != initial {
			if werr := os.WriteFile(path, []byte(text+"\n"), 0o600); werr == nil {
				fmt.Fprintf(env.Stderr, "psnd: your text is kept in %s\n", path)
				return
			}
		}
		os.RemoveAll(dir)
	}()
	// readBack reads the text the editor left, if it can.
	readBack := func() {
		if b, err := os.ReadFile(path); err == nil {
			text = t.parse(string(b))
		}
	}
	for {
		if err := os.WriteFile(path, []byte(t.String()), 0o600); err != nil {
			return fmt.Errorf("write the file to edit: %w", err)
		}
		if err := runEditor(env, editor, path); err != nil {
			readBack()
			if errors.Is(err, errEditorInterrupted) {
				// Ctrl-C reaches the editor and psnd together; the editor
				// may exit before psnd's own handler has cancelled ctx.
				// Give it a moment so that this is "Cancelled.", as for
				// any Ctrl-C, and not an editor failure.
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(env.Stderr, "Aborted: %v; psnd changed nothing.\n", err)
			return errAborted
		}
		// Read the path again (not a descriptor held open): editors that
		// save by renaming a new file over it are common.
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read the edited file: %w", err)
		}
		saved := t.parse(string(b))
		text = saved
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.TrimSpace(saved) == "" && !t.mediaAlone {
			fmt.Fprintln(env.Stderr, "Aborted: empty post.")
			return errAborted
		}
		if len(t.errors) > 0 && saved == t.text {
			// The same text would fail the same way: quitting the editor
			// without a change is how a user leaves the reopen loop.
			fmt.Fprintln(env.Stderr, "Aborted: the text was saved unchanged; psnd changed nothing.")
			return errAborted
		}
		var problems []string
		if !utf8.ValidString(saved) {
			// Shown in the editor, which saved it: the user can fix it there.
			problems = []string{"the text is not valid UTF-8 (check the editor's encoding)"}
		} else {
			problems, err = submit(saved)
		}
		if err != nil {
			return err
		}
		if len(problems) == 0 {
			stored = true
			return nil
		}
		fmt.Fprintf(env.Stderr, "psnd: the text cannot be posted (%s); reopening the editor\n", problems[0])
		t.text, t.errors = saved, problems
	}
}

// errEditorInterrupted: the editor died of SIGINT (Ctrl-C).
var errEditorInterrupted = errors.New("interrupted")

// runEditor runs the editor on path with the command's terminal, through
// the shell as git does, so that EDITOR may hold arguments ("code --wait").
// It gets no context: Ctrl-C belongs to the editor while it runs (the
// command notices a cancelled context once the editor exits).
func runEditor(env *Env, editor, path string) error {
	cmd := exec.Command("sh", "-c", editor+` "$@"`, editor, path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.Stdin, env.Stdout, env.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
				return fmt.Errorf("the editor (%s) was interrupted: %w", editor, errEditorInterrupted)
			}
			return fmt.Errorf("the editor (%s) exited with status %d", editor, ee.ExitCode())
		}
		return fmt.Errorf("cannot run the editor (%s): %w", editor, err)
	}
	return nil
}

// localProblems are what psnd knows, without the daemon, makes a text
// unpostable: an empty tweet between "---" lines (which the daemon would
// silently drop), and what tweettext finds in the composed tweets for the
// account's limit. It also returns the preview of the tweets.
func localProblems(text string, opts tweettext.ComposeOptions) (tweettext.SplitResult, []string) {
	var problems []string
	parts := markerParts(text)
	if len(parts) > 1 {
		for i, p := range parts {
			if strings.TrimSpace(p) == "" {
				problems = append(problems, fmt.Sprintf("tweet %d is empty: write it, or remove a --- line", i+1))
			}
		}
	}
	if len(problems) > 0 {
		return tweettext.SplitResult{}, problems
	}
	res, err := tweettext.Compose(text, opts)
	if err != nil {
		return res, []string{strings.TrimPrefix(err.Error(), "split: ")}
	}
	for i, tw := range res.Tweets {
		if tw.Text == "" {
			continue // media alone
		}
		r := tweettext.Check(tw.Text, tweettext.CheckOptions{MaxLength: res.MaxLength})
		for _, e := range r.Errors {
			if len(res.Tweets) > 1 {
				e = fmt.Sprintf("tweet %d/%d: %s", i+1, len(res.Tweets), e)
			}
			problems = append(problems, e)
		}
	}
	return res, problems
}

// markerParts cuts text at lines holding only "---", as tweettext does,
// but keeps the blank parts so that they can be reported.
func markerParts(text string) []string {
	var parts []string
	var cur []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "---" {
			parts = append(parts, strings.Join(cur, "\n"))
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	return append(parts, strings.Join(cur, "\n"))
}

// invalidTextProblem is the daemon's refusal of a text, as a problem to
// show in the editor; ok is false for any other error.
func invalidTextProblem(err error) (string, bool) {
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeInvalidText {
		return ae.Message, true
	}
	return "", false
}

// accountLimit finds the length limit and the username of the account a
// post goes to (name, or the default account when empty). It asks the
// daemon; if it cannot tell, the preview uses X's default limit and the
// daemon's own check still decides.
func (s *session) accountLimit(ctx context.Context, name string) (max int, username string) {
	st, err := s.c.AuthStatus(ctx)
	if err != nil {
		return 0, name
	}
	for _, a := range st.Accounts {
		match := a.Default && name == ""
		if name != "" {
			n := strings.TrimPrefix(name, "@")
			match = strings.EqualFold(a.Username, n) || a.ID == n
		}
		if match {
			switch a.SubscriptionType {
			case "Premium", "PremiumPlus":
				return tweettext.PremiumMaxLength, a.Username
			}
			return 0, a.Username
		}
	}
	return 0, name
}

// showPreview prints the tweets about to be stored, with their counts.
func showPreview(env *Env, res tweettext.SplitResult, asJSON bool) {
	w := env.Stdout
	if asJSON {
		w = env.Stderr // stdout is the post's JSON only
	}
	// The warnings come once, from the daemon's answer, as for any post.
	res.Warnings = nil
	_ = tweettext.FormatSplit(w, res)
}

// threadHelp is the template's help on "---" and the flags shaping the
// tweets.
func threadHelp(thread, number bool, max int) []string {
	if max == 0 {
		max = tweettext.DefaultMaxLength
	}
	lines := []string{
		"Everything above the line marked >8 is the post, exactly as written:",
		"lines starting with # are text too (#hashtags); that line and all",
		"below it are ignored. Save and close the editor to go on; save the",
		"file without text to abort.",
		"",
		"A line holding only --- starts the next tweet of a thread.",
	}
	if thread {
		lines = append(lines, fmt.Sprintf("--thread: a part longer than a tweet (%d) is split automatically.", max))
	} else {
		lines = append(lines, fmt.Sprintf("A tweet holds %d characters as X counts them; --thread splits longer parts.", max))
	}
	if number {
		lines = append(lines, `--number: the tweets of a thread get " 1/3" and so on.`)
	} else {
		lines = append(lines, `Tweets are not numbered (--number adds " 1/3" and so on).`)
	}
	return lines
}

// composePost writes a new post in the editor and creates it with req
// (everything but the text already set from the flags).
func (s *session) composePost(ctx context.Context, env *Env, f postFlags, req api.CreatePost) (api.Post, error) {
	max, account := s.accountLimit(ctx, f.account)
	help := threadHelp(f.thread, f.number, max)
	who := "the default account"
	if account != "" {
		who = "@" + account
	}
	var when string
	switch {
	case f.now:
		when = "--now: published as soon as you save"
	case f.draft:
		when = "--draft: saved as a draft"
	case f.queue:
		when = "--queue: scheduled into the next free queue slot"
	case req.At != nil:
		when = "--at: scheduled for " + fmtWhen(env, s.loc, req.At)
	}
	if when != "" {
		help = append(help, "", fmt.Sprintf("Posting as %s. %s.", who, when))
	} else {
		help = append(help, "", fmt.Sprintf("Posting as %s.", who))
	}
	if len(req.Media) > 0 {
		help = append(help, fmt.Sprintf("%s attached to the first tweet (--media).", plural(len(req.Media), "file is", "files are")),
			`To post the media without text, run psnd post "" --media ... instead.`)
	}
	opts := tweettext.ComposeOptions{MaxLength: max, Thread: f.thread, Number: f.number, Media: len(req.Media) > 0}
	var p api.Post
	err := editSession(ctx, env, template{help: help}, func(text string) ([]string, error) {
		res, problems := localProblems(text, opts)
		if len(problems) > 0 {
			return problems, nil
		}
		showPreview(env, res, f.asJSON)
		req.Text = text
		var err error
		p, err = s.c.CreatePost(ctx, req)
		if msg, ok := invalidTextProblem(err); ok {
			return []string{msg}, nil
		}
		return nil, err
	})
	return p, err
}

// editInEditor opens the editor on post p's text (a thread's tweets joined
// by "---" lines) and saves the change through the edit API, fenced by the
// run_id read here so that a post changed meanwhile is not overwritten.
// changed is false when the user saved the text unchanged.
func (s *session) editInEditor(ctx context.Context, env *Env, p api.Post, thread, number, asJSON bool) (np api.Post, changed bool, err error) {
	if !api.Editable(p.Status) {
		return p, false, fmt.Errorf("post %d is %s: only a draft, scheduled, failed or retrying post can be edited", p.ID, p.Status)
	}
	texts := make([]string, len(p.Tweets))
	for i, tw := range p.Tweets {
		if tw.PlatformPostID != nil {
			return p, false, fmt.Errorf("post %d is partly on X: its text can no longer change (retry or delete it)", p.ID)
		}
		texts[i] = tw.Text
	}
	texts, numbered := stripNumbers(texts)
	// The editor writes a thread as text between "---" lines, and the
	// edit API takes it back as such: a shape that text cannot hold (made
	// through the API, e.g. by psnd mcp) would be refused unchanged or
	// silently reshaped, so it is refused before the user writes anything.
	for i, tx := range texts {
		if tx == "" && len(texts) > 1 {
			return p, false, fmt.Errorf("post %d starts with a tweet of media alone, which the editor cannot show: give a new text with `psnd edit %d --text` (its media then go with the first tweet of text)", p.ID, p.ID)
		}
		for _, l := range strings.Split(tx, "\n") {
			if strings.TrimSpace(l) == "---" {
				return p, false, fmt.Errorf("tweet %d of post %d holds a line of only ---, which the editor would read as the start of a new tweet: give a new text with `psnd edit %d --text`", i+1, p.ID, p.ID)
			}
		}
	}
	number = number || numbered
	thread = thread || len(p.Tweets) > 1
	original := strings.Join(texts, "\n---\n")
	media := len(p.Tweets) > 0 && len(p.Tweets[0].Media) > 0

	max, _ := s.accountLimit(ctx, p.Account)
	help := threadHelp(thread, number, max)
	state := p.Status
	if p.ScheduledAt != nil && p.Status == api.StatusScheduled {
		state += " for " + fmtWhen(env, s.loc, p.ScheduledAt)
	}
	help = append(help, "", fmt.Sprintf("Editing post %d of @%s, %s.", p.ID, p.Account, state), fmt.Sprintf("Its time is kept (psnd edit %d --at changes it).", p.ID))
	if media {
		help = append(help, "Its media stay with the first tweet.")
	}
	if media && original == "" {
		help = append(help, "It has media and no text: saving no text leaves it so.")
	}
	opts := tweettext.ComposeOptions{MaxLength: max, Thread: thread, Number: number, Media: media}
	err = editSession(ctx, env, template{text: original, help: help, mediaAlone: media && original == ""}, func(text string) ([]string, error) {
		if text == original || original == "" && strings.TrimSpace(text) == "" {
			return nil, nil
		}
		res, problems := localProblems(text, opts)
		if len(problems) > 0 {
			return problems, nil
		}
		showPreview(env, res, asJSON)
		t := text
		var err error
		np, err = s.c.EditPost(ctx, p.ID, api.EditPost{Text: &t, Thread: thread, Number: number, RunID: p.RunID})
		if msg, ok := invalidTextProblem(err); ok {
			return []string{msg}, nil
		}
		if err == nil {
			changed = true
		}
		return nil, err
	})
	return np, changed, err
}

// stripNumbers removes the " i/n" that --number appended to every tweet of
// a thread, so that the editor shows the text as the user wrote it and
// saving numbers it again; numbered says whether it did.
func stripNumbers(texts []string) (out []string, numbered bool) {
	n := len(texts)
	if n < 2 {
		return texts, false
	}
	out = make([]string, n)
	for i, t := range texts {
		suffix := fmt.Sprintf("%d/%d", i+1, n)
		if !strings.HasSuffix(t, suffix) {
			return texts, false
		}
		rest := strings.TrimSuffix(t, suffix)
		switch {
		case rest == "": // a media-only first tweet carries the number alone
		case strings.HasSuffix(rest, " "):
			rest = strings.TrimSuffix(rest, " ")
		default:
			return texts, false
		}
		out[i] = rest
	}
	return out, true
}
