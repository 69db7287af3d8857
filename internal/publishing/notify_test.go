package publishing

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// recordingNotifier keeps every notice, as the desktop would show it.
type recordingNotifier struct {
	mu      sync.Mutex
	notices []Notice
}

func (r *recordingNotifier) Notify(n Notice) {
	r.mu.Lock()
	r.notices = append(r.notices, n)
	r.mu.Unlock()
}

// lostGrant is a token source whose account must log in again.
type lostGrant struct{}

func (lostGrant) Token(context.Context, string) (string, error) {
	return "", &oauth.ReauthError{AccountID: testUser, Username: "alice", Reason: "X refused the refresh (invalid_grant)"}
}
func (lostGrant) ForceRefresh(ctx context.Context, a, _ string) (string, error) {
	return lostGrant{}.Token(ctx, a)
}

// publishOnce runs one publish of a fresh post with the given fault and
// tokens, and returns the post as stored and the notices sent.
func publishOnce(t *testing.T, fault *fakex.Fault, tokens TokenSource, text string) (*post.Post, []Notice) {
	t.Helper()
	h := newRig(t)
	if fault != nil {
		h.x.Inject(*fault)
	}
	if tokens == nil {
		tokens = h.tokens
	}
	ctx := context.Background()
	claimed, xc := h.claimed(t, text)
	rec := &recordingNotifier{}
	p := &publisher{store: h.store, clock: h.clock, x: xc, tokens: tokens, owner: "this-daemon",
		lease: 5 * time.Minute, log: testLogger(t), rand: func() float64 { return 0 }, gate: newRateGate(nil),
		changed: func(int64) {}, progress: func(int64, int64, int64) {}, notifier: rec,
		sleep: func(context.Context, time.Duration) error { return nil }}
	p.publish(ctx, claimed, t0)
	var got *post.Post
	if err := h.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		got, err = tx.GetPost(claimed.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return got, rec.notices
}

// A post that fails for good notifies once, after its failure is
// recorded, with a short text that says what to do; one that will be
// retried, or is published, notifies nothing.
func TestFailedPostNotifiesOnce(t *testing.T) {
	body := `{"title":"Forbidden","detail":"Ⱥ You are not permitted to reply to this conversation. İ","type":"about:blank","status":403}`
	got, notices := publishOnce(t, &fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Kind: fakex.FaultStatus, Status: 403, Body: body},
		nil, "refused 東京 🙂")
	if got.Status != post.StatusFailed {
		t.Fatalf("status %s, want failed", got.Status)
	}
	if len(notices) != 1 {
		t.Fatalf("%d notices, want 1: %+v", len(notices), notices)
	}
	n := notices[0]
	wantTitle := fmt.Sprintf("psnd: post %d failed", got.ID)
	if n.Kind != NoticeFailed || n.PostID != got.ID || n.Account != "alice" || n.Title != wantTitle {
		t.Errorf("notice %+v", n)
	}
	if !strings.Contains(n.Body, "not permitted to reply") || !strings.HasSuffix(n.Body, fmt.Sprintf("\nRun psnd retry %d", got.ID)) {
		t.Errorf("body %q: want X's reason and what to do", n.Body)
	}

	got, notices = publishOnce(t, &fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Kind: fakex.FaultStatus, Status: 503}, nil, "503 once")
	if got.Status != post.StatusRetry || len(notices) != 0 {
		t.Errorf("retry outcome: status %s, notices %+v; want retry_1 and no notice", got.Status, notices)
	}
	got, notices = publishOnce(t, nil, nil, "fine")
	if got.Status != post.StatusPublished || len(notices) != 0 {
		t.Errorf("published: status %s, notices %+v; want no notice", got.Status, notices)
	}
}

// A post failed by a lost login says both things to do, once each, and
// no token.
func TestFailedByLostLoginNotice(t *testing.T) {
	got, notices := publishOnce(t, nil, lostGrant{}, "no login")
	if got.Status != post.StatusFailed || len(notices) != 1 {
		t.Fatalf("status %s, notices %+v", got.Status, notices)
	}
	b := notices[0].Body
	if strings.Count(b, "psnd retry") != 1 || !strings.Contains(b, "psnd auth login") || len([]rune(b)) > 220 {
		t.Errorf("body %q", b)
	}
}
