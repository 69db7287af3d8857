package cli

import (
	"log/slog"
	"sync"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/mcpserver"
	"github.com/psnd/psnd/internal/pricing"
)

func newMCPCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve the Model Context Protocol on stdio for AI assistants",
		Long: `Serve the Model Context Protocol (MCP) on stdin and stdout, so that an AI
assistant (Claude Code, Claude Desktop, or any MCP client) can check, split,
schedule, list, edit, cancel and retry posts with the same rules as this
command line. The assistant's MCP client starts this command itself; register
it with command "psnd" and args ["mcp"] (see the README, "AI assistants").

Tools: check_text and split_text work offline; create_post, list_posts,
get_post, edit_post, cancel_post, retry_post and queue talk to the daemon,
which must be running ('psnd serve', or 'psnd service install'). Times are read in your
time zone, as for 'psnd post'. Logs go to stderr; stdout carries the protocol.`,
		Example: `  claude mcp add psnd -- psnd mcp       # register it with Claude Code`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(env)
			if err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			var warned onceWarner
			return mcpserver.Run(cmd.Context(), mcpserver.Config{
				Client:  c,
				Version: env.Version,
				TZ:      env.Getenv("PSN_TZ"),
				Now:     env.Now,
				Logger:  logger,
				Prices:  func() pricing.Table { return loadPrices(env, warned.once(logger)) },
			}, env.Stdin, env.Stdout)
		},
	}
}

// onceWarner logs a warning the first time it is given (the price table
// is read on every call: a broken prices.json is said once, on stderr).
type onceWarner struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (o *onceWarner) once(logger *slog.Logger) func(string) {
	return func(msg string) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.seen[msg] {
			return
		}
		if o.seen == nil {
			o.seen = map[string]bool{}
		}
		o.seen[msg] = true
		logger.Warn(msg)
	}
}
