package e2e

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
)

// TestPreflightRevokedLoginReportedEarly: with the real binary and the
// default PSN_PREFLIGHT (15m), a post due in 10 minutes whose login X has
// revoked is reported at once — the post at_risk with what to do, `auth
// status` saying the account must log in, listed first, and the notice on
// other commands — long before it is due.
func TestPreflightRevokedLoginReportedEarly(t *testing.T) {
	x := xspec.NewServerIfSpec(t, fakex.Options{})
	writer := fakex.User{ID: "7001", Username: "writer", Name: "Writer"}
	other := fakex.User{ID: "7002", Username: "other", Name: "Other"}
	x.AddUser(writer)
	x.AddUser(other)
	srv := httptest.NewServer(x)
	defer srv.Close()
	h := home(t)
	environ := env(h, srv.URL)
	seedLogin(t, h, x, writer)
	seedLogin(t, h, x, other)
	x.RevokeUserTokens(writer.ID) // the user removed the app at X
	d := startDaemon(t, environ)
	defer d.stop(t)

	// @other's post is due first and is fine; @writer's is at risk.
	var fine, risky api.Post
	runJSON(t, environ, &fine, "post", "fine 🙂", "--at", "+5m", "--account", "other", "--json")
	runJSON(t, environ, &risky, "post", "Merhaba İzmir — 東京 🚀", "--at", "+10m", "--account", "writer", "--json")
	id := itoa64(risky.ID)

	deadline := time.Now().Add(30 * time.Second)
	var p api.Post
	for {
		runJSON(t, environ, &p, "show", id, "--json")
		if p.SubStatus != nil && *p.SubStatus == api.SubAtRisk {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("post never at risk: %+v\n%s", p, d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p.Status != api.StatusScheduled || p.FailReason == nil ||
		!strings.Contains(*p.FailReason, "account @writer must log in again: psnd auth login") {
		t.Fatalf("at-risk post: %+v", p)
	}
	if p.ScheduledAt == nil || time.Until(*p.ScheduledAt) < 5*time.Minute {
		t.Fatalf("reported only %v before the due time", time.Until(*p.ScheduledAt))
	}

	var st api.AuthStatus
	runJSON(t, environ, &st, "auth", "status", "--json")
	for _, a := range st.Accounts {
		if (a.Username == "writer") != a.NeedsReauth {
			t.Fatalf("auth status: %+v", st.Accounts)
		}
	}
	out, _, _ := run(t, environ, "", "auth", "status")
	if !strings.Contains(out, "@writer") || !strings.Contains(out, "log in again") {
		t.Fatalf("auth status:\n%s", out)
	}

	// `psnd list` shows the post at risk first, with its sub-status.
	out, errs, code := run(t, environ, "", "list")
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(rows) < 3 || !strings.HasPrefix(strings.TrimSpace(rows[1]), id+" ") || !strings.Contains(rows[1], "at_risk") {
		t.Fatalf("list: %d\n%s%s", code, out, errs)
	}
	// Other commands carry the one-line notice.
	_, errs, _ = run(t, environ, "", "list", "--status", "draft")
	if !strings.Contains(errs, "1 scheduled post is at risk") {
		t.Fatalf("no at-risk notice: %q", errs)
	}
	var f api.Post
	runJSON(t, environ, &f, "show", itoa64(fine.ID), "--json")
	if f.SubStatus != nil && *f.SubStatus != "" {
		t.Fatalf("the other account's post: %+v", f)
	}
}
