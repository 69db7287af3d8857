package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

const pfClientID = "pf-client-id"

// withRealLogins makes a harness use the daemon's own token source (the
// logins of internal/oauth, against the fake X's token endpoint) instead
// of the harness's fake tokens, with pre-flight at window.
func withRealLogins(window time.Duration) func(*harness) {
	return func(h *harness) {
		h.cfg.Tokens = nil
		h.cfg.Env.TokenURL = h.cfg.Env.APIURL + "/2/oauth2/token"
		h.cfg.Env.AuthURL = h.cfg.Env.APIURL + "/i/oauth2/authorize"
		h.cfg.Env.CallbackAddr = freeLoopback(h.t)
		h.cfg.Env.Preflight = window
		h.x.AddClient(pfClientID, "", "http://"+h.cfg.Env.CallbackAddr+"/callback")
	}
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// login logs @alice in through the daemon, as `psnd auth login` does with
// a browser.
func (h *harness) login() {
	h.t.Helper()
	ctx := context.Background()
	c := h.client
	if _, err := c.SetApp(ctx, api.SetAppRequest{ClientID: pfClientID}); err != nil {
		h.t.Fatal(err)
	}
	l, err := c.StartLogin(ctx, api.LoginRequest{})
	if err != nil {
		h.t.Fatal(err)
	}
	if code, body, err := followRedirects(l.AuthURL); err != nil || code != http.StatusOK {
		h.t.Fatalf("browser: %d %s %v", code, body, err)
	}
	l, err = c.WaitLogin(ctx, l.ID, 0, 0)
	for err == nil && !l.Done() {
		l, err = c.WaitLogin(ctx, l.ID, l.Version, 5*time.Second)
	}
	if err != nil || l.State != api.LoginSucceeded {
		h.t.Fatalf("login: %+v %v", l, err)
	}
}

// alarmAt is the wall-clock time the scheduler armed its alarm for.
func (h *harness) alarmAt() time.Time {
	h.alarm.mu.Lock()
	defer h.alarm.mu.Unlock()
	return h.alarm.at
}

func (h *harness) tokenRequests() int {
	n := 0
	for _, r := range h.x.Requests() {
		if r.Path == "/2/oauth2/token" {
			n++
		}
	}
	return n
}

// xMediaID reads the X media id recorded for the post's first file, from
// the database the daemon writes.
func (h *harness) xMediaID(id int64) string {
	h.t.Helper()
	s, err := sqlstore.Open(context.Background(), h.cfg.Env.DBPath(), sqlstore.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	defer s.Close()
	var p *post.Post
	if err := s.View(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.GetPost(id)
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return p.Tweets[0].Media[0].XMediaID
}

// mediaUploads counts the media uploads X received (initialize or one-shot).
func (h *harness) mediaUploads() int {
	n := 0
	for _, r := range h.x.Requests() {
		if r.Method == http.MethodPost && (r.Path == "/2/media/upload" || r.Path == "/2/media/upload/initialize") {
			n++
		}
	}
	return n
}

func isSub(s string) func(api.Post) bool { return func(p api.Post) bool { return sub(p) == s } }

// TestPreflightRevokedGrantAtRisk: the scheduler wakes PSN_PREFLIGHT
// before a post is due, proves the login with one refresh for every post
// of the account in the window, and a grant X revoked is reported then —
// the posts at_risk with what to do, still scheduled, the account needing
// a login, the health's notice count — not at the due minute. A new login
// clears it at once, and the posts publish on time.
func TestPreflightRevokedGrantAtRisk(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	due := t0.Add(time.Hour)
	var ids []int64
	for i := range 3 {
		at := due.Add(time.Duration(i) * time.Minute)
		ids = append(ids, h.create(api.CreatePost{Text: "pre-flight İstanbul 東京 " + strings.Repeat("🙂", i+1), At: &at}).ID)
	}
	// The scheduler sleeps until the first post's pre-flight instant.
	waitFor(t, func() bool { return h.alarmAt().Equal(due.Add(-15 * time.Minute)) })
	before := h.tokenRequests()
	h.x.RevokeUserTokens(testUser) // the user removed the app at X

	h.advance(45*time.Minute + 2*time.Minute) // all three in the window
	for _, id := range ids {
		p := h.waitPost(id, isSub(api.SubAtRisk))
		if p.Status != api.StatusScheduled ||
			!strings.Contains(reason(p), "account @alice must log in again: psnd auth login") {
			t.Fatalf("post %d: %s/%s %q", id, p.Status, sub(p), reason(p))
		}
	}
	if n := h.tokenRequests() - before; n != 1 {
		t.Fatalf("%d token requests for three posts of one account, want one refresh", n)
	}
	st, err := h.client.AuthStatus(context.Background())
	if err != nil || len(st.Accounts) != 1 || !st.Accounts[0].NeedsReauth {
		t.Fatalf("auth status: %+v %v", st, err)
	}
	var hl api.Health
	if err := h.call(http.MethodGet, "/v1/health", nil, &hl); err != nil || hl.AtRisk != 3 {
		t.Fatalf("health: %+v %v", hl, err)
	}
	if len(h.creates()) != 0 {
		t.Fatal("something was posted before its time")
	}

	// Logging in again clears the posts at once, without waiting for
	// another pass.
	h.login()
	for _, id := range ids {
		if p := h.waitPost(id, isSub("")); p.Status != api.StatusScheduled || reason(p) != "" {
			t.Fatalf("post %d after login: %s/%s %q", id, p.Status, sub(p), reason(p))
		}
	}
	h.advance(15 * time.Minute)
	for _, id := range ids {
		h.waitPost(id, isStatus(api.StatusPublished))
	}
}

// TestPreflightUploadsMediaAhead: the media are uploaded at pre-flight, so
// at the due instant only the create is sent, with the ids uploaded ahead.
func TestPreflightUploadsMediaAhead(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	due := t0.Add(10 * time.Minute) // created inside the window: at once
	p := h.create(api.CreatePost{Text: "kite 🪁", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "a red dot"}}})
	waitFor(t, func() bool { return h.xMediaID(p.ID) != "" })
	uploaded := h.xMediaID(p.ID)
	mark := len(h.x.Requests())
	h.advance(10 * time.Minute)
	h.waitPost(p.ID, isStatus(api.StatusPublished))
	var sent []string
	for _, r := range h.x.Requests()[mark:] {
		sent = append(sent, r.Method+" "+r.Path)
	}
	if len(sent) != 1 || sent[0] != "POST /2/tweets" {
		t.Fatalf("at the due time X got %v, want only the create", sent)
	}
	tw := h.x.Tweets()
	if len(tw) != 1 || len(tw[0].MediaIDs) != 1 || tw[0].MediaIDs[0] != uploaded {
		t.Fatalf("tweets %+v, want the media id uploaded ahead (%s)", tw, uploaded)
	}
	if m, ok := h.x.Media(uploaded); !ok || m.AltText != "a red dot" {
		t.Fatalf("media at X %+v", m)
	}
}

// TestPreflightMissingMediaAtRisk: a media file gone before the due time
// puts the post at risk with the path and what to do; putting it back
// clears it at a later pass.
func TestPreflightMissingMediaAtRisk(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	due := t0.Add(time.Hour)
	p := h.create(api.CreatePost{Text: "kite", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir())}}})
	path := h.get(p.ID).Tweets[0].Media[0].Path
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	h.advance(50 * time.Minute)
	got := h.waitPost(p.ID, isSub(api.SubAtRisk))
	if got.Status != api.StatusScheduled || !strings.Contains(reason(got), path) || !strings.Contains(reason(got), "psnd edit") {
		t.Fatalf("post: %s/%s %q", got.Status, sub(got), reason(got))
	}
	// The file back; a later pass (here: another post entering the
	// window) finds it and uploads it.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	later := due.Add(5 * time.Minute)
	h.create(api.CreatePost{Text: "another", At: &later})
	got = h.waitPost(p.ID, isSub(""))
	if reason(got) != "" || h.mediaUploads() == 0 {
		t.Fatalf("after the fix: %s %q, %d uploads", sub(got), reason(got), h.mediaUploads())
	}
}

