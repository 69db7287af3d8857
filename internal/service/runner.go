package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Command is one invocation of a service-manager tool.
type Command struct {
	// Name is looked up on the PATH in Env (not the process's PATH), so a
	// test can put stand-ins first without touching its own environment.
	Name string
	Args []string
	// Env is the command's whole environment, in os.Environ form.
	Env []string
}

// Result is what a command that ran reported. A non-zero exit is a Result,
// not an error: for systemctl and launchctl the exit status carries meaning
// ("inactive", "not loaded").
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// Runner runs commands. Run returns an error only when the command could not
// be run at all; one wrapping exec.ErrNotFound means it is not on the PATH.
type Runner interface {
	Run(ctx context.Context, cmd Command) (Result, error)
}

// ExecRunner runs commands with os/exec, capturing stdout and stderr.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, c Command) (Result, error) {
	path, err := lookPath(c.Name, getenv(c.Env, "PATH"))
	if err != nil {
		return Result{}, err
	}
	var stdout, stderr bytes.Buffer
	// ETXTBSY: a script written a moment ago can still be open for writing
	// in a child another goroutine is forking (until that child execs and
	// its close-on-exec descriptors go). It clears at once; try again.
	for attempt := 0; ; attempt++ {
		stdout.Reset()
		stderr.Reset()
		cmd := exec.CommandContext(ctx, path, c.Args...)
		cmd.Args[0] = c.Name
		cmd.Env = c.Env
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 20 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		res.ExitCode = exit.ExitCode()
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s: %w", c.Name, ctx.Err())
	default:
		return res, fmt.Errorf("run %s: %w", c.Name, err)
	}
	return res, nil
}

// lookPath finds an executable named name in the given PATH list, the way
// exec.LookPath does with the process's own PATH.
func lookPath(name, pathList string) (string, error) {
	if filepath.IsAbs(name) {
		if isExecutable(name) {
			return name, nil
		}
		return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // never run something from the working directory
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
