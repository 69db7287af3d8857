package cli

// Tests for issue 10, "a new user's first hour": each stumble, through the
// real command against a real (sandbox) daemon where one is needed.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
)

// runTTY is run with stdin (and stdout, stderr) on a terminal, as at a
// prompt.
func runTTY(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] }, GOOS: "linux", Version: "test",
		StdinIsTerminal: true,
	}
	code := Main(context.Background(), args, env)
	return result{code, out.String(), errb.String()}
}

// sandboxVars starts a sandbox daemon and returns the CLI's variables once
// it has read its key (before that, every command prints a keyring notice).
func sandboxVars(t *testing.T, tz string) map[string]string {
	t.Helper()
	home := startSandboxDaemon(t, map[string]string{})
	c := apiclient.New(filepath.Join(home, "psnd.sock"), "test")
	for deadline := time.Now().Add(30 * time.Second); ; {
		h, err := c.Health(context.Background())
		if err == nil && h.Status == api.HealthOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox daemon never became healthy: %+v %v", h, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return map[string]string{"PSN_HOME": home, "PSN_TZ": tz}
}

var postIDRe = regexp.MustCompile(`Post (\d+)`)

// postID is the ID a post/edit command printed.
func postID(t *testing.T, r result) string {
	t.Helper()
	m := postIDRe.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no post ID in %+v", r)
	}
	return m[1]
}

// failedPost publishes text once, then again, which the sandbox X refuses
// as a duplicate: the second post fails. It returns that result.
func failedPost(t *testing.T, vars map[string]string, text string) result {
	t.Helper()
	if r := run(t, vars, "", "post", text, "--now"); r.code != 0 {
		t.Fatalf("first post: %+v", r)
	}
	r := run(t, vars, "", "post", text, "--now")
	if r.code != ExitError {
		t.Fatalf("duplicate post: %+v, want it to fail", r)
	}
	return r
}

// Item 1 and 12: editing a failed post's text worked, so it is no error;
// the result says the post is still failed and how to retry it. A failed
// post is reported as "has failed", a thread with its tweet count.
func TestEditTextOfFailedPost(t *testing.T) {
	vars := sandboxVars(t, "UTC")
	r := failedPost(t, vars, "Duplicate İ Ⱥ 漢字 🪁")
	id := postID(t, r)
	if !strings.Contains(r.stdout, "Post "+id+" has failed") || strings.Contains(r.stdout, "is failed") {
		t.Errorf("failed post reported as %q", r.stdout)
	}
	r = run(t, vars, "", "edit", id, "--text", "Fixed İ Ⱥ 漢字 🪁")
	want := "Post " + id + ": text updated; the post is still failed: run `psnd retry " + id + "`\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("edit --text of a failed post = %+v, want exit 0 and %q", r, want)
	}
	var p api.Post
	if r := run(t, vars, "", "show", id, "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil ||
		p.Status != "failed" || p.Tweets[0].Text != "Fixed İ Ⱥ 漢字 🪁" {
		t.Errorf("after the edit: %+v", p)
	}
	// --json: the post, exit 0 as well.
	if r := run(t, vars, "", "edit", id, "--text", "Fixed again", "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil {
		t.Errorf("edit --json of a failed post: %+v", r)
	}

	// A thread whose first tweet X refuses.
	run(t, vars, "", "post", "Thread head", "--now")
	r = run(t, vars, "", "post", "Thread head\n---\ntwo\n---\nthree", "--now")
	if r.code != ExitError || !regexp.MustCompile(`Post \d+ \(a thread of 3 tweets\) has failed\n`).MatchString(r.stdout) {
		t.Errorf("failed thread reported as %+v", r)
	}
}

