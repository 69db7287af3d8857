package publishing

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
)

// TestPreflightUnreachableTokenEndpoint: X's token endpoint failing (a
// 503, as when offline) at pre-flight does not mark the account as
// needing a login, and the notice says the post is at risk — it does not
// tell the user to log in again.
func TestPreflightUnreachableTokenEndpoint(t *testing.T) {
	r := newPreflightRig(t, nil)
	src, err := oauth.NewSource(oauth.SourceConfig{Store: r.store, Keys: fixedKey{r.key}, HTTPClient: r.hc,
		TokenURL: r.url + "/2/oauth2/token", Clock: r.clock, Logger: testLogger(t), Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.pf.prover, r.pf.tokens = src, src
	r.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/oauth2/token", Times: -1, Status: http.StatusServiceUnavailable})
	p := r.schedule(t, "offline 📴 Ⱥ", t0.Add(10*time.Minute))
	r.pass(t)
	got := r.get(t, p.ID)
	if got.Status != post.StatusScheduled || got.SubStatus != post.SubAtRisk || !strings.Contains(got.FailReason, "could not prove") {
		t.Fatalf("post: %s/%s %q", got.Status, got.SubStatus, got.FailReason)
	}
	ns := r.notices.all()
	if len(ns) != 1 || ns[0].Kind != NoticeAtRisk || ns[0].PostID != p.ID || strings.Contains(ns[0].Title, "log in") {
		t.Fatalf("notices %+v, want one saying post %d is at risk", ns, p.ID)
	}
	if strings.Contains(ns[0].Body, "must log in again") {
		t.Fatalf("notice body %q tells the user to log in", ns[0].Body)
	}
	if _, err := src.Token(context.Background(), testUser); err != nil {
		t.Fatalf("account marked after a network failure: %v", err)
	}
}
