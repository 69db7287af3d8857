package daemon

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
)

// Issue 14: requests psnd sends to X outside the publisher are counted
// too: GET /2/users/me at login, at verify and after each token refresh,
// and the remote delete of `psnd delete`.
func TestRequestsOutsideThePublisherAreCounted(t *testing.T) {
	h := startAuthDaemon(t, nil)
	c := h.r.client
	ctx := context.Background()
	login(t, h, c)
	if _, err := c.VerifyAccount(ctx, ""); err != nil {
		t.Fatalf("verify: %v", err)
	}
	p, err := c.CreatePost(ctx, api.CreatePost{Text: "İstanbul 東京 🪁 to be deleted", Now: true})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for p.Status != api.StatusPublished && time.Now().Before(deadline) {
		if p, err = c.WaitPost(ctx, p.ID, 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if p.Status != api.StatusPublished {
		t.Fatalf("post: %s (%v)", p.Status, p.FailReason)
	}
	if res, err := c.DeletePost(ctx, p.ID, true); err != nil || len(res.DeletedOnX) != 1 {
		t.Fatalf("delete: %+v %v", res, err)
	}

	var me, del, creates int
	for _, r := range h.x.Requests() {
		switch {
		case r.Method == http.MethodGet && r.Path == "/2/users/me":
			me++
		case r.Method == http.MethodDelete:
			del++
		case r.Method == http.MethodPost && r.Path == "/2/tweets":
			creates++
		}
	}
	if me < 2 || del != 1 || creates != 1 {
		t.Fatalf("X saw %d users/me, %d deletes, %d creates; want a login and a verify, one delete, one create", me, del, creates)
	}
	var u api.Usage
	if err := c.Do(ctx, http.MethodGet, api.PathUsage, nil, &u); err != nil {
		t.Fatal(err)
	}
	if len(u.Accounts) != 1 {
		t.Fatalf("usage: %+v", u)
	}
	a := u.Accounts[0]
	if a.OtherRequests != me+del || a.Posts != creates {
		t.Errorf("usage counts %d other requests and %d posts; X saw %d users/me + %d deletes and %d creates",
			a.OtherRequests, a.Posts, me, del, creates)
	}
}

// login connects the fake X's user through the real OAuth flow.
func login(t *testing.T, h *authHarness, c *apiclient.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.SetApp(ctx, api.SetAppRequest{ClientID: authClientID, ClientSecret: authSecret}); err != nil {
		t.Fatal(err)
	}
	l, err := c.StartLogin(ctx, api.LoginRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, err := followRedirects(l.AuthURL); err != nil || code != 200 {
		t.Fatalf("browser: %d %s %v", code, body, err)
	}
	if l, err = c.WaitLogin(ctx, l.ID, 0, 0); err != nil || l.State != api.LoginSucceeded {
		t.Fatalf("login: %+v %v", l, err)
	}
}
