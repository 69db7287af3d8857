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
	"github.com/psnd/psnd/internal/sqlstore"
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

// TestPreflightLongWindowNoWastedUpload: with PSN_PREFLIGHT at 24h, a
// media id uploaded when the post enters its window would expire before
// the post is due, and the publish would upload the file again — two
// billed uploads. Pre-flight checks the file is there and leaves the
// upload to the publish; a missing file is still at risk at once.
func TestPreflightLongWindowNoWastedUpload(t *testing.T) {
	r := newPreflightRig(t, nil)
	r.pf.window = 24 * time.Hour
	dir := t.TempDir()
	m := pngMedia(t, dir)
	due := t0.Add(24 * time.Hour)
	ok := r.schedule(t, "a day ahead 🗓️", due, m)
	gone := m
	gone.Path = dir + "/gone 消えた.png"
	lost := r.schedule(t, "file gone", due, gone)
	r.pass(t)
	if n := mediaUploadsAt(r.x); n != 0 {
		t.Fatalf("%d media uploads a day ahead, each expiring before the due time", n)
	}
	if p := r.get(t, ok.ID); p.SubStatus != "" || p.Tweets[0].Media[0].XMediaID != "" {
		t.Fatalf("post with its file: %s %q %+v", p.SubStatus, p.FailReason, p.Tweets[0].Media)
	}
	if p := r.get(t, lost.ID); p.SubStatus != post.SubAtRisk || !strings.Contains(p.FailReason, "消えた") {
		t.Fatalf("post without its file: %s %q", p.SubStatus, p.FailReason)
	}
	var u int
	if err := r.store.View(context.Background(), func(tx *sqlstore.Tx) error {
		us, err := tx.Usage(t0.Format("2006-01"))
		for _, a := range us {
			u += a.Counts[sqlstore.UsageMediaUpload]
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if u != 0 {
		t.Fatalf("%d media uploads counted", u)
	}
}

func mediaUploadsAt(x *fakex.Server) int {
	n := 0
	for _, q := range x.Requests() {
		if q.Method == http.MethodPost && (q.Path == "/2/media/upload" || q.Path == "/2/media/upload/initialize") {
			n++
		}
	}
	return n
}

// TestPreflightRefusedMediaNotResent: a media file X refused (a 4xx) puts
// the post at risk; later passes (other posts entering the window) look
// at the post again but do not send the same bytes to X again — each
// would be one more counted upload, and X refuses them the same way. A
// new login checks it again.
func TestPreflightRefusedMediaNotResent(t *testing.T) {
	r := newPreflightRig(t, nil)
	const refused = `{"title":"Invalid Request","detail":"One or more parameters to your request was invalid. Ⱥ","type":"about:blank","status":400}`
	for _, p := range []string{"/2/media/upload", "/2/media/upload/*"} {
		r.x.Inject(fakex.Fault{Method: http.MethodPost, Path: p, Times: -1, Status: http.StatusBadRequest, Body: refused})
	}
	bad := r.schedule(t, "refused media 🖼️", t0.Add(5*time.Minute), pngMedia(t, t.TempDir()))
	r.pass(t)
	if p := r.get(t, bad.ID); p.SubStatus != post.SubAtRisk || !strings.Contains(p.FailReason, "X refused media") {
		t.Fatalf("post: %s %q", p.SubStatus, p.FailReason)
	}
	for i := range 3 {
		r.schedule(t, "another", t0.Add(time.Duration(6+i)*time.Minute))
		if n := r.pass(t); n != 1 {
			t.Fatalf("%d verdicts", n)
		}
	}
	if n := mediaUploadsAt(r.x); n != 1 {
		t.Fatalf("the refused file was sent %d times", n)
	}
	if p := r.get(t, bad.ID); p.SubStatus != post.SubAtRisk {
		t.Fatalf("post no longer at risk: %s", p.SubStatus)
	}
	r.pf.forget(testUser) // a new login
	r.pass(t)
	if n := mediaUploadsAt(r.x); n != 2 {
		t.Fatalf("after a login the file was sent %d times in all, want it checked again", n)
	}
}
