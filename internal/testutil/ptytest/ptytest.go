//go:build linux || darwin

// Package ptytest runs a command on a new pseudo-terminal, as from a
// user's shell, for tests of what psnd does on a terminal (colour, the
// editor, prompts). It is shared by the cli and end-to-end tests.
package ptytest

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Run runs bin with stdin, stdout and stderr on a new pseudo-terminal of
// the given width (40 rows) and returns its exit status and everything it
// wrote, as the terminal wrote it (\n turned into \r\n). A command that
// does not finish within a minute fails the test.
func Run(t testing.TB, bin string, cols uint16, environ []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = environ
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: cols})
	if err != nil {
		t.Fatalf("start in a pty: %v", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	copied := make(chan error, 1)
	go func() { _, err := io.Copy(&buf, f); copied <- err }()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s %v did not finish", bin, args)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	// The copy ends when the terminal's last user is gone (EIO on Linux).
	select {
	case err := <-copied:
		if err != nil && !errors.Is(err, syscall.EIO) {
			t.Fatalf("read pty: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("pty output never ended; so far:\n%q", buf.String())
	}
	return code, buf.String()
}