// TestPreflightEditWins: an edit while a post is being pre-flighted is
// never refused, and the edited version is pre-flighted again (its new
// time is what the scheduler wakes for).
func TestPreflightEditWins(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	due := t0.Add(5 * time.Minute)
	p := h.create(api.CreatePost{Text: "first", At: &due})
	text := "edited ✏️"
	for range 20 { // edits racing the pass
		if _, err := h.client.EditPost(context.Background(), p.ID, api.EditPost{Text: &text}); err != nil {
			t.Fatalf("edit during pre-flight: %v", err)
		}
	}
	later := t0.Add(3 * time.Hour)
	if _, err := h.client.EditPost(context.Background(), p.ID, api.EditPost{At: &later}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.alarmAt().Equal(later.Add(-15 * time.Minute)) })
	got := h.get(p.ID)
	if got.Status != api.StatusScheduled || sub(got) != "" || got.Tweets[0].Text != text {
		t.Fatalf("post %+v", got)
	}
}

// TestPreflightOff: PSN_PREFLIGHT=0 wakes the scheduler only when posts
// are due and sends nothing to X before.
func TestPreflightOff(t *testing.T) {
	h := newHarness(t, withRealLogins(0))
	h.start()
	h.login()
	due := t0.Add(10 * time.Minute)
	p := h.create(api.CreatePost{Text: "no pre-flight", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir())}}})
	h.x.RevokeUserTokens(testUser)
	mark := len(h.x.Requests())
	h.drainArms()
	h.advance(9 * time.Minute)
	h.waitArm()
	if got := h.get(p.ID); sub(got) != "" {
		t.Fatalf("post before due: %+v", got)
	}
	if n := len(h.x.Requests()) - mark; n != 0 {
		t.Fatalf("%d requests to X before the due time with pre-flight off", n)
	}
	if at := h.alarmAt(); !at.Equal(due.Add(-claimLead)) {
		t.Fatalf("alarm at %v, want the due time", at)
	}
}

func (h *harness) get(id int64) api.Post {
	h.t.Helper()
	var p api.Post
	if err := h.call(http.MethodGet, fmt.Sprintf("/v1/posts/%d", id), nil, &p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds (what it waits for happens in the
// daemon's goroutines; no fixed sleep decides the outcome).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPreflightAfterRestart: a post that entered its window while the
// daemon was down (or the machine asleep) is pre-flighted as soon as it
// runs again, not at its due time.
func TestPreflightAfterRestart(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	due := t0.Add(2 * time.Hour)
	p := h.create(api.CreatePost{Text: "while asleep 😴", At: &due})
	h.stop()
	h.x.RevokeUserTokens(testUser)
	h.clock.Advance(2*time.Hour - 5*time.Minute) // well inside the window
	h.start()
	got := h.waitPost(p.ID, isSub(api.SubAtRisk))
	if got.Status != api.StatusScheduled || !strings.Contains(reason(got), "must log in again") {
		t.Fatalf("after restart: %s/%s %q", got.Status, sub(got), reason(got))
	}
}