// Item 5: an error is one true sentence saying what to do, without the
// store's "post can no longer be changed" or ": not found" after it.
func TestErrorsAreOneTrueSentence(t *testing.T) {
	vars := sandboxVars(t, "UTC")
	pub := postID(t, run(t, vars, "", "post", "published one", "--now"))
	sched := postID(t, run(t, vars, "", "post", "scheduled one", "--at", "+2h"))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"edit", pub, "--text", "new"}, "psnd: post " + pub + " is already published and cannot be edited (delete it with `psnd delete " + pub + "`)\n"},
		{[]string{"retry", sched}, "psnd: post " + sched + " is scheduled and has not failed, so there is nothing to retry; to publish it now, run `psnd edit " + sched + " --now`\n"},
		{[]string{"auth", "logout", "@nobody"}, "psnd: no connected account \"@nobody\": `psnd auth status` lists the connected ones\n"},
	}
	for _, c := range cases {
		r := run(t, vars, "", c.args...)
		if r.code != ExitError || r.stderr != c.want {
			t.Errorf("psnd %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
}

// Item 6: a bad --status is a usage error (2); declining the delete
// question is an answer, not an error: "Nothing deleted." on stdout, exit
// 0, the post kept. Item 12: "1 tweet", not "1 tweets".
func TestExitCodesOfListAndDelete(t *testing.T) {
	vars := sandboxVars(t, "UTC")
	r := run(t, vars, "", "list", "--status", "bogus")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `unknown status "bogus"`) {
		t.Errorf("list --status bogus: %+v, want exit 2", r)
	}
	id := postID(t, run(t, vars, "", "post", "to delete", "--now"))
	for _, answer := range []string{"n\n", "\n", "no\n", ""} {
		r = runTTY(t, vars, answer, "delete", id)
		if r.code != 0 || r.stdout != "Nothing deleted.\n" || r.stderr != "Delete post "+id+" from X (1 tweet) and from psnd? [y/N] " {
			t.Errorf("delete answered %q: %+v", answer, r)
		}
	}
	if r := run(t, vars, "", "show", id); r.code != 0 {
		t.Fatalf("the post is gone after answering no: %+v", r)
	}
	r = runTTY(t, vars, "y\n", "delete", id)
	if r.code != 0 || r.stdout != "Deleted post "+id+" here and 1 tweet on X.\n" {
		t.Errorf("delete answered y: %+v", r)
	}
}

// Item 8: a usage error is the error and one line pointing to --help, not
// the whole usage; the --at help stands on its own.
func TestUsageErrorIsTwoLines(t *testing.T) {
	for _, c := range []struct {
		args []string
		help string
	}{
		{[]string{"bogus"}, "psnd"},
		{[]string{"list", "--bogus"}, "psnd list"},
		{[]string{"show"}, "psnd show"},
		{[]string{"post", "hello"}, "psnd post"},
		{[]string{"auth", "logout", "a", "b"}, "psnd auth logout"},
	} {
		r := run(t, nil, "", c.args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != ExitUsage || len(lines) != 2 || !strings.HasPrefix(lines[0], "psnd: ") ||
			lines[1] != "Run '"+c.help+" --help' for usage." || r.stdout != "" {
			t.Errorf("psnd %s: exit %d, stderr %q", strings.Join(c.args, " "), r.code, r.stderr)
		}
	}
	for _, cmd := range []string{"post", "edit"} {
		r := run(t, nil, "", cmd, "--help")
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Contains(line, "--at string") && (strings.Contains(line, "see above") || !strings.Contains(line, "+2h")) {
				t.Errorf("%s --at help: %q", cmd, line)
			}
		}
	}
}

// Item 11: one rule for --json everywhere: indented on a terminal,
// compact (one line) when stdout is a pipe or a file.
func TestJSONOneRule(t *testing.T) {
	stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test"}, posts: seededPosts(), auth: seededAuthStatus()}
	vars := stub.start(t)
	vars["PSN_TZ"] = "UTC"
	for _, args := range [][]string{
		{"list", "--json"}, {"show", "7", "--json"}, {"auth", "status", "--json"}, {"version", "--json"},
		{"check", "hello", "--json"}, {"split", "hello", "--json"},
	} {
		for _, tty := range []bool{false, true} {
			r := runAt(t, vars, tty, args...)
			if r.code != 0 || !json.Valid([]byte(r.stdout)) {
				t.Fatalf("psnd %v (terminal %v): %+v", args, tty, r)
			}
			lines := strings.Count(r.stdout, "\n")
			if !tty && lines != 1 {
				t.Errorf("psnd %s through a pipe: %d lines, want one compact line:\n%s", strings.Join(args, " "), lines, r.stdout)
			}
			if tty && (lines < 3 || !strings.Contains(r.stdout, "\n  ")) {
				t.Errorf("psnd %s on a terminal: not indented:\n%s", strings.Join(args, " "), r.stdout)
			}
		}
	}
}

// Item 12: the wording list.
func TestWording(t *testing.T) {
	vars := sandboxVars(t, "Europe/Paris")
	check := func(name string, r result, code int, want ...string) {
		t.Helper()
		if r.code != code {
			t.Errorf("%s: exit %d, want %d: %+v", name, r.code, code, r)
		}
		for _, w := range want {
			if !strings.Contains(r.stdout+r.stderr, w) {
				t.Errorf("%s: output lacks %q: %+v", name, w, r)
			}
		}
	}
	r := run(t, vars, "", "post", "x", "--alt", "a kite", "--now")
	check("--alt without --media", r, ExitUsage, "psnd: 1 --alt text for 0 --media files: give one --alt per --media file, in the same order\n")

	r = run(t, vars, "", "post", "x", "--at", "2020-01-01 10:00")
	check("a past --at", r, ExitUsage, "psnd: --at 2020-01-01 10:00 CET", "is in the past; give a future time, or --now\n")
	if strings.Contains(r.stderr, "T09:00:00Z") {
		t.Errorf("the past time in UTC: %q", r.stderr)
	}

	id := postID(t, run(t, vars, "", "post", "short", "--at", "+2h"))
	r = run(t, vars, "", "edit", id, "--text", strings.Repeat("long words ", 40))
	check("edit too long", r, ExitInvalidText, "`psnd edit "+id+" --thread`")
	if strings.Contains(r.stderr, "psnd post --thread") {
		t.Errorf("edit suggests psnd post: %q", r.stderr)
	}

	r = run(t, vars, "", "post", "right away", "--now", "--wait=false")
	check("--now --wait=false", r, 0, "is being published now as @sandbox")
	if strings.Contains(r.stdout, "scheduled for") {
		t.Errorf("--now --wait=false says scheduled: %q", r.stdout)
	}

	dir := t.TempDir()
	r = run(t, vars, "", "post", "x", "--media", dir, "--now")
	check("--media a directory", r, ExitError, "psnd: "+dir+" is not a regular file\n")
	missing := filepath.Join(dir, "x.png")
	r = run(t, vars, "", "post", "x", "--media", missing, "--now")
	check("--media a missing file", r, ExitError, "psnd: media file "+missing+" does not exist\n")

	r = run(t, nil, "", "auth", "reset-key", "--help")
	if strings.Contains(r.stdout, "health") {
		t.Errorf("reset-key --json described as the daemon's health:\n%s", r.stdout)
	}
}

// Item 13: --version as well as version; a relative PSN_HOME is refused
// in one line (each process would resolve it in its own directory).
func TestVersionFlagAndRelativeHome(t *testing.T) {
	if r := run(t, nil, "", "--version"); r.code != 0 || r.stdout != "psnd test\n" || r.stderr != "" {
		t.Errorf("psnd --version: %+v", r)
	}
	wd, _ := os.Getwd()
	for _, args := range [][]string{{"list"}, {"setup"}, {"auth", "status"}} {
		r := run(t, map[string]string{"PSN_HOME": "data"}, "", args...)
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, `PSN_HOME="data" is a relative path`) ||
			!strings.Contains(r.stdout+r.stderr, filepath.Join(wd, "data")) {
			t.Errorf("psnd %v with a relative PSN_HOME: %+v", args, r)
		}
	}
}

