package daemon

import (
	"net/http"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
)

// badMediaBody is X's answer to a create whose media ids it no longer
// accepts (expired early, or stamped by a clock that was off).
const badMediaBody = `{"errors":[{"message":"Your media IDs are invalid.","parameters":{"media.media_ids":["1"]}}],` +
	`"title":"Invalid Request","detail":"One or more parameters to your request was invalid.",` +
	`"type":"https://api.twitter.com/2/problems/invalid-request"}`

// TestRefusedMediaIDsUploadedAgain: X refuses as invalid the media id
// pre-flight uploaded, though psnd's record says it is still good (the
// laptop's clock was off when it was stamped). The file is uploaded again
// and the post goes out at its minute, once. It used to fail for good with
// "Your media IDs are invalid.", and `psnd retry` sent the same id again.
func TestRefusedMediaIDsUploadedAgain(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Env.Preflight = 15 * time.Minute })
	h.start()
	due := t0.Add(10 * time.Minute)
	p := h.create(api.CreatePost{Text: "kite 🪁 İ", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "a kite"}}})
	waitFor(t, func() bool { return h.xMediaID(p.ID) != "" })
	ahead := h.xMediaID(p.ID)
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Kind: fakex.FaultStatus, Status: http.StatusBadRequest,
		Body: badMediaBody, Header: http.Header{"Content-Type": {"application/problem+json"}}})
	h.advance(10 * time.Minute)
	got := h.waitPost(p.ID, func(p api.Post) bool { return p.Status == api.StatusPublished || p.Status == api.StatusFailed })
	if got.Status != api.StatusPublished {
		t.Fatalf("status %s (%s), want published", got.Status, reason(got))
	}
	tw := h.x.Tweets()
	if len(tw) != 1 || len(tw[0].MediaIDs) != 1 || tw[0].MediaIDs[0] == ahead {
		t.Fatalf("tweets %+v: want one, with the file uploaded again (not %s)", tw, ahead)
	}
	if m, ok := h.x.Media(tw[0].MediaIDs[0]); !ok || m.AltText != "a kite" {
		t.Fatalf("media at X %+v", m)
	}
	if tw[0].CreatedAt.After(due.Add(time.Minute)) {
		t.Fatalf("published at %v, due %v", tw[0].CreatedAt, due)
	}
}
