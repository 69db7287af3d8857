package daemon

import (
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// TestPreflightMediaExpiredInSleep: media uploaded at pre-flight, then the
// laptop sleeps across the due time for two days, longer than X keeps a
// media id. On waking the post is published once with the file uploaded
// again, not with the id X has let expire (X would refuse the create).
func TestPreflightMediaExpiredInSleep(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	due := t0.Add(time.Hour)
	p := h.create(api.CreatePost{Text: "kite after a long sleep 🪁", At: &due, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "a kite"}}})
	h.clock.Set(due.Add(-10 * time.Minute))
	h.alarm.Fire()
	waitFor(t, func() bool { return h.xMediaID(p.ID) != "" })
	ahead := h.xMediaID(p.ID)

	h.clock.Set(due.Add(48 * time.Hour)) // the lid closed; opened two days later
	h.alarm.Fire()
	got := h.waitPost(p.ID, func(p api.Post) bool { return p.Status == api.StatusPublished || p.Status == api.StatusFailed })
	if got.Status != api.StatusPublished {
		t.Fatalf("status %s (%s), want published", got.Status, reason(got))
	}
	tw := h.x.Tweets()
	if len(tw) != 1 || len(tw[0].MediaIDs) != 1 || tw[0].MediaIDs[0] == ahead {
		t.Fatalf("tweets %+v: want one, with a fresh upload, not the expired %s", tw, ahead)
	}
	if m, ok := h.x.Media(tw[0].MediaIDs[0]); !ok || m.AltText != "a kite" {
		t.Fatalf("media at X %+v", m)
	}
}
