package cli

import (
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
)

// TestAtRiskNotice: the one-line notice also counts scheduled posts that
// pre-flight found at risk, and points at the list that shows them first.
func TestAtRiskNotice(t *testing.T) {
	for _, c := range []struct {
		failed, atRisk int
		want           string
	}{
		{0, 1, "psnd: notice: 1 scheduled post is at risk; see `psnd list`\n"},
		{2, 3, "psnd: notice: 2 posts failed in the last 24 hours, 3 scheduled posts are at risk; see `psnd list`\n"},
		{1, 0, "psnd: notice: 1 post failed in the last 24 hours; see `psnd list --status failed`\n"},
	} {
		stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test", RecentFailures: c.failed, AtRisk: c.atRisk,
			Keyring: api.Keyring{State: "ready"}}, posts: seededPosts(), auth: seededAuthStatus()}
		vars := stub.start(t)
		vars["PSN_TZ"] = "UTC"
		r := runAt(t, vars, false, "show", "3")
		if !strings.HasPrefix(r.stderr, c.want) {
			t.Errorf("%d failed, %d at risk: stderr %q, want %q first", c.failed, c.atRisk, r.stderr, c.want)
		}
	}
}
