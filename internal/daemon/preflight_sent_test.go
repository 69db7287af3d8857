package daemon

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
)

// TestPreflightKeepsMediaOfUnansweredCreate: a media-only post whose
// create reached X but whose answer was lost is moved to tomorrow before
// its retry. Its media ids have expired by then, yet they are what the
// lookup must recognise the tweet on X by: pre-flight must not upload the
// files again and replace those ids, or the lookup misses the tweet and
// the post goes out twice.
func TestPreflightKeepsMediaOfUnansweredCreate(t *testing.T) {
	h := newHarness(t, withRealLogins(15*time.Minute))
	h.start()
	h.login()
	ctx := context.Background()

	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Now: true, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "ours"}}})
	h.waitPost(p.ID, isStatus(api.StatusRetry))
	sent := h.xMediaID(p.ID)
	if n := len(h.x.Tweets()); n != 1 {
		t.Fatalf("%d tweets on X after the lost answer, want 1", n)
	}

	// Moved to tomorrow, past its media ids' 24 hours.
	due := t0.Add(30 * time.Hour)
	if _, err := h.client.EditPost(ctx, p.ID, api.EditPost{At: &due}); err != nil {
		t.Fatal(err)
	}
	// A post due just after it, whose upload at pre-flight tells that the
	// pass looked at ours (posts are checked in due order).
	after := due.Add(time.Minute)
	other := h.create(api.CreatePost{Text: "after", At: &after, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir())}}})

	h.clock.Set(due.Add(-10 * time.Minute))
	h.alarm.Fire()
	waitFor(t, func() bool { return h.xMediaID(other.ID) != "" })
	if got := h.xMediaID(p.ID); got != sent {
		t.Errorf("pre-flight replaced the media id the lost create sent (%s) with %s", sent, got)
	}

	h.clock.Set(after)
	h.alarm.Fire()
	got := h.waitPost(p.ID, func(p api.Post) bool { return p.Status == api.StatusPublished || p.Status == api.StatusFailed })
	h.waitPost(other.ID, isStatus(api.StatusPublished))
	if got.Status != api.StatusPublished {
		t.Fatalf("status %s (%s), want published", got.Status, reason(got))
	}
	first := h.x.Tweets()[0]
	if *got.Tweets[0].PlatformPostID != first.ID {
		t.Errorf("recorded %s, want the tweet the lost create made (%s)", *got.Tweets[0].PlatformPostID, first.ID)
	}
	var mediaOnly int
	for _, tw := range h.x.Tweets() {
		if !tw.Deleted && tw.Posted == "" {
			mediaOnly++
		}
	}
	if mediaOnly != 1 {
		t.Fatalf("%d media-only tweets on X, want 1: %+v", mediaOnly, h.x.Tweets())
	}
}
