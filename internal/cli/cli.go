// Package cli implements psnd's command line. Commands take their IO and
// environment from an Env value (never os.Stdout or os.Getenv directly), so
// tests run them in parallel; one place, exitCode, maps errors to exit
// statuses, and only main calls os.Exit.
//
// The command tree uses spf13/cobra: it is the de-facto standard for Go
// CLIs, well kept, and gives consistent help and shell completion for bash,
// zsh and fish without hand-written scripts.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/service"
	"github.com/psnd/psnd/internal/textutil"
)

// Exit statuses, documented in `psnd --help`.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitNoDaemon    = 3
	ExitInvalidText = 4
	// ExitInterrupted is the shell's status for a command ended by Ctrl-C
	// (128 + SIGINT).
	ExitInterrupted = 130
)

const exitHelp = `Exit status:
  0    success
  1    error (one line on stderr says what)
  2    usage error (bad flag or arguments)
  3    the daemon is not running (start it with: psnd serve)
  4    the text is not a valid post (check, split, post, edit)
  130  interrupted (Ctrl-C)`

// Env is everything a command may touch outside its arguments.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	GOOS           string
	Version        string
	// StdinIsTerminal / StdoutIsTerminal / StderrIsTerminal decide prompts,
	// colour and spinners.
	StdinIsTerminal, StdoutIsTerminal, StderrIsTerminal bool
	// Width is stdout's terminal width in columns (0 when unknown); nil
	// means $COLUMNS. psnd queue draws its grid when the week fits.
	Width func() int
	// Serve runs the daemon; main wires daemon.Run. Kept a function so the
	// CLI package does not link the store into every test of client commands.
	Serve func(ctx context.Context, opts ServeOptions) error
	// ServiceConfig describes this machine for `psnd service`; nil means
	// service.DefaultConfig (the process environment).
	ServiceConfig func() (service.Config, error)
	// OpenBrowser opens a URL in the user's browser (login); main wires
	// pkg/browser. nil means none: the URL is printed to paste instead.
	OpenBrowser func(url string) error
	// DiagnoseOffline examines the database and the data key for `psnd
	// doctor` when no daemon runs (read-only; it never creates a key); main
	// wires internal/doctor/storecheck. A function, like Serve, so that this
	// package does not link the store. nil: those checks are skipped.
	// sandbox: examine the sandbox's home (cfg.SandboxDir()) instead.
	DiagnoseOffline func(ctx context.Context, cfg config.Config, sandbox bool) []api.DoctorCheck
	// Now is the clock behind relative hints ("in 2h") and the relative
	// times users type ("+2h", "09:30"); nil means time.Now. Tests fix it
	// so that golden output does not depend on when they run.
	Now func() time.Time
}

// now is the command's idea of the current time.
func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// usageError marks errors that should print usage and exit 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitError carries a specific exit status with its message.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Main runs psnd with args (without the program name) and returns the exit
// status.
func Main(ctx context.Context, args []string, env Env) int {
	root := newRoot(&env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) && !isSilent(err) {
		// Ctrl-C: the user knows; no "context canceled".
		fmt.Fprintln(env.Stderr, "Cancelled.")
		return ExitInterrupted
	}
	code := exitCode(err)
	if !isSilent(err) {
		fmt.Fprintln(env.Stderr, "psnd: "+textutil.FirstLine(err.Error()))
	}
	if code == ExitUsage && cmd != nil {
		// One line pointing to the help, as git and gh do: the full usage
		// would bury the error.
		fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// silentError has already been reported (e.g. a check result printed).
type silentError struct{ code int }

func (s silentError) Error() string { return fmt.Sprintf("exit %d", s.code) }

func isSilent(err error) bool {
	var s silentError
	return errors.As(err, &s)
}

func exitCode(err error) int {
	var u usageError
	var e exitError
	var s silentError
	var ae *api.Error
	switch {
	case errors.As(err, &s):
		return s.code
	case errors.As(err, &u):
		return ExitUsage
	case errors.As(err, &e):
		return e.code
	case errors.Is(err, apiclient.ErrDaemonNotRunning):
		return ExitNoDaemon
	case errors.As(err, &ae) && ae.Code == api.CodeInvalidText:
		return ExitInvalidText
	case isCobraUsage(err):
		return ExitUsage
	}
	return ExitError
}

// isCobraUsage recognises the argument errors cobra builds itself.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "bad flag syntax"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "psnd",
		Short: "Schedule and publish posts to X from your own machine",
		Long: `psnd schedules and publishes posts, threads and media to X — exactly once, at
the minute you chose, from a daemon on your own machine.

Start the daemon with 'psnd serve' (or install it as a service with
'psnd service install'); every other command talks to it.

--json prints the same answer for programs: indented when stdout is a
terminal, compact on one line when it is a pipe or a file.`,
		Example: `  psnd serve --sandbox             # try psnd offline against a built-in fake X
  psnd post "hello" --now          # publish at once
  psnd list                        # what is scheduled, failed, published`,
		// `psnd --version` as well as `psnd version`, in the same words.
		Version:       env.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitHelp + "\n")
	root.SetVersionTemplate("psnd {{.Version}}\n")
	// Declared here so that cobra adds no -v (which reads as --verbose).
	root.Flags().Bool("version", false, "print psnd's version")
	root.AddGroup(commandGroups...)
	// psnd's own completion command: bash, zsh and fish only (psnd runs on
	// Linux and macOS), with install steps in its help.
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(
		newVersionCmd(env),
		newServeCmd(env),
		newListCmd(env),
		newShowCmd(env),
		newServiceCmd(env),
		newPostCmd(env),
		newEditCmd(env),
		newCancelCmd(env),
		newRetryCmd(env),
		newDeleteCmd(env),
		newAuthCmd(env),
		newSetupCmd(env),
		newCheckCmd(env),
		newSplitCmd(env),
		newDoctorCmd(env),
		newUsageCmd(env),
		newMCPCmd(env),
		newImportCmd(env),
		newSlotsCmd(env),
		newQueueCmd(env),
	)
	root.AddCommand(newCompletionCmd(env))
	finishTree(root)
	return root
}

// loadConfig resolves the environment for a command.
func loadConfig(env *Env) (config.Config, error) {
	return config.Load(env.Getenv, env.GOOS)
}

// client returns the API client for the configured data directory, warning
// once on stderr when the daemon runs another version.
func client(env *Env) (*apiclient.Client, error) {
	cfg, err := loadConfig(env)
	if err != nil {
		return nil, err
	}
	c := apiclient.New(cfg.SocketPath(), env.Version)
	c.Budget = cfg.Budget
	c.OnVersionMismatch = func(v string) {
		warn(env, fmt.Sprintf("the daemon runs version %s, this command is %s; restart the daemon", v, env.Version))
	}
	return c, nil
}

// exactArgs is cobra.ExactArgs with a usage error naming what is expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s expects %s", cmd.CommandPath(), what)
		}
		return nil
	}
}
