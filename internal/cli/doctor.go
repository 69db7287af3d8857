package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/doctor"
	"github.com/psnd/psnd/internal/service"
	"github.com/psnd/psnd/internal/textutil"
)

func newDoctorCmd(env *Env) *cobra.Command {
	var asJSON, sandbox bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this machine's psnd setup and say how to fix what is wrong",
		Long: `Check everything psnd depends on and print one line per check, with the fix
for anything wrong: the data directory and file permissions, the database
(SQLite integrity check, schema version), the keyring and the data key, the
daemon (running, same version as this psnd), the X app credentials, each
account's login (valid, expiring, needs to log in again), the login callback
port, the clock (compared with X's), the background service, and failed posts
waiting for you.

With the daemon running, it reports on the database and key it holds; without
it, psnd doctor opens the database read-only and reads the key itself: it never
writes the database and never creates a key.

The first line names the home examined (--json: "home" and "sandbox"): the
running daemon's, which is the sandbox's ($PSN_HOME/sandbox) while psnd serve
--sandbox runs, else the real one ($PSN_HOME). --sandbox examines the
sandbox's home whatever runs: its database, key file and failed posts (the
sandbox needs no X app or login).

Exit status 1 when any check fails; warnings alone leave it 0.`,
		Example: `  psnd doctor
  psnd doctor --sandbox            # the sandbox's home, after the sandbox stopped
  psnd doctor --json | jq '.checks[] | select(.status != "ok")'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := runDoctor(cmd.Context(), env, sandbox)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(env, rep.DoctorReport); err != nil {
					return err
				}
			} else {
				printDoctor(env, rep)
			}
			if !rep.OK {
				return silentError{ExitError}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&sandbox, "sandbox", false, "examine the sandbox's home ($PSN_HOME/sandbox) instead of the real one")
	jsonFlag(cmd, &asJSON, "the checks and an overall ok")
	return cmd
}

// Bounds on what doctor waits for: a daemon that does not answer, X, and
// the service manager.
const (
	doctorHealthTimeout  = 10 * time.Second
	doctorDaemonTimeout  = 2 * time.Minute // integrity_check reads the whole file
	doctorClockTimeout   = 5 * time.Second
	doctorServiceTimeout = 15 * time.Second
)

// doctorResult is a report and, for people, the sandbox home it did not
// examine.
type doctorResult struct {
	api.DoctorReport
	// otherSandbox is the sandbox's home when the real one was examined
	// and the sandbox has data too.
	otherSandbox string
}

// runDoctor makes every check. What needs the database or the key comes
// from the daemon when it runs, else from env.DiagnoseOffline; the rest
// (files, version, clock, service, and the callback port without a daemon)
// is observed here. The home examined is the running daemon's (the
// sandbox's while the sandbox runs), else the real one, or the sandbox's
// with sandbox.
func runDoctor(ctx context.Context, env *Env, sandbox bool) (doctorResult, error) {
	cfg, err := loadConfig(env)
	if err != nil {
		return doctorResult{}, err
	}
	uid := os.Getuid()
	home := doctor.ObserveHome(cfg.Home)
	checks := []api.DoctorCheck{doctor.CheckDataDir(home, uid), doctor.CheckFileModes(home, uid)}

	c := apiclient.New(cfg.SocketPath(), env.Version)
	hctx, cancel := context.WithTimeout(ctx, doctorHealthTimeout)
	h, herr := c.Health(hctx)
	cancel()
	d := doctor.Daemon{Socket: cfg.SocketPath(), Running: !errors.Is(herr, apiclient.ErrDaemonNotRunning), Health: h,
		ForSandbox: sandbox}
	if d.Running {
		d.Err = herr
	}
	checks = append(checks, doctor.CheckDaemon(d, env.Version, env.GOOS, env.now()))

	// The sandbox's home, unless the sandbox is the daemon that answers,
	// is examined here: no daemon holds it.
	offline := !d.Running || sandbox && herr == nil && !h.Sandbox
	examined, inSandbox := cfg.Home, sandbox
	switch {
	case herr == nil && !offline:
		examined, inSandbox = h.DataDir, h.Sandbox
		if examined == "" { // an older daemon
			examined = h.Home
		}
	case sandbox:
		examined = cfg.SandboxDir()
	}

	switch {
	case offline && sandbox:
		if _, err := os.Stat(cfg.SandboxDir()); errors.Is(err, os.ErrNotExist) {
			checks = append(checks, doctor.Skip(doctor.NameDaemonChecks,
				"there is no sandbox home yet ("+cfg.SandboxDir()+"): `psnd serve --sandbox` makes it"))
		} else if env.DiagnoseOffline != nil {
			checks = append(checks, env.DiagnoseOffline(ctx, cfg, true)...)
		} else {
			checks = append(checks, doctor.Skip(doctor.NameDaemonChecks,
				"this psnd cannot examine the sandbox's database without the daemon; start it with `psnd serve --sandbox` and run `psnd doctor` again"))
		}
	case herr == nil:
		dctx, cancel := context.WithTimeout(ctx, doctorDaemonTimeout)
		rep, err := c.Doctor(dctx)
		cancel()
		var ae *api.Error
		switch {
		case err == nil:
			checks = append(checks, rep.Checks...)
		case errors.As(err, &ae) && ae.Code == api.CodeNotFound:
			checks = append(checks, doctor.Skip(doctor.NameDaemonChecks,
				"the daemon (psnd "+h.Version+") is too old to report on its database, key and accounts; restart it and run `psnd doctor` again"))
		default:
			checks = append(checks, api.DoctorCheck{Name: doctor.NameDaemonChecks, Status: api.CheckFail,
				Message: "the daemon could not check its database, key and accounts: " + textutil.FirstLine(err.Error()),
				Fix:     "see the daemon's log (`journalctl --user -u psnd` or the terminal running `psnd serve`)"})
		}
	case !d.Running:
		if env.DiagnoseOffline != nil {
			checks = append(checks, env.DiagnoseOffline(ctx, cfg, false)...)
		} else {
			checks = append(checks, doctor.Skip(doctor.NameDaemonChecks,
				"this psnd cannot examine the database without the daemon; start it and run `psnd doctor` again"))
		}
		checks = append(checks, doctor.CheckCallback(doctor.ProbeCallback(ctx, cfg.CallbackAddr)))
	default:
		checks = append(checks, doctor.Skip(doctor.NameDaemonChecks,
			"the daemon did not answer, so its database, key and accounts were not checked"))
	}

	hc := &http.Client{Timeout: doctorClockTimeout}
	checks = append(checks, doctor.CheckClock(doctor.ProbeClock(ctx, hc, cfg.APIURL, env.now), env.GOOS))
	checks = append(checks, doctorService(ctx, env))
	out := doctorResult{DoctorReport: doctor.Report(checks)}
	out.Home, out.Sandbox = examined, inSandbox
	if !inSandbox {
		if _, err := os.Stat(filepath.Join(cfg.SandboxDir(), filepath.Base(cfg.DBPath()))); err == nil {
			out.otherSandbox = cfg.SandboxDir()
		}
	}
	return out, nil
}

func doctorService(ctx context.Context, env *Env) api.DoctorCheck {
	cfg, err := serviceConfig(env)
	if err != nil {
		return doctor.CheckService(doctor.Service{Err: err})
	}
	m, err := service.New(cfg)
	if err != nil {
		return doctor.CheckService(doctor.Service{Err: err, ThisBinary: cfg.BinaryPath})
	}
	ctx, cancel := context.WithTimeout(ctx, doctorServiceTimeout)
	defer cancel()
	st, err := m.Status(ctx)
	return doctor.CheckService(doctor.Service{Status: st, Err: err, ThisBinary: cfg.BinaryPath})
}

// printDoctor prints one line per check, and the fix under any that is not
// ok. Marks are ✓ ! ✗ - on a terminal (coloured unless NO_COLOR), words
// elsewhere so that logs and pipes stay plain ASCII.
func printDoctor(env *Env, rep doctorResult) {
	pal := stdoutColors(env)
	if rep.Sandbox {
		fmt.Fprintf(env.Stdout, "Examined the sandbox's home %s (psnd serve --sandbox), not your real data.\n", rep.Home)
	} else {
		fmt.Fprintf(env.Stdout, "Examined the real home %s.\n", rep.Home)
	}
	if rep.otherSandbox != "" {
		fmt.Fprintf(env.Stdout, "The sandbox's home %s is not examined: `psnd doctor --sandbox` examines it.\n", rep.otherSandbox)
	}
	fmt.Fprintln(env.Stdout)
	fancy := env.StdoutIsTerminal && env.Getenv("TERM") != "dumb"
	mark := func(status string) string {
		if !fancy {
			switch status {
			case api.CheckOK:
				return "[ok]  "
			case api.CheckWarn:
				return "[warn]"
			case api.CheckFail:
				return "[FAIL]"
			}
			return "[skip]"
		}
		switch status {
		case api.CheckOK:
			return pal.green("✓")
		case api.CheckWarn:
			return pal.yellow("!")
		case api.CheckFail:
			return pal.red("✗")
		}
		return pal.dim("-")
	}
	indent := "  "
	if !fancy {
		indent = "       "
	}
	width := 0
	for _, c := range rep.Checks {
		width = max(width, displayWidth(c.Name))
	}
	counts := map[string]int{}
	for _, c := range rep.Checks {
		counts[c.Status]++
		fmt.Fprintf(env.Stdout, "%s %s  %s\n", mark(c.Status), padRight(c.Name, width), c.Message)
		if c.Fix != "" && c.Status != api.CheckOK {
			fmt.Fprintf(env.Stdout, "%s%-*s  %s %s\n", indent, width, "", pal.bold("fix:"), c.Fix)
		}
	}
	var parts []string
	if n := counts[api.CheckFail]; n > 0 {
		parts = append(parts, pal.red(fmt.Sprintf("%d failed", n)))
	}
	if n := counts[api.CheckWarn]; n > 0 {
		parts = append(parts, pal.yellow(fmt.Sprintf("%d %s", n, pluralWord(n, "warning", "warnings"))))
	}
	if n := counts[api.CheckSkip]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", n))
	}
	fmt.Fprintln(env.Stdout)
	if len(parts) == 0 {
		fmt.Fprintln(env.Stdout, pal.green(fmt.Sprintf("All %d checks passed.", len(rep.Checks))))
		return
	}
	fmt.Fprintf(env.Stdout, "%d ok, %s.\n", counts[api.CheckOK], strings.Join(parts, ", "))
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
