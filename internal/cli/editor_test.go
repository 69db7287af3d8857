//go:build linux || darwin

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
)

// fakeEditor is a shell script standing in for the user's editor. On its
// n-th run it copies the file it was given to seen.n (and records its
// path and the file's and directory's modes), replaces the file with
// write.n if the test wrote one, and exits with exit.n (default 0). A
// run without write.n saves the file untouched, as a user who just quits.
// With block.n (see block) the n-th run waits, after saving, until the
// test lets it go.
type fakeEditor struct {
	t    *testing.T
	dir  string
	path string
}

func newFakeEditor(t *testing.T, name string) *fakeEditor {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
# The file is the last argument (an editor may be given options).
for f; do :; done
set -- "$f"
d='%s'
n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$d/count"
cp "$1" "$d/seen.$n"
echo "$1" > "$d/path.$n"
ls -ln "$1" | cut -c1-10 > "$d/mode.$n"
ls -lnd "$(dirname "$1")" | cut -c1-10 > "$d/dirmode.$n"
if [ -f "$d/write.$n" ]; then cat "$d/write.$n" > "$1"; fi
if [ -p "$d/block.$n" ]; then cat "$d/block.$n" > /dev/null; fi
if [ -f "$d/exit.$n" ]; then exit "$(cat "$d/exit.$n")"; fi
exit 0
`, dir)
	path := filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &fakeEditor{t: t, dir: dir, path: path}
}

// write sets what the editor saves on its n-th run.
func (e *fakeEditor) write(n int, text string) *fakeEditor {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "write."+strconv.Itoa(n)), []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return e
}

// exit sets the editor's exit status on its n-th run.
func (e *fakeEditor) exit(n, code int) *fakeEditor {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "exit."+strconv.Itoa(n)), []byte(strconv.Itoa(code)), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return e
}

// during runs f while the editor's n-th run waits, after saving, for the
// test (on a named pipe: no sleeps). The returned wait, called once psnd
// has ended, says whether f ran: psnd may end without that run.
func (e *fakeEditor) during(n int, f func()) (wait func() bool) {
	e.t.Helper()
	fifo := filepath.Join(e.dir, "block."+strconv.Itoa(n))
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		e.t.Fatal(err)
	}
	var ended atomic.Bool
	ran := make(chan bool, 1)
	go func() {
		// Opening the write end waits for the editor to open the read end.
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			ran <- false
			return
		}
		defer w.Close()
		if ended.Load() {
			ran <- false
			return
		}
		f()
		ran <- true
	}()
	return func() bool {
		ended.Store(true)
		// Free the goroutine if the editor never opened the pipe.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			defer r.Close()
		}
		return <-ran
	}
}

// runs is how many times the editor was started.
func (e *fakeEditor) runs() int {
	b, err := os.ReadFile(filepath.Join(e.dir, "count"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// seen is a file the script recorded on its n-th run.
func (e *fakeEditor) seen(kind string, n int) string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, kind+"."+strconv.Itoa(n)))
	if err != nil {
		e.t.Fatalf("editor run %d: %v", n, err)
	}
	return string(b)
}

// runTerminal runs psnd in-process with stdin and stdout on a new
// pseudo-terminal, as a user at a shell does (stderr is kept apart to
// assert on it). It returns what reached the terminal, with the terminal's
// \r\n read as \n.
func runTerminal(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	return runTerminalCtx(context.Background(), t, vars, args...)
}

// runTerminalCtx is runTerminal under ctx, whose cancelling stands for
// Ctrl-C (as signal.NotifyContext does in the binary).
func runTerminalCtx(ctx context.Context, t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	defer ptmx.Close()
	_ = pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120})
	var out bytes.Buffer
	copied := make(chan error, 1)
	go func() { _, err := io.Copy(&out, ptmx); copied <- err }()
	var errb bytes.Buffer
	env := Env{
		Stdin: tty, Stdout: tty, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] }, GOOS: "linux", Version: "test",
		StdinIsTerminal: true, StdoutIsTerminal: true,
	}
	code := Main(ctx, args, env)
	tty.Close()
	select {
	case err := <-copied:
		if err != nil && !errors.Is(err, syscall.EIO) {
			t.Fatalf("read pty: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pty output never ended")
	}
	return result{code, strings.ReplaceAll(out.String(), "\r\n", "\n"), errb.String()}
}

// editorDaemon starts a sandbox daemon and returns the variables for the
// CLI with EDITOR set to e.
func editorDaemon(t *testing.T, e *fakeEditor) map[string]string {
	t.Helper()
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	return map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC", "EDITOR": e.path, "NO_COLOR": "1"}
}

// allPosts lists every post through the CLI.
func allPosts(t *testing.T, vars map[string]string) []api.Post {
	t.Helper()
	r := run(t, vars, "", "list", "--all", "--json")
	var posts []api.Post
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &posts) != nil {
		t.Fatalf("list --all --json: %+v", r)
	}
	return posts
}

// TestEditorComposesAThread: `psnd post --at` on a terminal opens the
// editor on a template explaining --- and the flags; the saved text, whose
// first line is a #hashtag and which holds non-ASCII text of every kind,
// becomes a thread exactly as written, previewed with each tweet's count.
// The file was private (0600 in a 0700 directory) and is gone afterwards.
func TestEditorComposesAThread(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	text := "#buildinpublic day 1: İstanbul, Ⱥ\n\nsecond paragraph\n---\n東京で会いましょう 🎉👩‍💻\n---\nمرحبا بالعالم שלום\n"
	e.write(1, text)
	r := runTerminal(t, vars, "post", "--at", "+2h", "--number")
	if r.code != 0 {
		t.Fatalf("post in the editor: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	tmpl := e.seen("seen", 1)
	for _, want := range []string{scissorsLine, "A line holding only --- starts the next tweet", "--number", "Posting as @sandbox. --at: scheduled for", "lines starting with # are text too"} {
		if !strings.Contains(tmpl, want) {
			t.Errorf("the template lacks %q:\n%s", want, tmpl)
		}
	}
	if !strings.HasPrefix(tmpl, "\n"+scissorsLine) {
		t.Errorf("the template should start with an empty line for the text:\n%q", tmpl)
	}
	if m, d := strings.TrimSpace(e.seen("mode", 1)), strings.TrimSpace(e.seen("dirmode", 1)); m != "-rw-------" || d != "drwx------" {
		t.Errorf("file mode %s in a directory of mode %s; want private", m, d)
	}
	if p := strings.TrimSpace(e.seen("path", 1)); !strings.HasSuffix(p, ".txt") {
		t.Errorf("edited file %s: want a .txt suffix", p)
	} else if _, err := os.Stat(filepath.Dir(p)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the edited file's directory %s is still there: %v", filepath.Dir(p), err)
	}
	for _, want := range []string{"── 1/3 · ", "── 3/3 · ", "#buildinpublic day 1: İstanbul, Ⱥ", "Post 1 (a thread of 3 tweets) scheduled for"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	posts := allPosts(t, vars)
	if len(posts) != 1 {
		t.Fatalf("posts: %+v", posts)
	}
	want := []string{"#buildinpublic day 1: İstanbul, Ⱥ\n\nsecond paragraph 1/3", "東京で会いましょう 🎉👩‍💻 2/3", "مرحبا بالعالم שלום 3/3"}
	if got := tweetTexts(posts[0]); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tweets %q, want %q", got, want)
	}
}

// TestEditorReopensWithErrors: a text that cannot be posted (a tweet over
// the limit, then an empty tweet between --- lines) reopens the editor
// with the user's text kept and the errors as comment lines at the top;
// what is saved after fixing is posted, with no trace of the comments.
func TestEditorReopensWithErrors(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	long := "#buildinpublic " + strings.Repeat("İ", 290)
	e.write(1, long+"\n")
	e.write(2, "first\n---\n\n---\nthird\n")
	e.write(3, "#buildinpublic fixed\n")
	r := runTerminal(t, vars, "post", "--draft")
	if r.code != 0 || e.runs() != 3 {
		t.Fatalf("exit %d after %d editor runs\n%s%s", r.code, e.runs(), r.stdout, r.stderr)
	}
	second := e.seen("seen", 2)
	if !strings.HasPrefix(second, "# psnd could not post this text:\n#   ") || !strings.Contains(second, "305/280") {
		t.Errorf("second run: no error about the length at the top:\n%s", second)
	}
	if !strings.Contains(second, errorsEndLine+"\n"+long+"\n"+scissorsLine) {
		t.Errorf("second run: the user's text is not kept between the markers:\n%s", second)
	}
	third := e.seen("seen", 3)
	if !strings.Contains(third, "tweet 2 is empty") || !strings.Contains(third, "first\n---\n\n---\nthird\n") || strings.Contains(third, "305/280") {
		t.Errorf("third run: want the empty-tweet error (only) and the text:\n%s", third)
	}
	if !strings.Contains(r.stderr, "reopening the editor") {
		t.Errorf("stderr does not say why the editor reopened: %q", r.stderr)
	}
	posts := allPosts(t, vars)
	if len(posts) != 1 || strings.Join(tweetTexts(posts[0]), "|") != "#buildinpublic fixed" || posts[0].Status != api.StatusDraft {
		t.Fatalf("posts: %+v", posts)
	}
}

// TestEditorAborts: saving no text aborts with "Aborted: empty post.";
// an editor that fails aborts too and says so. Neither creates anything.
func TestEditorAborts(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	// Run 1 saves the template untouched: only comments, no text.
	r := runTerminal(t, vars, "post", "--at", "+1h")
	if r.code != ExitError || r.stderr != "Aborted: empty post.\n" || e.runs() != 1 {
		t.Errorf("empty save: exit %d, stderr %q, %d runs", r.code, r.stderr, e.runs())
	}
	// Run 2 writes a text but exits 1 (":cq" in vim).
	e.write(2, "a good text\n").exit(2, 1)
	r = runTerminal(t, vars, "post", "--now")
	if r.code != ExitError || !strings.HasPrefix(r.stderr, "Aborted: the editor ("+e.path+") exited with status 1; psnd changed nothing.\n") {
		t.Errorf("failing editor: exit %d, stderr %q", r.code, r.stderr)
	}
	keptText(t, r.stderr)
	// Run 3, a reopen emptied by the user, aborts too.
	e.write(3, strings.Repeat("x", 300)).write(4, "")
	r = runTerminal(t, vars, "post", "--draft")
	if r.code != ExitError || !strings.HasSuffix(r.stderr, "Aborted: empty post.\n") || e.runs() != 4 {
		t.Errorf("reopen emptied: exit %d, stderr %q, %d runs", r.code, r.stderr, e.runs())
	}
	// Run 5: the daemon refuses for a reason the text cannot fix (no
	// such account): the error, and the text kept for the user.
	e.write(5, "words worth keeping İ 東京\n")
	r = runTerminal(t, vars, "post", "--draft", "--account", "nosuch")
	kept, _, ok := strings.Cut(strings.TrimPrefix(r.stderr, "psnd: your text is kept in "), "\n")
	if r.code == 0 || !ok || !strings.Contains(r.stderr, "nosuch") || e.runs() != 5 {
		t.Fatalf("unknown account: exit %d, %d runs, %q", r.code, e.runs(), r.stderr)
	}
	if b, err := os.ReadFile(kept); err != nil || string(b) != "words worth keeping İ 東京\n" {
		t.Errorf("kept text in %s: %q %v", kept, b, err)
	}
	os.RemoveAll(filepath.Dir(kept))
	if posts := allPosts(t, vars); len(posts) != 0 {
		t.Errorf("an aborted post was created: %+v", posts)
	}
}

// TestEditorVisualOverEditor: $VISUAL wins over $EDITOR, as in git, and an
// editor given with arguments runs through the shell.
func TestEditorVisualOverEditor(t *testing.T) {
	t.Parallel()
	visual, editor := newFakeEditor(t, "visual"), newFakeEditor(t, "editor")
	vars := editorDaemon(t, editor)
	vars["VISUAL"] = visual.path + " --wait"
	visual.write(1, "from VISUAL\n")
	r := runTerminal(t, vars, "post", "--draft")
	if r.code != 0 || visual.runs() != 1 || editor.runs() != 0 {
		t.Fatalf("exit %d, VISUAL ran %d times, EDITOR %d\n%s", r.code, visual.runs(), editor.runs(), r.stderr)
	}
	// On a dumb terminal git skips VISUAL.
	vars["TERM"] = "dumb"
	editor.write(1, "from EDITOR\n")
	if r = runTerminal(t, vars, "post", "--draft"); r.code != 0 || visual.runs() != 1 || editor.runs() != 1 {
		t.Fatalf("TERM=dumb: exit %d, VISUAL ran %d times, EDITOR %d\n%s", r.code, visual.runs(), editor.runs(), r.stderr)
	}
	// ... and without EDITOR it starts nothing rather than vi.
	delete(vars, "EDITOR")
	if r = runTerminal(t, vars, "post", "--draft"); r.code != ExitError || !strings.Contains(r.stderr, "TERM=dumb") || visual.runs() != 1 {
		t.Errorf("TERM=dumb without EDITOR: exit %d, VISUAL ran %d times, %q", r.code, visual.runs(), r.stderr)
	}
	posts := allPosts(t, vars)
	if len(posts) != 2 {
		t.Fatalf("posts: %+v", posts)
	}
}

// TestNoEditorWithoutTerminal: without a terminal on both stdin and stdout
// no editor ever starts; post and edit behave exactly as before.
func TestNoEditorWithoutTerminal(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	vars["VISUAL"] = e.path
	if r := run(t, vars, "", "post", "a draft", "--draft"); r.code != 0 {
		t.Fatalf("post: %+v", r)
	}
	// Pipes: the text is read from stdin.
	r := run(t, vars, "from stdin\n", "post", "--draft")
	if r.code != 0 || !strings.Contains(r.stdout, "Post 2 saved as a draft") {
		t.Errorf("post from stdin: %+v", r)
	}
	r = run(t, vars, "", "post", "--draft")
	if r.code != ExitInvalidText {
		t.Errorf("post with empty stdin: %+v", r)
	}
	if r = run(t, vars, "", "edit", "1"); r.code != ExitUsage || !strings.Contains(r.stderr, "say what to change") {
		t.Errorf("edit without flags through pipes: %+v", r)
	}
	// A terminal on stdin but stdout piped (psnd post | tee): as before.
	for _, args := range [][]string{{"post", "--draft"}, {"edit", "1"}} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, Env{
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string { return vars[k] }, GOOS: "linux", Version: "test",
			StdinIsTerminal: true,
		})
		if code != ExitUsage {
			t.Errorf("%v with stdout piped: exit %d, %s", args, code, errb.String())
		}
	}
	if n := e.runs(); n != 0 {
		t.Errorf("the editor ran %d times without a terminal", n)
	}
}

// TestEditorEditsAThread: `psnd edit ID` on a terminal shows a numbered
// thread as written (tweets joined by --- lines, numbers left out) and
// saves the new text through the edit path, numbered again; saving it
// unchanged says "No changes."; a post that can no longer be edited is
// refused before any editor starts.
func TestEditorEditsAThread(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	r := run(t, vars, "", "post", "#one İ\n---\n二 東京 🎉", "--number", "--at", "+3h")
	if r.code != 0 {
		t.Fatalf("post: %+v", r)
	}
	e.write(1, "#one İ changed\n---\n二 東京 🎉\n---\nשלום 👋\n")
	r = runTerminal(t, vars, "edit", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "Post 1 (a thread of 3 tweets) scheduled for") {
		t.Fatalf("edit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := e.seen("seen", 1); !strings.HasPrefix(got, "#one İ\n---\n二 東京 🎉\n"+scissorsLine+"\n") || !strings.Contains(got, "Editing post 1 of @sandbox, scheduled for") {
		t.Errorf("edit opened on:\n%s", got)
	}
	posts := allPosts(t, vars)
	want := "#one İ changed 1/3|二 東京 🎉 2/3|שלום 👋 3/3"
	if len(posts) != 1 || strings.Join(tweetTexts(posts[0]), "|") != want || posts[0].Status != api.StatusScheduled {
		t.Fatalf("after edit: %+v", posts)
	}
	// Run 2 saves it untouched.
	r = runTerminal(t, vars, "edit", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") || e.runs() != 2 {
		t.Errorf("unchanged edit: exit %d, %d runs\n%s%s", r.code, e.runs(), r.stdout, r.stderr)
	}
	if got := e.seen("seen", 2); !strings.HasPrefix(got, "#one İ changed\n---\n二 東京 🎉\n---\nשלום 👋\n") {
		t.Errorf("second edit opened on:\n%s", got)
	}
	// Run 3 leaves a tweet empty, run 4 fixes it: the edit path reopens
	// too. (A thread's long parts split automatically, as the daemon
	// does for any thread's edit, so length is not an error here.)
	e.write(3, "#one\n---\n\n---\ntwo\n").write(4, "#one\n---\ntwo\n")
	if r = runTerminal(t, vars, "edit", "1"); r.code != 0 || e.runs() != 4 {
		t.Errorf("edit with an error: exit %d, %d runs\n%s%s", r.code, e.runs(), r.stdout, r.stderr)
	}
	if !strings.Contains(e.seen("seen", 4), "tweet 2 is empty") {
		t.Errorf("reopened edit lacks the error:\n%s", e.seen("seen", 4))
	}
	if got := strings.Join(tweetTexts(allPosts(t, vars)[0]), "|"); got != "#one 1/2|two 2/2" {
		t.Errorf("after the fixed edit: %q", got)
	}
	// A published post: one clear error, no editor.
	if r = run(t, vars, "", "post", "out now", "--now"); r.code != 0 {
		t.Fatalf("post --now: %+v", r)
	}
	pub := allPosts(t, vars)[1].ID
	r = runTerminal(t, vars, "edit", fmt.Sprint(pub))
	if r.code != ExitError || !strings.Contains(r.stderr, fmt.Sprintf("post %d is published", pub)) || e.runs() != 4 {
		t.Errorf("edit of a published post: exit %d, %d runs, %q", r.code, e.runs(), r.stderr)
	}
}

// TestTemplateParse pins what the saved file means: text lines starting
// with # are text, the markers cut off psnd's lines, CRLF is read as LF.
func TestTemplateParse(t *testing.T) {
	t.Parallel()
	tm := template{text: "#buildinpublic x", errors: []string{"tweet 1/2: too long"}, help: []string{"help", "", "more"}}
	cases := []struct{ name, content, want string }{
		{"untouched", tm.String(), "#buildinpublic x"},
		{"hashtags and # lines", "\n#buildinpublic\n# of people: 3\n#\n\n" + scissorsLine + "\n# help\n", "#buildinpublic\n# of people: 3\n#"},
		{"no scissors", "#a\n#b\n", "#a\n#b"},
		{"errors end marker deleted", strings.Replace(tm.String(), errorsEndLine+"\n", "", 1), "#buildinpublic x"},
		{"crlf", strings.ReplaceAll(tm.String(), "\n", "\r\n"), "#buildinpublic x"},
		{"only comments", "\n\n" + scissorsLine + "\n# x\n", ""},
		{"marker with trailing spaces", "a\n" + scissorsLine + "  \nb\n", "a"},
		// Some editors write a byte-order mark: it is no text (and X
		// refuses U+FEFF), so the template alone is still empty.
		{"bom, untouched", "\uFEFF" + template{help: []string{"help"}}.String(), ""},
		{"bom", "\uFEFF#buildinpublic İ\r\n" + scissorsLine + "\r\n", "#buildinpublic İ"},
		{"bom before the errors", "\uFEFF" + tm.String(), "#buildinpublic x"},
	}
	for _, c := range cases {
		if got := tm.parse(c.content); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestStripNumbers: only a consistent " i/n" on every tweet is taken as
// psnd's numbering.
func TestStripNumbers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   []string
		want string
		num  bool
	}{
		{[]string{"a 1/2", "b 2/2"}, "a|b", true},
		{[]string{"1/2", "b 2/2"}, "|b", true},
		{[]string{"a 1/2"}, "a 1/2", false},
		{[]string{"a 1/2", "b 2/3"}, "a 1/2|b 2/3", false},
		{[]string{"a1/2", "b 2/2"}, "a1/2|b 2/2", false},
	}
	for _, c := range cases {
		got, num := stripNumbers(c.in)
		if strings.Join(got, "|") != c.want || num != c.num {
			t.Errorf("%q: %q %v", c.in, got, num)
		}
	}
}

// TestEditorInvalidUTF8Reopens: a file saved in another encoding is not
// sent (JSON would turn its bytes into U+FFFD): the editor reopens on it
// with the error.
func TestEditorInvalidUTF8Reopens(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	e.write(1, "caf\xe9 latin-1\n").write(2, "café UTF-8\n")
	r := runTerminal(t, vars, "post", "--draft")
	if r.code != 0 || e.runs() != 2 || !strings.Contains(e.seen("seen", 2), "not valid UTF-8") {
		t.Fatalf("exit %d, %d runs\n%s%s\n%s", r.code, e.runs(), r.stdout, r.stderr, e.seen("seen", 2))
	}
	if posts := allPosts(t, vars); len(posts) != 1 || tweetTexts(posts[0])[0] != "café UTF-8" {
		t.Fatalf("posts: %+v", posts)
	}
}

// keptText reads the file psnd named in "your text is kept in PATH" on
// stderr, and removes its directory.
func keptText(t *testing.T, stderr string) string {
	t.Helper()
	_, rest, ok := strings.Cut(stderr, "your text is kept in ")
	path, _, _ := strings.Cut(rest, "\n")
	if !ok || path == "" {
		t.Errorf("stderr names no kept text: %q", stderr)
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("kept text: %v", err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err == nil && fi.Mode().Perm() != 0o700 {
		t.Errorf("kept text in a directory of mode %v", fi.Mode().Perm())
	}
	os.RemoveAll(filepath.Dir(path))
	return string(b)
}

// TestEditorKeepsTextWhenTheEditorFails: an editor that exits with an
// error after the user wrote (vim's :cq, a crash, a wrapper killed) aborts
// without posting, but the text the user wrote survives in a file psnd
// names, on the first run and on a reopen alike.
func TestEditorKeepsTextWhenTheEditorFails(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	e.write(1, "an hour of writing İ 東京 🎉\n").exit(1, 1)
	r := runTerminal(t, vars, "post", "--draft")
	if r.code != ExitError || !strings.Contains(r.stderr, "exited with status 1") {
		t.Fatalf("failing editor: exit %d, %q", r.code, r.stderr)
	}
	if got := keptText(t, r.stderr); got != "an hour of writing İ 東京 🎉\n" {
		t.Errorf("kept %q", got)
	}
	// Run 2 saves a text too long, run 3 (the reopen) fails untouched.
	long := "#buildinpublic " + strings.Repeat("Ⱥ", 290)
	e.write(2, long+"\n").exit(3, 1)
	r = runTerminal(t, vars, "post", "--draft")
	if r.code != ExitError || e.runs() != 3 {
		t.Fatalf("failing reopen: exit %d, %d runs, %q", r.code, e.runs(), r.stderr)
	}
	if got := keptText(t, r.stderr); got != long+"\n" {
		t.Errorf("kept %q", got)
	}
	// Quitting on the template alone keeps nothing: there is no text.
	e.exit(4, 1)
	if r = runTerminal(t, vars, "post", "--draft"); r.code != ExitError || strings.Contains(r.stderr, "kept") {
		t.Errorf("failing editor on the template: exit %d, %q", r.code, r.stderr)
	}
	if posts := allPosts(t, vars); len(posts) != 0 {
		t.Errorf("posts: %+v", posts)
	}
}

// TestEditorKeepsTextOnCtrlC: Ctrl-C while the editor is open (a GUI
// editor's --wait wrapper, or any editor that leaves the terminal's
// signals on) cancels the command, but what the user saved is kept and
// named, not deleted with the temporary directory.
func TestEditorKeepsTextOnCtrlC(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.write(1, "words worth keeping\n---\nשלום 👋\n")
	wait := e.during(1, cancel)
	r := runTerminalCtx(ctx, t, vars, "post", "--at", "+1h")
	if !wait() || r.code != ExitInterrupted || !strings.HasSuffix(r.stderr, "Cancelled.\n") {
		t.Fatalf("Ctrl-C in the editor: exit %d, %q", r.code, r.stderr)
	}
	if got := keptText(t, r.stderr); got != "words worth keeping\n---\nשלום 👋\n" {
		t.Errorf("kept %q", got)
	}
	if posts := allPosts(t, vars); len(posts) != 0 {
		t.Errorf("posts: %+v", posts)
	}
}

// TestEditorRunIDFence: a post changed while its text is open in the
// editor is not overwritten: the save is refused, the other change stays,
// and the user's text is kept and named.
func TestEditorRunIDFence(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	if r := run(t, vars, "", "post", "first İ", "--at", "+3h"); r.code != 0 {
		t.Fatalf("post: %+v", r)
	}
	e.write(1, "changed in the editor 東京\n")
	wait := e.during(1, func() {
		if r := run(t, vars, "", "edit", "1", "--text", "changed elsewhere"); r.code != 0 {
			t.Errorf("edit --text meanwhile: %+v", r)
		}
	})
	r := runTerminal(t, vars, "edit", "1")
	if !wait() || r.code != ExitError || !strings.Contains(r.stderr, "changed since it was read") {
		t.Fatalf("edit over a change: exit %d, %q", r.code, r.stderr)
	}
	if got := keptText(t, r.stderr); got != "changed in the editor 東京\n" {
		t.Errorf("kept %q", got)
	}
	if got := tweetTexts(showPost(t, vars, 1)); len(got) != 1 || got[0] != "changed elsewhere" {
		t.Errorf("the other change was overwritten: %q", got)
	}
}

// TestEditorUnchangedReopenStops: on a reopen, quitting without changing
// the text ends the session (the same text would fail the same way
// forever), keeping the text, instead of reopening again and again.
func TestEditorUnchangedReopenStops(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	long := strings.Repeat("東", 141)
	// Run 2 saves untouched; a run 3 (which must not come) would abort.
	e.write(1, long+"\n").write(3, "")
	r := runTerminal(t, vars, "post", "--draft")
	if r.code != ExitError || e.runs() != 2 || !strings.Contains(r.stderr, "unchanged") {
		t.Fatalf("unchanged reopen: exit %d after %d runs, %q", r.code, e.runs(), r.stderr)
	}
	if got := keptText(t, r.stderr); got != long+"\n" {
		t.Errorf("kept %q", got)
	}
}

// TestEditorRefusesThreadsItCannotShow: a thread made through the API
// (psnd mcp) whose first tweet is media alone, or whose tweet holds a line
// of only ---, cannot be written as text between --- lines: the editor
// would either refuse it unchanged or silently reshape it. psnd says so
// before any editor starts and changes nothing.
func TestEditorRefusesThreadsItCannotShow(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	pic := filepath.Join(t.TempDir(), "p.png")
	writePNG(t, pic, 1)
	c := apiclient.New(filepath.Join(vars["PSN_HOME"], "psnd.sock"), "test")
	ctx := context.Background()
	mediaFirst, err := c.CreatePost(ctx, api.CreatePost{Tweets: []string{"", "second İ"}, Media: []api.MediaInput{{Path: pic}}, Number: true, Draft: true})
	if err != nil {
		t.Fatal(err)
	}
	dashes, err := c.CreatePost(ctx, api.CreatePost{Tweets: []string{"Changelog\n---\nfixed 東京", "more"}, Draft: true})
	if err != nil {
		t.Fatal(err)
	}
	e.write(1, "\n---\nsecond İ edited\n").write(2, "Changelog\n---\nfixed 東京 again\n---\nmore\n")
	for _, p := range []api.Post{mediaFirst, dashes} {
		before := tweetTexts(p)
		r := runTerminal(t, vars, "edit", fmt.Sprint(p.ID))
		if r.code != ExitError || !strings.Contains(r.stderr, "--text") {
			t.Errorf("edit %d: exit %d, %q", p.ID, r.code, r.stderr)
		}
		if got := tweetTexts(showPost(t, vars, p.ID)); strings.Join(got, "|") != strings.Join(before, "|") {
			t.Errorf("post %d changed: %q, was %q", p.ID, got, before)
		}
	}
	if n := e.runs(); n != 0 {
		t.Errorf("the editor ran %d times", n)
	}
}

// TestEditorKeepsTextWhenTheDaemonGoes: the daemon stopping while the
// editor is open (a reboot of the service, a crash) does not lose the
// text: the post fails with the daemon's error and the text is kept.
func TestEditorKeepsTextWhenTheDaemonGoes(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	dvars := map[string]string{"PSN_HOME": shortHome(t), "PSN_TZ": "UTC"}
	cfg, err := config.Load(func(k string) string { return dvars[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{Env: cfg, Version: "test", Sandbox: true, Ready: func() { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	vars := map[string]string{"PSN_HOME": dvars["PSN_HOME"], "PSN_TZ": "UTC", "EDITOR": e.path, "NO_COLOR": "1"}
	e.write(1, "written while the daemon went away İ\n")
	wait := e.during(1, func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	r := runTerminal(t, vars, "post", "--draft")
	if !wait() || r.code == 0 {
		t.Fatalf("post with the daemon gone: exit %d, %q", r.code, r.stderr)
	}
	if got := keptText(t, r.stderr); got != "written while the daemon went away İ\n" {
		t.Errorf("kept %q", got)
	}
}

// TestEditorEditsMediaAlone: a post of media and no text opens on an empty
// text; saving it so is no change (not "Aborted: empty post.", exit 1),
// and a text written there goes with the media.
func TestEditorEditsMediaAlone(t *testing.T) {
	t.Parallel()
	e := newFakeEditor(t, "ed")
	vars := editorDaemon(t, e)
	pic := filepath.Join(t.TempDir(), "p.png")
	writePNG(t, pic, 1)
	if r := run(t, vars, "", "post", "", "--media", pic, "--draft"); r.code != 0 {
		t.Fatalf("post media alone: %+v", r)
	}
	r := runTerminal(t, vars, "edit", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") || !strings.Contains(e.seen("seen", 1), "media and no text") {
		t.Errorf("unchanged edit of media alone: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	e.write(2, "now with words İ\n")
	if r = runTerminal(t, vars, "edit", "1"); r.code != 0 {
		t.Fatalf("edit: exit %d, %q", r.code, r.stderr)
	}
	p := showPost(t, vars, 1)
	if len(p.Tweets) != 1 || p.Tweets[0].Text != "now with words İ" || len(p.Tweets[0].Media) != 1 {
		t.Errorf("after edit: %+v", p)
	}
}
