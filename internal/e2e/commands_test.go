package e2e

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
)

// TestSandboxPostNow is the first thing the README tells a new user to do:
// serve --sandbox, then post "hello" --now shows the post published with
// an id. No X, no keyring, no login.
func TestSandboxPostNow(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=UTC"}
	cmd := []string{"serve", "--sandbox"}
	d := startDaemonArgs(t, environ, cmd...)
	defer d.stop(t)
	out, errs, code := run(t, environ, "", "post", "hello", "--now")
	if code != 0 || !strings.Contains(out, "published as @sandbox") || !strings.Contains(out, "/status/") {
		t.Fatalf("post --now: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	var posts []api.Post
	runJSON(t, environ, &posts, "list", "--json")
	if len(posts) != 1 || posts[0].Status != "published" || len(posts[0].PlatformPostIDs) != 1 {
		t.Fatalf("list: %+v", posts)
	}
	// The real data directory is untouched by the sandbox.
	if _, err := os.Stat(filepath.Join(h, "psn.db")); err == nil {
		t.Fatal("sandbox wrote the real database")
	}
}

// TestPostingCommands drives every posting command of the real binary
// against a running daemon and a fake X.
func TestPostingCommands(t *testing.T) {
	x := xspec.NewServerIfSpec(t, fakex.Options{})
	user := fakex.User{ID: "7001", Username: "writer", Name: "Writer"}
	x.AddUser(user)
	srv := httptest.NewServer(x)
	defer srv.Close()
	h := home(t)
	environ := env(h, srv.URL)
	seedLogin(t, h, x, user)
	d := startDaemon(t, environ)
	defer d.stop(t)

	// Scheduled single post, shown in the user's zone with a relative hint.
	out, errs, code := run(t, environ, "", "post", "Tomorrow's news", "--at", "+1d")
	if code != 0 || !strings.Contains(out, "scheduled for") || !strings.Contains(out, "(in 24h)") {
		t.Fatalf("post --at: %d %s %s", code, out, errs)
	}
	var p api.Post
	runJSON(t, environ, &p, "post", "A thread\n---\nsecond\n---\nthird", "--at", "+2h", "--json")
	if len(p.Tweets) != 3 || p.Status != "scheduled" {
		t.Fatalf("thread: %+v", p)
	}
	id := itoa64(p.ID)
	// Edit the time and text, cancel, then retry is refused for a draft.
	runJSON(t, environ, &p, "edit", id, "--text", "New thread\n---\ntwo", "--at", "+3h", "--json")
	if len(p.Tweets) != 2 || p.Tweets[0].Text != "New thread" {
		t.Fatalf("edit: %+v", p)
	}
	runJSON(t, environ, &p, "cancel", id, "--json")
	if p.Status != "draft" || p.Tweets[1].Text != "two" {
		t.Fatalf("cancel: %+v", p)
	}
	if _, errs, code := run(t, environ, "", "retry", id); code != 1 || !strings.Contains(errs, "is a draft, so there is nothing to retry") || strings.Contains(errs, "can no longer be changed") {
		t.Fatalf("retry draft: %d %s", code, errs)
	}
	// Text from stdin, published now.
	out, errs, code = run(t, environ, "Posted from stdin", "post", "-", "--now")
	if code != 0 || !strings.Contains(out, "published") {
		t.Fatalf("post - --now: %d %s %s", code, out, errs)
	}
	// Bad input: one line, non-zero, nothing stored.
	var before []api.Post
	runJSON(t, environ, &before, "list", "--json")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"post", strings.Repeat("x", 300), "--now"}, 4},
		{[]string{"post", "no time given"}, 2},
		{[]string{"post", "past", "--at", "2001-01-01 10:00"}, 2},
		{[]string{"post", "bad time", "--at", "someday"}, 2},
		{[]string{"post", "x", "--now", "--media", "/does/not/exist.png"}, 1},
		{[]string{"edit", "999", "--text", "x"}, 1},
		{[]string{"show", "abc"}, 2},
	} {
		_, errs, code := run(t, environ, "", c.args...)
		// One line of error; a usage error adds one pointing to --help.
		if code != c.code || strings.Count(strings.TrimSpace(strings.Split(errs, "\nRun 'psnd ")[0]), "\n") != 0 {
			t.Errorf("%v: exit %d (want %d), stderr %q", c.args, code, c.code, errs)
		}
	}
	var after []api.Post
	runJSON(t, environ, &after, "list", "--json")
	if len(after) != len(before) {
		t.Fatalf("bad input changed the posts: %d → %d", len(before), len(after))
	}
	// Delete a published post on X: refused without a terminal or --yes.
	var pub []api.Post
	runJSON(t, environ, &pub, "list", "--status", "published", "--json")
	if len(pub) != 1 {
		t.Fatalf("published: %+v", pub)
	}
	pid := itoa64(pub[0].ID)
	if _, errs, code := run(t, environ, "", "delete", pid); code != 1 || !strings.Contains(errs, "--yes") {
		t.Fatalf("delete without --yes: %d %s", code, errs)
	}
	if out, errs, code := run(t, environ, "", "delete", pid, "--yes"); code != 0 || !strings.Contains(out, "on X") {
		t.Fatalf("delete --yes: %d %s %s", code, out, errs)
	}
	for _, tw := range x.Tweets() {
		if !tw.Deleted {
			t.Errorf("tweet %s still on X", tw.ID)
		}
	}
}

func itoa64(n int64) string {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return string(b[i:])
}

func TestSandboxRefusesLogin(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH")}
	d := startDaemonArgs(t, environ, "serve", "--sandbox")
	defer d.stop(t)
	_, errs, code := run(t, environ, "", "auth", "login", "--no-browser")
	if code == 0 || !strings.Contains(errs, "sandbox needs no login") {
		t.Fatalf("auth login in sandbox: exit %d, %s", code, errs)
	}
}
