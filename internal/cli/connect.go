package cli

import (
	"context"
	"fmt"
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
}

// connect reaches the daemon, prints the one-line notices every client
// command shows before its own output (recent failures, a locked keyring
// or a key that does not match), and resolves the user's time zone.
func connect(ctx context.Context, env *Env) (*session, error) {
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
	s.notices(env)
	return s, nil
}

func (s *session) notices(env *Env) {
	h := s.health
	c := stderrColors(env)
	switch h.Status {
	case api.HealthWaitingForKeyring:
		fmt.Fprintln(env.Stderr, "psnd: "+c.yellow("notice:")+" the daemon is waiting for the keyring to unlock; nothing is published until it can read its key")
	case api.HealthKeyError:
		fmt.Fprintln(env.Stderr, "psnd: "+c.yellow("notice:")+" "+h.Keyring.LastError)
	}
	failureNotice(env, h)
}

// failureNotice is the one line about posts that failed in the last day,
// printed before anything else a client command shows.
func failureNotice(env *Env, h api.Health) {
	if h.RecentFailures == 0 {
		return
	}
	plural := "s"
	if h.RecentFailures == 1 {
		plural = ""
	}
	c := stderrColors(env)
	fmt.Fprintf(env.Stderr, "psnd: %s %d post%s failed in the last 24 hours; see `psnd list --status failed`\n",
		c.yellow("notice:"), h.RecentFailures, plural)
}

// fetchPost parses a post ID argument, connects, and reads the post.
func fetchPost(ctx context.Context, env *Env, arg string) (*session, api.Post, error) {
	id, err := parseID(arg)
	if err != nil {
		return nil, api.Post{}, err
	}
	s, err := connect(ctx, env)
	if err != nil {
		return nil, api.Post{}, err
	}
	p, err := s.c.GetPost(ctx, id)
	return s, p, err
}
