package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
)

func newVersionCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print psnd's version",
		Long: `Print this binary's version. Every client command also compares it with the
running daemon's and warns when they differ (restart the daemon after an
upgrade).`,
		Example: `  psnd version
  psnd version --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return writeJSON(env, map[string]string{"version": env.Version})
			}
			fmt.Fprintln(env.Stdout, "psnd", env.Version)
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the version")
	return cmd
}

// ServeOptions are the flags of `psnd serve`.
type ServeOptions struct {
	Sandbox bool
	Verbose bool
}

func newServeCmd(env *Env) *cobra.Command {
	var opts ServeOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the psnd daemon in the foreground",
		Long: `Run the daemon in the foreground, logging to stderr. It opens the database,
applies migrations, reads the data key from the OS keyring (PSN_KEYRING=file
keeps it in $PSN_HOME/master.key instead), and serves the local API on
$PSN_HOME/psnd.sock. Stop it with Ctrl-C (SIGINT) or SIGTERM. SIGHUP makes
it re-read $PSN_HOME/prices.json and look again at posts PSN_MONTHLY_BUDGET
holds (see 'psnd usage --help').

PSN_PREFLIGHT (default 15m; 0 turns it off) before a post is due, the
daemon refreshes its account's login and uploads its media, so that a
revoked login or a missing file shows at once as sub-status at_risk.

On a desktop it shows a notification when a post fails or an account must log
in again (D-Bus on Linux, Notification Center on macOS); PSN_NOTIFY=0 turns
that off.

systemd and launchd run exactly this command (see 'psnd service install').`,
		Example: `  psnd serve --sandbox             # try psnd offline, no X account needed
  psnd serve
  PSN_KEYRING=file psnd serve      # on a machine without a keyring`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env.Serve == nil {
				return fmt.Errorf("serve is not available in this build")
			}
			return env.Serve(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Sandbox, "sandbox", false, "publish to a built-in offline X (data in $PSN_HOME/sandbox)")
	cmd.Flags().BoolVar(&opts.Verbose, "verbose", false, "log debug detail")
	return cmd
}

func newShowCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one post with every tweet of its thread",
		Long: `Show one post: its status and sub-status, when it is scheduled, published or
retried next, why it failed, and each tweet of a thread with its X id once
posted. Times are in your time zone (PSN_TZ) with a relative hint.
ID is the number 'psnd post' printed and 'psnd list' shows.`,
		Example: `  psnd show 12
  psnd show 12 --json | jq -r '.tweets[].platform_post_id'`,
		Args:              exactArgs(1, "one post ID"),
		ValidArgsFunction: completePostIDs(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, p, err := fetchPost(cmd.Context(), env, args[0])
			if err != nil {
				return err
			}
			// Showing a failed post is looking at the failure already.
			if p.Status != api.StatusFailed {
				s.failureNotice(env)
			}
			if asJSON {
				return writeJSON(env, p)
			}
			return printPost(env, s.loc, p)
		},
	}
	jsonFlag(cmd, &asJSON, "the post")
	return cmd
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("post ID must be a positive number, not %q", s)
	}
	return id, nil
}

// writeJSON prints v as JSON on stdout by psnd's one rule for --json:
// indented for a person when stdout is a terminal, compact on one line
// otherwise (a pipe or a file, read by a program). JSON Lines output
// (check --batch, setup --json) is always one compact object a line.
func writeJSON(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	if env.StdoutIsTerminal {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

// copyJSON copies a JSON document that arrives compact (the daemon's
// answer) to stdout by writeJSON's rule: as it streams in when stdout is
// not a terminal, indented when it is.
func copyJSON(env *Env, stream func(w io.Writer) error) error {
	if !env.StdoutIsTerminal {
		return stream(env.Stdout)
	}
	var buf, out bytes.Buffer
	if err := stream(&buf); err != nil {
		return err
	}
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("read the daemon's JSON: %w", err)
	}
	_, err := env.Stdout.Write(out.Bytes())
	return err
}

// jsonFlag adds --json, worded the same everywhere: what it prints is
// named, and the output is the API's JSON (SPEC §7) for scripts.
func jsonFlag(cmd *cobra.Command, v *bool, what string) {
	cmd.Flags().BoolVar(v, "json", false, "print "+what+" as JSON instead of text")
}
