//go:build linux || darwin

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/testutil"
	"github.com/psnd/psnd/internal/testutil/ptytest"
)

// spinnerFrame is the spinner's first frame, which it always draws.
const spinnerFrame = "⠋ publishing post"

// TestTerminalOutputEndToEnd runs the real binary against `psnd serve
// --sandbox`: in a pseudo-terminal it colours statuses and shows the
// spinner while a post is published; with NO_COLOR, or through pipes, or
// with --json, the same commands print plain text.
func TestTerminalOutputEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp, err := os.MkdirTemp("/tmp", "psnd-pty-") // short: the socket path limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	bin := filepath.Join(tmp, "psnd")
	gobuild(t, bin, "github.com/psnd/psnd/cmd/psnd")
	home := filepath.Join(tmp, "home")
	// A clean environment: nothing of the caller's (NO_COLOR, PSN_*) leaks in.
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "PSN_HOME=" + home, "PSN_TZ=UTC", "TERM=xterm-256color"}
	startSandbox(t, bin, base, home)

	piped := func(args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Env = base
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("psnd %v: %v\n%s", args, err, errb.String())
		}
		return out.String(), errb.String()
	}
	inPTY := func(extra []string, args ...string) string {
		t.Helper()
		return runInPTY(t, bin, append(append([]string(nil), base...), extra...), args...)
	}

	// Through pipes: plain text, no spinner.
	out, errOut := piped("post", "first from a pipe", "--now")
	if !strings.Contains(out, "published as @sandbox") {
		t.Errorf("post --now through a pipe: %q", out)
	}
	if strings.Contains(out+errOut, "\x1b") || strings.Contains(errOut, spinnerFrame) {
		t.Errorf("escape codes or a spinner without a terminal:\n%q\n%q", errOut, out)
	}
	piped("post", "later from a pipe", "--at", "+2h")
	piped("post", "an idea", "--draft")
	out, errOut = piped("list")
	if strings.Contains(out+errOut, "\x1b") || !strings.Contains(out, "published") || !strings.Contains(out, "scheduled") {
		t.Errorf("list through a pipe:\n%q\n%q", errOut, out)
	}

	// In a terminal: the spinner while publishing, colour in the result.
	out = inPTY(nil, "post", "second, in a terminal", "--now")
	if !strings.Contains(out, spinnerFrame) || !strings.Contains(out, "\r\x1b[K") {
		t.Errorf("no spinner on a terminal:\n%q", out)
	}
	if !strings.Contains(out, "\x1b[32mpublished\x1b[0m as @sandbox") {
		t.Errorf("post --now on a terminal: no green 'published':\n%q", out)
	}
	out = inPTY(nil, "list")
	for _, want := range []string{"\x1b[32mpublished\x1b[0m", "\x1b[36mscheduled\x1b[0m", "\x1b[2mdraft\x1b[0m", "\x1b[1mSTATUS\x1b[0m"} {
		if !strings.Contains(out, want) {
			t.Errorf("list on a terminal lacks %q:\n%q", want, out)
		}
	}

	// NO_COLOR on a terminal: no colour, no spinner.
	for _, extra := range [][]string{{"NO_COLOR=1"}, {"TERM=dumb"}} {
		out = inPTY(extra, "post", "third, "+extra[0], "--now")
		if strings.Contains(out, "\x1b") || strings.Contains(out, spinnerFrame) {
			t.Errorf("%s: escape codes or a spinner:\n%q", extra[0], out)
		}
		if !strings.Contains(out, "published as @sandbox") {
			t.Errorf("%s: post --now: %q", extra[0], out)
		}
		if out = inPTY(extra, "list"); strings.Contains(out, "\x1b") {
			t.Errorf("%s: list has escape codes:\n%q", extra[0], out)
		}
	}

	// --json on a terminal is plain JSON.
	out = inPTY(nil, "list", "--json")
	var posts []api.Post
	if strings.Contains(out, "\x1b") || json.Unmarshal([]byte(strings.ReplaceAll(out, "\r\n", "\n")), &posts) != nil || len(posts) != 6 {
		t.Errorf("list --json on a terminal is not plain JSON of 6 posts:\n%q", out)
	}
}

// runInPTY runs bin on a new pseudo-terminal and returns everything it
// wrote (the terminal turns \n into \r\n); a non-zero exit fails the test.
func runInPTY(t *testing.T, bin string, environ []string, args ...string) string {
	t.Helper()
	code, out := ptytest.Run(t, bin, 200, environ, args...)
	if code != 0 {
		t.Fatalf("psnd %v: exit status %d\n%s", args, code, out)
	}
	return out
}

// startSandbox runs `psnd serve --sandbox` until the test ends.
func startSandbox(t *testing.T, bin string, environ []string, home string) {
	t.Helper()
	log := &testutil.SyncBuffer{}
	cmd := exec.Command(bin, "serve", "--sandbox")
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("psnd serve --sandbox: %v\n%s", err, log)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Errorf("psnd serve --sandbox did not stop on SIGTERM\n%s", log)
		}
	})
	c := apiclient.New(filepath.Join(home, "psnd.sock"), "test")
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := c.Health(context.Background())
		if err == nil && h.Status == api.HealthOK {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("psnd serve --sandbox exited: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("psnd serve --sandbox never became healthy: %+v %v\n%s", h, err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
