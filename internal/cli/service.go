package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/service"
)

func newServiceCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Install psnd as a per-user service (systemd on Linux, launchd on macOS)",
		Long: `Run the daemon in the background: a systemd user unit on Linux
(~/.config/systemd/user/psnd.service) or a launchd agent on macOS
(~/Library/LaunchAgents/` + service.Label + `.plist). The service runs this binary's
'psnd serve', restarts it if it fails, and carries PSN_HOME, PSN_KEYRING,
PSN_TZ, PSN_NOTIFY, PSN_PREFLIGHT and the PSN_X_* variables of the shell you
install from.

Logs go where the platform keeps them: journalctl --user -u psnd on Linux,
~/Library/Logs/psnd/psnd.log on macOS.`,
		Example: `  psnd service install
  psnd service status
  psnd service uninstall`,
		Args: exactArgs(0, "a subcommand: install, uninstall or status"),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newServiceInstallCmd(env), newServiceUninstallCmd(env), newServiceStatusCmd(env))
	return cmd
}

func serviceConfig(env *Env) (service.Config, error) {
	if env.ServiceConfig != nil {
		return env.ServiceConfig()
	}
	return service.DefaultConfig()
}

func newServiceInstallCmd(env *Env) *cobra.Command {
	var print, asJSON bool
	var flavour string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install, enable and start the service (idempotent)",
		Example: `  psnd service install
  psnd service install --print                    # show the unit without installing
  psnd service install --print --flavour launchd  # the macOS agent, from any platform`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := serviceConfig(env)
			if err != nil {
				return err
			}
			if print {
				f, err := pickFlavour(flavour, cfg.GOOS)
				if err != nil {
					return err
				}
				b, err := service.Render(f, cfg)
				if err != nil {
					return err
				}
				_, err = env.Stdout.Write(b)
				return err
			}
			if flavour != "" {
				return usagef("--flavour only goes with --print")
			}
			m, err := service.New(cfg)
			if err != nil {
				return err
			}
			if err := m.Install(cmd.Context()); err != nil {
				return err
			}
			st, err := m.Status(cmd.Context())
			if asJSON {
				if err != nil {
					return err
				}
				return writeJSON(env, st)
			}
			fmt.Fprintf(env.Stdout, "Installed %s and started psnd.\n", m.Path())
			for _, n := range service.Notes(m.Flavour()) {
				fmt.Fprintln(env.Stdout, "  "+n)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&print, "print", false, "print the unit (or plist) instead of installing it")
	cmd.Flags().StringVar(&flavour, "flavour", "", "with --print: systemd or launchd (default: this platform's)")
	_ = cmd.RegisterFlagCompletionFunc("flavour", cobra.FixedCompletions([]cobra.Completion{
		cobra.CompletionWithDesc("systemd", "Linux user unit"), cobra.CompletionWithDesc("launchd", "macOS agent")}, cobra.ShellCompDirectiveNoFileComp))
	jsonFlag(cmd, &asJSON, "the service's status")
	return cmd
}

func pickFlavour(name, goos string) (service.Flavour, error) {
	switch name {
	case "":
		return service.FlavourFor(goos)
	case string(service.Systemd):
		return service.Systemd, nil
	case string(service.Launchd):
		return service.Launchd, nil
	}
	return "", usagef("--flavour must be systemd or launchd, not %q", name)
}

// serviceManager is the service manager for this machine.
func serviceManager(env *Env) (*service.Manager, error) {
	cfg, err := serviceConfig(env)
	if err != nil {
		return nil, err
	}
	return service.New(cfg)
}

func newServiceUninstallCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop the service and remove its file (your data stays)",
		Example: `  psnd service uninstall
  psnd service uninstall --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := serviceManager(env)
			if err != nil {
				return err
			}
			if err := m.Uninstall(cmd.Context()); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, map[string]any{"uninstalled": true, "unit_path": m.Path()})
			}
			fmt.Fprintf(env.Stdout, "Removed %s; psnd no longer runs as a service. Your data is untouched.\n", m.Path())
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the result")
	return cmd
}

func newServiceStatusCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the service is installed, enabled, running, and which binary it runs",
		Example: `  psnd service status
  psnd service status --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := serviceManager(env)
			if err != nil {
				return err
			}
			st, err := m.Status(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, st)
			}
			yes := func(b bool) string {
				if b {
					return "yes"
				}
				return "no"
			}
			fmt.Fprintf(env.Stdout, "service:   %s (%s)\n", st.UnitPath, st.Flavour)
			fmt.Fprintf(env.Stdout, "installed: %s\nenabled:   %s\nrunning:   %s\n", yes(st.Installed), yes(st.Enabled), yes(st.Running))
			if st.Binary != "" {
				note := ""
				if !st.MatchesThisBinary {
					note = " (not this binary: run `psnd service install` to point it here)"
				}
				fmt.Fprintf(env.Stdout, "binary:    %s%s\n", st.Binary, note)
			}
			if st.Detail != "" {
				fmt.Fprintf(env.Stdout, "detail:    %s\n", st.Detail)
			}
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the service's status")
	return cmd
}
