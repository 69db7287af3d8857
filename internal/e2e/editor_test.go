//go:build linux || darwin

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/testutil/ptytest"
)

// runInPTY runs the binary on a new pseudo-terminal, as from a user's
// shell, and returns its exit status and everything it wrote (\r\n read
// as \n).
func runInPTY(t *testing.T, environ []string, args ...string) (int, string) {
	t.Helper()
	code, out := ptytest.Run(t, psndBin, 120, environ, args...)
	return code, strings.ReplaceAll(out, "\r\n", "\n")
}

// TestEditScheduledPostInEditor: with the real binary on a terminal, a
// post written in the editor is scheduled, and `psnd edit ID` opens its
// text in the editor and saves the change, the time kept. Through pipes
// the same commands never start the editor.
func TestEditScheduledPostInEditor(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=UTC", "NO_COLOR=1", "TERM=xterm"}
	d := startDaemonArgs(t, environ, "serve", "--sandbox")
	defer d.stop(t)

	// The editor: the n-th run saves next.n over the file (and keeps a
	// copy of what it was shown); a run in a pipe would leave ran.n.
	dir := t.TempDir()
	script := filepath.Join(dir, "ed.sh")
	os.WriteFile(script, []byte(fmt.Sprintf(`#!/bin/sh
d='%s'
n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$d/count"
cp "$1" "$d/seen.$n"
cat "$d/next.$n" > "$1"
`, dir)), 0o755)
	os.WriteFile(filepath.Join(dir, "next.1"), []byte("#buildinpublic first draft İ\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "next.2"), []byte("#buildinpublic final 東京 🎉\n---\nשלום, part two\n"), 0o644)
	withEditor := append(append([]string(nil), environ...), "EDITOR="+script)

	code, out := runInPTY(t, withEditor, "post", "--at", "+3h")
	if code != 0 || !strings.Contains(out, "── 1/1 · ") || !strings.Contains(out, "Post 1 scheduled for") {
		t.Fatalf("post in the editor: exit %d\n%s", code, out)
	}
	var p api.Post
	runJSON(t, environ, &p, "show", "1", "--json")
	at := p.ScheduledAt
	if p.Status != api.StatusScheduled || len(p.Tweets) != 1 || p.Tweets[0].Text != "#buildinpublic first draft İ" || at == nil {
		t.Fatalf("after post: %+v", p)
	}

	code, out = runInPTY(t, withEditor, "edit", "1")
	if code != 0 || !strings.Contains(out, "Post 1 (a thread of 2 tweets) scheduled for") {
		t.Fatalf("edit in the editor: exit %d\n%s", code, out)
	}
	if seen, _ := os.ReadFile(filepath.Join(dir, "seen.2")); !strings.HasPrefix(string(seen), "#buildinpublic first draft İ\n# ----") {
		t.Errorf("edit opened the editor on:\n%s", seen)
	}
	runJSON(t, environ, &p, "show", "1", "--json")
	if len(p.Tweets) != 2 || p.Tweets[0].Text != "#buildinpublic final 東京 🎉" || p.Tweets[1].Text != "שלום, part two" ||
		p.Status != api.StatusScheduled || p.ScheduledAt == nil || !p.ScheduledAt.Equal(*at) {
		t.Fatalf("after edit: %+v", p)
	}

	// Through pipes: as before, and no editor.
	if _, errs, code := run(t, withEditor, "", "edit", "1"); code != 2 || !strings.Contains(errs, "say what to change") {
		t.Errorf("edit through pipes: exit %d, %s", code, errs)
	}
	if _, errs, code := run(t, withEditor, "", "post", "--at", "+1h"); code != 4 {
		t.Errorf("post with empty stdin: exit %d, %s", code, errs)
	}
	if n, _ := os.ReadFile(filepath.Join(dir, "count")); strings.TrimSpace(string(n)) != "2" {
		t.Errorf("the editor ran %s times, want 2", n)
	}
}

// TestCtrlCInEditorKeepsText: with the real binary on a terminal, Ctrl-C
// typed while the editor is open (here one that leaves the terminal's
// signals on, as a GUI editor's --wait wrapper does) ends psnd with
// "Cancelled." and status 130, nothing posted, and the text the user had
// saved kept in a file psnd names.
func TestCtrlCInEditorKeepsText(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=UTC", "NO_COLOR=1", "TERM=xterm"}
	d := startDaemonArgs(t, environ, "serve", "--sandbox")
	defer d.stop(t)

	// The editor saves a text, then waits on a named pipe.
	dir := t.TempDir()
	fifo := filepath.Join(dir, "wait")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "ed.sh")
	os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\nprintf 'an hour of writing İ 東京\\n' > \"$1\"\ncat '%s' > /dev/null\n", fifo)), 0o755)

	cmd := exec.Command(psndBin, "post", "--at", "+2h")
	cmd.Env = append(append([]string(nil), environ...), "EDITOR="+script)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	copied := make(chan error, 1)
	go func() { _, err := io.Copy(&buf, f); copied <- err }()
	// Opening the pipe's write end waits until the editor has saved and
	// is waiting: then the user types Ctrl-C.
	opened := make(chan *os.File, 1)
	go func() {
		w, _ := os.OpenFile(fifo, os.O_WRONLY, 0)
		opened <- w
	}()
	select {
	case w := <-opened:
		defer w.Close()
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the editor never started")
	}
	f.Write([]byte{0x03})
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("psnd did not end after Ctrl-C")
	}
	<-copied
	out := strings.ReplaceAll(buf.String(), "\r\n", "\n")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(out, "Cancelled.") {
		t.Fatalf("Ctrl-C in the editor: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(out, "your text is kept in ")
	path, _, _ := strings.Cut(rest, "\n")
	kept, rerr := os.ReadFile(path)
	if !ok || rerr != nil || string(kept) != "an hour of writing İ 東京\n" {
		t.Errorf("kept text in %q: %q %v\n%s", path, kept, rerr, out)
	}
	os.RemoveAll(filepath.Dir(path))
	var posts []api.Post
	runJSON(t, environ, &posts, "list", "--all", "--json")
	if len(posts) != 0 {
		t.Errorf("posts after Ctrl-C: %+v", posts)
	}
}
