package daemon

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/desktop/desktoptest"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/oauth/oauthtest"
	"github.com/psnd/psnd/internal/secrets"
)

// onBus points the daemon's desktop notifications at a session bus.
func onBus(addr string) func(*harness) {
	return func(h *harness) {
		h.cfg.Env.Notify = true
		h.cfg.Env.SessionBus = addr
	}
}

const refusedBody = `{"title":"Forbidden","detail":"You are not permitted to reply to this conversation. Ⱥ","type":"about:blank","status":403}`

func refuseOnce() fakex.Fault {
	return fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 403, Body: refusedBody}
}

// A post X refuses for good shows a notification on the desktop, through
// a real session bus, saying which post and what to do; a post that is
// published shows none.
func TestNotifyFailedPostOnSessionBus(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	h := newHarness(t, onBus(bus.Addr))
	h.start()
	ok := h.create(api.CreatePost{Text: "published İ 東京 🙂", Now: true})
	h.waitPost(ok.ID, isStatus("published"))
	h.x.Inject(refuseOnce())
	p := h.create(api.CreatePost{Text: "refused שלום 🙂", Now: true})
	h.waitPost(p.ID, isStatus("failed"))
	// The first notification is the failure: nothing was queued for the
	// published post before it.
	got := srv.Next(t)
	if got.App != "psnd" || got.Title != fmt.Sprintf("psnd: post %d failed", p.ID) {
		t.Fatalf("notification %+v", got)
	}
	if !strings.Contains(got.Body, "not permitted to reply to this conversation. Ⱥ") ||
		!strings.HasSuffix(got.Body, fmt.Sprintf("\nRun psnd retry %d", p.ID)) {
		t.Errorf("body %q", got.Body)
	}
}

// PSN_NOTIFY=0: a failed post sends nothing to the notification server,
// and the daemon never connects to the bus for it.
func TestNotifyOffSendsNothing(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	var d *Daemon
	h := newHarness(t, onBus(bus.Addr), func(h *harness) {
		h.cfg.Env.Notify = false
		h.cfg.hooks.started = func(dd *Daemon) { d = dd }
	})
	h.start()
	h.x.Inject(refuseOnce())
	p := h.create(api.CreatePost{Text: "refused, quietly", Now: true})
	h.waitPost(p.ID, isStatus("failed"))
	if d.desktop.Enabled() {
		t.Error("desktop notifier enabled with PSN_NOTIFY=0")
	}
	h.stop()
	if n := srv.Calls(); n != 0 {
		t.Errorf("notification server received %d calls", n)
	}
}

// No desktop session (a bus address that leads nowhere): publishing goes
// on as before, failures and successes alike, and the daemon stops cleanly.
func TestNotifyNoBusPublishingUnaffected(t *testing.T) {
	h := newHarness(t, onBus("unix:path="+t.TempDir()+"/no-bus"))
	h.start()
	h.x.Inject(refuseOnce())
	p := h.create(api.CreatePost{Text: "refused", Now: true})
	h.waitPost(p.ID, isStatus("failed"))
	q := h.create(api.CreatePost{Text: "then published", Now: true})
	h.waitPost(q.ID, isStatus("published"))
	h.stop()
}

// A notification server that never answers holds only the deliverer:
// posts keep failing and publishing while the first notice waits, and
// shutdown does not wait for it.
func TestNotifyHangingServerDoesNotBlockPublishing(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr, desktoptest.Hang())
	h := newHarness(t, onBus(bus.Addr))
	h.start()
	h.x.Inject(refuseOnce())
	first := h.create(api.CreatePost{Text: "refused 1", Now: true})
	h.waitPost(first.ID, isStatus("failed"))
	srv.Next(t) // the deliverer now waits for an answer that never comes
	for i := range 3 {
		h.x.Inject(refuseOnce())
		p := h.create(api.CreatePost{Text: fmt.Sprintf("refused %d", i+2), Now: true})
		h.waitPost(p.ID, isStatus("failed"))
	}
	ok := h.create(api.CreatePost{Text: "published anyway", Now: true})
	h.waitPost(ok.ID, isStatus("published"))
	h.stop()
}

// X refuses the account's refresh token (the user removed the app): the
// real token source marks the account and the user is told to log in
// again, and the post that found out is reported failed.
func TestNotifyNeedsLogin(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	x, ts := xspec.NewTestServerIfSpec(t, fakex.Options{})
	user := fakex.User{ID: authUserID, Username: authUsername, Name: "Psnd Test"}
	x.AddUser(user)
	cfg := testConfig(t, shortHome(t), &secrets.Memory{})
	cfg.Env.APIURL, cfg.Env.TokenURL = ts.URL, ts.URL+"/2/oauth2/token"
	cfg.XHTTPClient = ts.Client()
	cfg.Env.Notify, cfg.Env.SessionBus = true, bus.Addr
	ctx := context.Background()
	s := openStore(t, cfg)
	id, err := secrets.EntryID(cfg.Env.Home)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := secrets.LoadOrCreateKey(ctx, cfg.Keyring, id)
	if err != nil {
		t.Fatal(err)
	}
	oauthtest.SeedLogin(t, s, key, x, user, "notify-client")
	s.Close()
	x.RevokeUserTokens(authUserID) // the user removed the app at X

	r := start(t, cfg)
	var p api.Post
	if err := r.client.Do(ctx, http.MethodPost, "/v1/posts", api.CreatePost{Text: "after the grant is gone", Now: true}, &p); err != nil {
		t.Fatal(err)
	}
	got := map[string]desktoptest.Notification{}
	for range 2 {
		n := srv.Next(t)
		got[n.Title] = n
	}
	login, ok := got["psnd: @"+authUsername+" must log in again"]
	if !ok || !strings.HasSuffix(login.Body, "\nRun psnd auth login") || !strings.Contains(login.Body, "refused") {
		t.Errorf("no needs-login notification: %+v", got)
	}
	failed, ok := got[fmt.Sprintf("psnd: post %d failed", p.ID)]
	if !ok || !strings.Contains(failed.Body, "psnd auth login") || !strings.Contains(failed.Body, fmt.Sprintf("psnd retry %d", p.ID)) {
		t.Errorf("no failed notification: %+v", got)
	}
}
