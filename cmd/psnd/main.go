// Command psnd schedules and publishes posts to X: `psnd serve` runs the
// daemon, every other subcommand is a client of its local API or works
// offline (check, split, version, service).
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/pkg/browser"
	"golang.org/x/term"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/cli"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
	"github.com/psnd/psnd/internal/doctor/storecheck"
	"github.com/psnd/psnd/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// pkg/browser copies the launcher's output to ours; keep it quiet.
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	env := cli.Env{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		GOOS:             runtime.GOOS,
		Version:          version.String(),
		StdinIsTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		Width: func() int {
			w, _, err := term.GetSize(int(os.Stdout.Fd()))
			if err != nil {
				return 0
			}
			return w
		},
		Serve:           serve,
		OpenBrowser:     browser.OpenURL,
		DiagnoseOffline: diagnoseOffline,
	}
	code := cli.Main(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

// serve runs the daemon with a text logger on stderr (systemd's journal and
// launchd's log files pick it up).
func serve(ctx context.Context, opts cli.ServeOptions) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if opts.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// SIGHUP re-reads the price file and looks at posts held by the
	// monthly budget again (only the daemon catches it).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	return daemon.Run(ctx, daemon.Config{
		Reload:  reload,
		Env:     cfg,
		Version: version.String(),
		Logger:  log,
		Sandbox: opts.Sandbox,
		// Only when an API client asks: the CLI opens the browser itself.
		OpenBrowser: browser.OpenURL,
	})
}

// diagnoseOffline is `psnd doctor`'s look at the database and the data key
// when no daemon runs: the database opened read-only, the key read (never
// created) from the keyring PSN_KEYRING selects, each OS keyring call under
// a timeout; or the sandbox's database and key file.
func diagnoseOffline(ctx context.Context, cfg config.Config, sandbox bool) []api.DoctorCheck {
	return storecheck.Offline(ctx, storecheck.Options{Env: cfg, Sandbox: sandbox})
}