// Item 7: Ctrl-C during a login says "Login cancelled." and exits 130, in
// `auth login` and in `setup`; `auth login --no-browser` with stdin at its
// end fails at once, saying how to paste, instead of waiting out the
// timeout.
func TestLoginCancelledAndStdinAtEnd(t *testing.T) {
	w := newLoginWorld(t)
	w.withApp(t)
	noBrowser := func(string) error { return nil } // "opens" nothing: no redirect comes
	for _, args := range [][]string{{"auth", "login", "--timeout", "10m"}, {"setup", "--timeout", "10m"}} {
		ctx, cancel := context.WithCancel(context.Background())
		s := startSession(t, sessionOpts{vars: w.vars, openBrowser: noBrowser, ctx: ctx}, args...)
		s.waitFor(t, "/i/oauth2/authorize?")
		cancel() // what signal.NotifyContext does on Ctrl-C
		code := s.wait(t)
		errOut := s.stderr.String()
		if code != ExitInterrupted || !strings.HasSuffix(errOut, "\nLogin cancelled.\n") ||
			strings.Contains(errOut+s.stdout.String(), "context canceled") || strings.Contains(s.stdout.String(), "FAILED") {
			t.Errorf("psnd %v, Ctrl-C: exit %d\nstdout %q\nstderr %q", args, code, s.stdout, errOut)
		}
		cancel()
	}

	s := startSession(t, sessionOpts{vars: w.vars}, "auth", "login", "--no-browser", "--timeout", "10m")
	s.stdin.Close() // < /dev/null
	code := s.wait(t)
	if code != ExitError || !strings.Contains(s.stderr.String(), "psnd: stdin ended before a redirect URL was pasted; run `psnd auth login --no-browser` in a terminal") {
		t.Errorf("auth login --no-browser < /dev/null: exit %d, stderr %q", code, s.stderr)
	}
}
