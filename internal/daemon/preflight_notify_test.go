package daemon

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/desktop/desktoptest"
)

// TestPreflightLostLoginOneNotification: a grant X revoked, found at
// pre-flight, is one desktop notification telling the user to log in
// again, however many posts it puts at risk — not one from the token
// source and a second, same-titled one from pre-flight.
func TestPreflightLostLoginOneNotification(t *testing.T) {
	bus := desktoptest.StartBus(t)
	srv := desktoptest.NewServer(t, bus.Addr)
	h := newHarness(t, withRealLogins(15*time.Minute), onBus(bus.Addr))
	h.start()
	h.login()
	due := t0.Add(time.Hour)
	var ids []int64
	for i := range 3 {
		at := due.Add(time.Duration(i) * time.Minute)
		ids = append(ids, h.create(api.CreatePost{Text: "يوم جميل " + strings.Repeat("🌙", i+1), At: &at}).ID)
	}
	waitFor(t, func() bool { return h.alarmAt().Equal(due.Add(-15 * time.Minute)) })
	h.x.RevokeUserTokens(testUser)
	h.advance(47 * time.Minute)
	for _, id := range ids {
		h.waitPost(id, isSub(api.SubAtRisk))
	}
	// Log in again, then make a post fail: its notification comes after
	// every notification pre-flight gave (one deliverer, in order).
	h.login()
	for _, id := range ids {
		h.waitPost(id, isSub(""))
	}
	h.x.Inject(refuseOnce())
	p := h.create(api.CreatePost{Text: "refused after the login", Now: true})
	h.waitPost(p.ID, isStatus(api.StatusFailed))
	var before []desktoptest.Notification
	for {
		n := srv.Next(t)
		if n.Title == fmt.Sprintf("psnd: post %d failed", p.ID) {
			break
		}
		before = append(before, n)
	}
	if len(before) != 1 || before[0].Title != "psnd: @alice must log in again" || !strings.Contains(before[0].Body, "psnd auth login") {
		t.Fatalf("notifications before the failure: %+v, want one telling to log in again", before)
	}
}

// heldUpload holds the first media upload until released, and says when
// it arrived.
type heldUpload struct {
	next    http.RoundTripper
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
	uploads atomic.Int32
}

func (h *heldUpload) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/2/media/upload") &&
		!strings.Contains(r.URL.Path, "/append") && !strings.Contains(r.URL.Path, "/finalize") {
		h.uploads.Add(1)
		first := false
		h.once.Do(func() { first = true })
		if first {
			close(h.arrived)
			<-h.release
		}
	}
	return h.next.RoundTrip(r)
}

// TestPreflightUploadInFlightAtDueTime: a post whose pre-flight upload is
// still under way when it falls due (a big file, a post scheduled a
// minute ahead) waits for it: the file is sent to X once, not once by
// pre-flight and again by the publish.
func TestPreflightUploadInFlightAtDueTime(t *testing.T) {
	held := &heldUpload{arrived: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, withRealLogins(15*time.Minute), func(h *harness) {
		c := *h.cfg.XHTTPClient
		held.next = c.Transport
		c.Transport = held
		h.cfg.XHTTPClient = &c
	})
	h.start()
	h.login()
	due := t0.Add(time.Minute)
	p := h.create(api.CreatePost{Text: "kite at once 🪁 İ", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir())}}})
	<-held.arrived // pre-flight is uploading
	h.drainArms()
	h.advance(time.Minute) // due
	h.waitArm()            // a round at the due time has run
	close(held.release)
	h.waitPost(p.ID, isStatus(api.StatusPublished))
	if n := h.mediaUploads(); n != 1 {
		t.Fatalf("the file was uploaded %d times", n)
	}
	if n := held.uploads.Load(); n != 1 {
		t.Fatalf("%d uploads sent", n)
	}
}

// TestPreflightRestoredMediaCleared: a post at risk for a missing media
// file stops being at risk within a minute of the file being put back,
// as its reason promises, with no other post or login to prompt it; and
// while nothing is at risk the scheduler sleeps until the next due time.
func TestPreflightRestoredMediaCleared(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	due := t0.Add(time.Hour)
	p := h.create(api.CreatePost{Text: "kite 凧 🪁", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir())}}})
	path := h.get(p.ID).Tweets[0].Media[0].Path
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	h.advance(50 * time.Minute)
	h.waitPost(p.ID, isSub(api.SubAtRisk))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	got := h.waitPost(p.ID, isSub(""))
	if got.Status != api.StatusScheduled || reason(got) != "" {
		t.Fatalf("after the file is back: %s/%s %q", got.Status, sub(got), reason(got))
	}
	waitFor(t, func() bool { return h.alarmAt().Equal(due.Add(-claimLead)) })
	h.advance(10 * time.Minute)
	h.waitPost(p.ID, isStatus(api.StatusPublished))
}
