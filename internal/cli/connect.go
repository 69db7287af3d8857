package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/when"
)

// session is a connected client with what the daemon told us about itself.
type session struct {
	c      *apiclient.Client
	health api.Health
	loc    *time.Location
	// noticed: the failure notice has been printed.
	noticed bool
}

// connect reaches the daemon, prints the one-line notices every client
// command shows before its own output (recent failures, a locked keyring
// or a key that does not match), and resolves the user's time zone.
func connect(ctx context.Context, env *Env) (*session, error) {
	return connectNotice(ctx, env, true)
}

// connectNotice is connect, printing the failure notice only when
// failures is set: commands that show failed posts themselves (list,
// show of a failed post, retry) leave it out, or print it later with
// s.failureNotice once they know.
func connectNotice(ctx context.Context, env *Env, failures bool) (*session, error) {
	c, err := client(env)
	if err != nil {
		return nil, err
	}
	h, err := c.Health(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := when.Location(env.Getenv("PSN_TZ"), h.Timezone)
	if err != nil {
		return nil, fmt.Errorf("PSN_TZ: %w", err)
	}
	s := &session{c: c, health: h, loc: loc}
	s.keyNotices(env)
	heldNotice(env, h)
	if failures {
		s.failureNotice(env)
	}
	return s, nil
}

func (s *session) keyNotices(env *Env) {
	h := s.health
	c := stderrColors(env)
	switch h.Status {
	case api.HealthWaitingForKeyring:
		fmt.Fprintln(env.Stderr, "psnd: "+c.yellow("notice:")+" the daemon is waiting for the keyring to unlock; nothing is published until it can read its key")
	case api.HealthKeyError:
		fmt.Fprintln(env.Stderr, "psnd: "+c.yellow("notice:")+" "+h.Keyring.LastError)
	}
}

// failureNotice prints the notice of recent failures, once.
func (s *session) failureNotice(env *Env) {
	if s.noticed {
		return
	}
	s.noticed = true
	failureNotice(env, s.health)
}

// failureNotice is the one line about posts that failed in the last day
// and scheduled posts pre-flight found at risk, printed before anything
// else a client command shows.
func failureNotice(env *Env, h api.Health) {
	if h.RecentFailures == 0 && h.AtRisk == 0 {
		return
	}
	var parts []string
	if n := h.RecentFailures; n > 0 {
		parts = append(parts, plural(n, "post", "posts")+" failed in the last 24 hours")
	}
	if n := h.AtRisk; n > 0 {
		parts = append(parts, plural(n, "scheduled post is", "scheduled posts are")+" at risk")
	}
	see := "psnd list --status failed"
	if h.AtRisk > 0 {
		see = "psnd list" // at-risk posts list first
	}
	c := stderrColors(env)
	fmt.Fprintf(env.Stderr, "psnd: %s %s; see `%s`\n", c.yellow("notice:"), strings.Join(parts, ", "), see)
}

// fetchPost parses a post ID argument, connects, and reads the post.
func fetchPost(ctx context.Context, env *Env, arg string) (*session, api.Post, error) {
	id, err := parseID(arg)
	if err != nil {
		return nil, api.Post{}, err
	}
	s, err := connectNotice(ctx, env, false)
	if err != nil {
		return nil, api.Post{}, err
	}
	p, err := s.c.GetPost(ctx, id)
	return s, p, err
}

// heldNotice is the one line about posts PSN_MONTHLY_BUDGET holds, printed
// by every client command: a held post goes out only when the user acts
// (or the month turns).
func heldNotice(env *Env, h api.Health) {
	if h.HeldOverBudget == 0 {
		return
	}
	what := fmt.Sprintf("%d posts are", h.HeldOverBudget)
	if h.HeldOverBudget == 1 {
		what = "1 post is"
	}
	budget := "the monthly budget"
	if h.BudgetUSD != nil {
		budget = fmt.Sprintf("the monthly budget of $%g", *h.BudgetUSD)
	}
	fmt.Fprintf(env.Stderr, "psnd: %s %s held by %s (PSN_MONTHLY_BUDGET); see `psnd usage`\n",
		stderrColors(env).yellow("notice:"), what, budget)
}
