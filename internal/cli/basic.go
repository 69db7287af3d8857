package cli

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

func newVersionCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print psnd's version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return writeJSON(env.Stdout, map[string]string{"version": env.Version})
			}
			fmt.Fprintln(env.Stdout, "psnd", env.Version)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
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
$PSN_HOME/psnd.sock. Stop it with Ctrl-C (SIGINT) or SIGTERM.

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

func newListCmd(env *Env) *cobra.Command {
	var asJSON bool
	var status string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List posts: failed first, then scheduled, drafts and published",
		Example: `  psnd list
  psnd list --status scheduled --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			posts, err := s.c.ListPosts(cmd.Context(), status)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, posts)
			}
			return printPostTable(env, s.loc, posts)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (an array of posts)")
	cmd.Flags().StringVar(&status, "status", "", "only posts with this status: draft, scheduled, publishing, published, failed, retry")
	return cmd
}

func newShowCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "show ID",
		Short:   "Show one post with every tweet of its thread",
		Example: `  psnd show 12 --json`,
		Args:    exactArgs(1, "one post ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			p, err := s.c.GetPost(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, p)
			}
			return printPost(env, s.loc, p)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("post ID must be a positive number, not %q", s)
	}
	return id, nil
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
