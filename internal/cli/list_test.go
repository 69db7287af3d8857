package cli

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
)

// manyPosts are n posts in list order: a few failed, many scheduled, and
// published ones.
func manyPosts(n int) []api.Post {
	var out []api.Post
	for i := range n {
		st := "scheduled"
		switch {
		case i < 3:
			st = "failed"
		case i >= n/2:
			st = "published"
		}
		out = append(out, api.Post{ID: int64(1000 + i), Account: "alice", Status: st,
			ScheduledAt: at(0), Tweets: []api.Tweet{{Text: fmt.Sprintf("post %d", i), Status: st}}})
	}
	return out
}

// Completion asks the daemon for one page of at most 50 posts, of the
// statuses the command can act on, and offers only those.
func TestCompletionAsksForOnePage(t *testing.T) {
	stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test"}, posts: manyPosts(400)}
	vars := stub.start(t)
	for _, c := range []struct {
		cmd      string
		statuses string // "" = all
	}{
		{"show", ""},
		{"delete", ""},
		{"edit", "draft,scheduled,failed,retry"},
		{"cancel", "scheduled,failed,retry"}, // display order (api.StatusesWhere)
		{"retry", "failed,retry"},
	} {
		stub.mu.Lock()
		stub.queries = nil
		stub.mu.Unlock()
		r := runAt(t, vars, false, cobra.ShellCompRequestCmd, c.cmd, "")
		if r.code != 0 {
			t.Fatalf("%s: exit %d %q", c.cmd, r.code, r.stderr)
		}
		stub.mu.Lock()
		queries := stub.queries
		stub.mu.Unlock()
		if len(queries) != 1 {
			t.Fatalf("%s: %d list requests %q, want one page", c.cmd, len(queries), queries)
		}
		q, _ := url.ParseQuery(queries[0])
		if q.Get("limit") != "50" || q.Get("status") != c.statuses {
			t.Errorf("%s asked %q, want limit=50 and status=%q", c.cmd, queries[0], c.statuses)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		ids := lines[:len(lines)-1] // the last line is the directive
		if len(ids) == 0 || len(ids) > 50 {
			t.Errorf("%s offered %d ids", c.cmd, len(ids))
		}
		for _, l := range ids {
			st := strings.SplitN(strings.SplitN(l, "\t", 2)[1], ":", 2)[0]
			if c.statuses != "" && !strings.Contains(c.statuses, st) {
				t.Errorf("%s offered %q", c.cmd, l)
			}
		}
	}
}

// The default view asks each of its three parts for --limit posts and
// says where a part has more; --all and --status walk every page.
func TestListDefaultViewAsksThreeParts(t *testing.T) {
	stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test"}, posts: manyPosts(400)}
	vars := stub.start(t)
	vars["PSN_TZ"] = "UTC"
	r := runAt(t, vars, false, "list")
	if r.code != 0 {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
	want := []string{"limit=20&status=failed%2Cretry%2Cpublishing", "limit=20&status=scheduled", "limit=20&status=draft%2Cpublished"}
	if strings.Join(stub.queries, " ") != strings.Join(want, " ") {
		t.Errorf("queries %q, want %q", stub.queries, want)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	// header, 3 failed, blank, 20 scheduled, hint, blank, 20 published, hint
	if len(lines) != 1+3+1+20+1+1+20+1 {
		t.Fatalf("%d lines:\n%s", len(lines), r.stdout)
	}
	for i, want := range map[int]string{1: "1000  failed", 4: "", 5: "1003  scheduled", 25: "… more scheduled: psnd list --status scheduled",
		27: "1200  published", 47: "… more drafts and published: psnd list --status draft,published"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want %q…", i, lines[i], want)
		}
	}

	stub.queries = nil
	r = runAt(t, vars, false, "list", "--all")
	if n := strings.Count(r.stdout, "\n"); r.code != 0 || n != 1+400+2 {
		t.Fatalf("--all: exit %d, %d lines", r.code, n)
	}
	if len(stub.queries) != 1 || stub.queries[0] != "" {
		t.Errorf("--all asked %q, want one streamed answer", stub.queries)
	}
	stub.queries = nil
	r = runAt(t, vars, false, "list", "--all", "--limit", "1500")
	if n := strings.Count(r.stdout, "\n"); r.code != 0 || n != 1+400+2 {
		t.Fatalf("--all --limit 1500: exit %d, %d lines", r.code, n)
	}
	if len(stub.queries) != 1 || stub.queries[0] != "limit=1000" {
		t.Errorf("--all --limit 1500 asked %q", stub.queries)
	}
}

// Column widths are fixed after a screenful of rows; later rows print as
// they come, aligned when they fit.
func TestListTableStreamsAfterAScreenful(t *testing.T) {
	posts := manyPosts(120)
	posts[100].Account = "a_much_longer_account_name"
	stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test"}, posts: posts}
	vars := stub.start(t)
	vars["PSN_TZ"] = "UTC"
	r := runAt(t, vars, false, "list", "--all")
	lines := strings.Split(r.stdout, "\n")
	header := lines[0]
	col := strings.Index(header, "TEXT")
	for _, l := range lines[1:] {
		if l == "" || strings.Contains(l, "a_much_longer") {
			continue
		}
		if strings.Index(l, "post ") != col {
			t.Fatalf("misaligned line %q (TEXT at %d)", l, col)
		}
	}
	if !strings.Contains(r.stdout, "@a_much_longer_account_name  post 100") {
		t.Errorf("the long cell pushes its line out by two spaces:\n%s", r.stdout)
	}
}
