package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// TestBudgetEndToEnd drives PSN_MONTHLY_BUDGET through the real binary and
// the sandbox's X (issue 14): a post past the budget is held and `post
// --now` says so in one line; every command's notice mentions it; a command
// run with a higher budget lets it go; SIGHUP re-reads the price file; a
// restart without the variable keeps the last budget given; a bad value is
// one clear error.
func TestBudgetEndToEnd(t *testing.T) {
	h := home(t)
	base := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=UTC"}
	withBudget := func(v string) []string { return append(append([]string{}, base...), "PSN_MONTHLY_BUDGET="+v) }
	d := startDaemonArgs(t, withBudget("0.03"), "serve", "--sandbox")
	stopped := false
	defer func() {
		if !stopped {
			d.stop(t)
		}
	}()

	for _, text := range []string{"İlk gönderi 🪁", "東京の二つ目"} {
		if out, errs, code := run(t, base, "", "post", text, "--now"); code != 0 || !strings.Contains(out, "published") {
			t.Fatalf("post %q: exit %d\n%s%s", text, code, out, errs)
		}
	}
	out, errs, code := run(t, base, "", "post", "ثالث — one too many", "--now")
	wantLine := "psnd: post 3 not sent: held by the monthly budget of $0.03 (PSN_MONTHLY_BUDGET): this month's estimated X cost is $0.03 and this post costs $0.015"
	if code != 1 || !strings.Contains(out, "held by the monthly budget") || !strings.HasPrefix(errs, wantLine) || strings.Count(errs, "\n") != 1 {
		t.Fatalf("post --now past the budget: exit %d\nstdout %s\nstderr %s\nwant one line starting %q", code, out, errs, wantLine)
	}
	// Every command's notice names the held post.
	_, errs, code = run(t, base, "", "list")
	if code != 0 || !strings.Contains(errs, "1 post is held by the monthly budget of $0.03") {
		t.Fatalf("list notice: exit %d, %q", code, errs)
	}
	var p api.Post
	runJSON(t, base, &p, "show", "3", "--json")
	if !p.HeldByBudget() || p.FailReason == nil || !strings.Contains(*p.FailReason, "$0.015") {
		t.Fatalf("show: %+v", p)
	}
	// retry is refused the same way, and sends nothing.
	if _, errs, code = run(t, base, "", "retry", "3"); code != 1 || !strings.Contains(errs, "post 3 not sent: held by the monthly budget") {
		t.Fatalf("retry of a held post: exit %d, %q", code, errs)
	}
	var u api.Usage
	runJSON(t, base, &u, "usage", "--json")
	if u.BudgetUSD == nil || *u.BudgetUSD != 0.03 || u.CostUSD != 0.03 || u.HeldOverBudget != 1 {
		t.Fatalf("usage: budget %v cost %v held %d", u.BudgetUSD, u.CostUSD, u.HeldOverBudget)
	}

	// A command run with a higher budget brings it to the daemon.
	runJSON(t, withBudget("0.05"), &u, "usage", "--json")
	if u.BudgetUSD == nil || *u.BudgetUSD != 0.05 {
		t.Fatalf("usage with PSN_MONTHLY_BUDGET=0.05: budget %v", u.BudgetUSD)
	}
	waitShown(t, base, "3", func(p api.Post) bool { return p.Status == api.StatusPublished })

	// $0.045 spent of $0.05: the next is held...
	if _, errs, code = run(t, base, "", "post", "dördüncü", "--now"); code != 1 || !strings.Contains(errs, "not sent") {
		t.Fatalf("fourth post: exit %d, %q", code, errs)
	}
	// ...until cheaper prices are written and the daemon hears SIGHUP.
	if err := os.WriteFile(filepath.Join(h, "prices.json"), []byte(`{"post_usd": 0.005, "as_of": "2026-12", "source": "test"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitShown(t, base, "4", func(p api.Post) bool { return p.Status == api.StatusPublished })

	// A restart without the variable keeps the last budget given.
	d.stop(t)
	stopped = true
	d = startDaemonArgs(t, base, "serve", "--sandbox")
	stopped = false
	runJSON(t, base, &u, "usage", "--json")
	if u.BudgetUSD == nil || *u.BudgetUSD != 0.05 {
		t.Fatalf("after a restart: budget %v, want 0.05", u.BudgetUSD)
	}

	// The MCP server is a client like the others: its PSN_MONTHLY_BUDGET
	// reaches the daemon, create_post with now says the post was held, and
	// check_text quotes the user's prices. 4 posts at $0.005 = $0.02.
	ctx := context.Background()
	cs := mcpSession(t, ctx, withBudget("0.02"))
	msg, isErr := callTool(t, ctx, cs, "create_post", map[string]any{"text": "from an assistant 🤖", "now": true})
	if !isErr || !strings.Contains(msg, "post 5 not sent: held by the monthly budget of $0.02 (PSN_MONTHLY_BUDGET): this month's estimated X cost is $0.02 and this post costs $0.005") {
		t.Fatalf("MCP create_post past the budget: error %v, %q", isErr, msg)
	}
	msg, isErr = callTool(t, ctx, cs, "check_text", map[string]any{"text": "see https://example.com/İ"})
	if isErr || !strings.Contains(msg, "X bills a post with a URL $0.2 instead of $0.005") {
		t.Fatalf("MCP check_text: error %v, %q", isErr, msg)
	}

	// A bad value is one clear line, and changes nothing.
	_, errs, code = run(t, withBudget("lots"), "", "usage")
	if code == 0 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, `PSN_MONTHLY_BUDGET must be an amount of US dollars like 5 or 12.50 (or none for no budget), not "lots"`) {
		t.Fatalf("bad budget: exit %d, %q", code, errs)
	}
	if runJSON(t, base, &u, "usage", "--json"); u.BudgetUSD == nil || *u.BudgetUSD != 0.02 {
		t.Fatalf("a bad value changed the budget to %v", u.BudgetUSD)
	}
	// none removes it, and the held post goes out.
	runJSON(t, withBudget("none"), &u, "usage", "--json")
	if u.BudgetUSD != nil {
		t.Fatalf("after none: budget %v", *u.BudgetUSD)
	}
	waitShown(t, base, "5", func(p api.Post) bool { return p.Status == api.StatusPublished })
}

// waitShown polls `psnd show ID --json` until cond holds.
func waitShown(t *testing.T, environ []string, id string, cond func(api.Post) bool) api.Post {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var p api.Post
	for time.Now().Before(deadline) {
		runJSON(t, environ, &p, "show", id, "--json")
		if cond(p) {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("post %s never reached the state wanted; last %+v", id, p)
	return p
}
