package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
)

// Command groups of `psnd --help`.
var commandGroups = []*cobra.Group{
	{ID: "posts", Title: "Posts:"},
	{ID: "text", Title: "Text, offline:"},
	{ID: "accounts", Title: "Setup and accounts:"},
	{ID: "daemon", Title: "Daemon:"},
	{ID: "assistants", Title: "AI assistants:"},
}

// groupOf places each top-level command in a group by name, so that a
// command added to the tree anywhere lands in the right one.
var groupOf = map[string]string{
	"post": "posts", "list": "posts", "show": "posts", "edit": "posts", "import": "posts",
	"cancel": "posts", "retry": "posts", "delete": "posts", "queue": "posts", "slots": "posts",
	"check": "text", "split": "text",
	"setup": "accounts", "auth": "accounts",
	"serve": "daemon", "service": "daemon", "doctor": "daemon", "usage": "daemon",
	"mcp": "assistants",
}

// finishTree applies what every command shares: its help group, and no
// file-name completion where a command takes no file (none of psnd's
// positional arguments is a file; --media completes files by itself).
func finishTree(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.GroupID == "" {
			c.GroupID = groupOf[c.Name()]
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func newCompletionCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: `Print a script that makes your shell complete psnd's commands and flags, the
values of --status and --flavour, post IDs (show, edit, cancel, retry,
delete) and account names (--account, auth logout). IDs and accounts come
from the running daemon; without it they are simply not offered. A command
is offered at most 50 IDs, of the posts it can act on, in list order (what
needs attention, then the next scheduled, then the latest).

bash (needs the bash-completion package):
  psnd completion bash > ~/.local/share/bash-completion/completions/psnd
  # macOS with Homebrew: psnd completion bash > $(brew --prefix)/etc/bash_completion.d/psnd
  # or, for the current shell only: source <(psnd completion bash)

zsh:
  psnd completion zsh > "${fpath[1]}/_psnd"
  # compinit must run in ~/.zshrc (autoload -U compinit; compinit);
  # start a new shell afterwards.

fish:
  psnd completion fish > ~/.config/fish/completions/psnd.fish`,
		Example: `  psnd completion bash > ~/.local/share/bash-completion/completions/psnd
  psnd completion zsh > "${fpath[1]}/_psnd"
  psnd completion fish > ~/.config/fish/completions/psnd.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s expects one shell: bash, zsh or fish", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(env.Stdout, true)
			case "zsh":
				return root.GenZshCompletion(env.Stdout)
			case "fish":
				return root.GenFishCompletion(env.Stdout, true)
			}
			return usagef("psnd completes bash, zsh and fish, not %q", args[0])
		},
	}
	return cmd
}

// statusCompletions are the values of list --status, with what they mean.
var statusCompletions = []cobra.Completion{
	cobra.CompletionWithDesc(api.StatusFailed, "gave up; see the reason, then psnd retry"),
	cobra.CompletionWithDesc(api.StatusRetry, "failed for now; psnd retries by itself"),
	cobra.CompletionWithDesc(api.StatusScheduled, "waiting for its time"),
	cobra.CompletionWithDesc(api.StatusPublishing, "being posted right now"),
	cobra.CompletionWithDesc(api.StatusDraft, "saved, not scheduled"),
	cobra.CompletionWithDesc(api.StatusPublished, "on X"),
}

// completionClient is a quiet client for completion: no version warning
// (a shell would show it mid-line) and a short deadline, so a missing or
// busy daemon only means nothing is offered.
func completionClient(cmd *cobra.Command, env *Env) (*apiclient.Client, context.Context, context.CancelFunc, bool) {
	cfg, err := loadConfig(env)
	if err != nil {
		return nil, nil, nil, false
	}
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, 2*time.Second)
	return apiclient.New(cfg.SocketPath(), env.Version), ctx, cancel, true
}

// completeLimit is how many post IDs completion offers: a screenful, so
// that a TAB costs the same with 100 posts or 100,000.
const completeLimit = 50

// completePostIDs offers the IDs of posts (of the given statuses, those
// the command can act on; none means all) as the command's one positional
// argument, each described by its status and first words. It asks the
// daemon for one page, in list order: what needs attention, then the next
// scheduled, then the latest.
func completePostIDs(env *Env, statuses ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, ctx, cancel, ok := completionClient(cmd, env)
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer cancel()
		posts, _, err := c.ListPage(ctx, apiclient.ListQuery{Statuses: statuses, Limit: completeLimit})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, p := range posts {
			id := strconv.FormatInt(p.ID, 10)
			if !strings.HasPrefix(id, toComplete) {
				continue
			}
			text := ""
			if len(p.Tweets) > 0 {
				text = truncate(p.Tweets[0].Text, 40)
			}
			out = append(out, cobra.CompletionWithDesc(id, fmt.Sprintf("%s: %s", p.Status, text)))
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	}
}

// completeAccounts offers connected accounts' usernames.
func completeAccounts(env *Env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		c, ctx, cancel, ok := completionClient(cmd, env)
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer cancel()
		st, err := c.AuthStatus(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, a := range st.Accounts {
			desc := a.DisplayName
			if a.Default {
				desc += " (default)"
			}
			out = append(out, cobra.CompletionWithDesc(a.Username, strings.TrimSpace(desc)))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeAccountArg is completeAccounts for a single positional ACCOUNT.
func completeAccountArg(env *Env) cobra.CompletionFunc {
	accounts := completeAccounts(env)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return accounts(cmd, args, toComplete)
	}
}

// noFileFlags turns off file-name completion for flags whose values are
// not files (times, texts, names).
func noFileFlags(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		_ = cmd.RegisterFlagCompletionFunc(n, cobra.NoFileCompletions)
	}
}
