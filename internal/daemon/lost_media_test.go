package daemon

import (
	"context"
	"net/http"
	"testing"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/xapi"
)

// TestLostMediaOnlyPostNotConfusedWithAnother: a media-only post has no
// text to compare, so after an unanswered create the lookup must tell its
// tweet by the media attached. Here the create never reached X, and the
// user meanwhile posted another picture from their phone: psnd must not
// adopt that tweet as its own (its post would then never appear), but post
// its own, once.
func TestLostMediaOnlyPostNotConfusedWithAnother(t *testing.T) {
	h := newHarness(t)
	h.start()
	ctx := context.Background()

	// The phone's post: a picture without text, straight to X.
	xc, err := xapi.New(xapi.Config{BaseURL: h.cfg.Env.APIURL, HTTPClient: h.cfg.XHTTPClient, Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	token, _, _, err := h.x.IssueToken(testUser)
	if err != nil {
		t.Fatal(err)
	}
	f, err := xapi.InspectMedia(writePNG(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := xc.Upload(ctx, token, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	phone, _, err := xc.CreateTweet(ctx, token, xapi.CreateTweetRequest{MediaIDs: []string{m.ID}})
	if err != nil {
		t.Fatal(err)
	}

	// psnd's media-only post, whose create is lost before X sees it.
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultDropBeforeCommit})
	p := h.create(api.CreatePost{Now: true, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "ours"}}})
	got := h.waitPost(p.ID, isStatus("retry"))
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
	if got.Status != "published" {
		t.Fatalf("status %s (%s), want published", got.Status, reason(got))
	}
	own := *got.Tweets[0].PlatformPostID
	if own == phone.ID {
		t.Fatalf("psnd adopted the phone's tweet %s as its own post", phone.ID)
	}
	var live int
	for _, tw := range h.x.Tweets() {
		if !tw.Deleted {
			live++
		}
	}
	if live != 2 {
		t.Fatalf("%d tweets on X, want the phone's and psnd's", live)
	}
}

// TestLostMediaOnlyPostFoundByItsMedia: the same media-only post whose
// create did reach X is recognised by its media and recorded, not posted
// again, although another picture was posted after it.
func TestLostMediaOnlyPostFoundByItsMedia(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultCommitThenDrop})
	p := h.create(api.CreatePost{Now: true, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "ours"}}})
	got := h.waitPost(p.ID, isStatus("retry"))
	// Another media-only post goes out meanwhile and is newer on X.
	other := h.create(api.CreatePost{Now: true, Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: "other"}}})
	h.waitPost(other.ID, isStatus("published"))
	h.clock.Set(*got.NextRetryAt)
	h.alarm.Fire()
	got = h.waitPost(p.ID, func(p api.Post) bool { return p.Status == "published" || p.Status == "failed" })
	if got.Status != "published" {
		t.Fatalf("status %s (%s), want published", got.Status, reason(got))
	}
	if n := len(h.creates()); n != 2 {
		t.Fatalf("%d creates answered, want 2 (ours, lost, and the other)", n)
	}
	first := h.x.Tweets()[0]
	if *got.Tweets[0].PlatformPostID != first.ID {
		t.Fatalf("recorded %s, want the tweet the lost create made (%s)", *got.Tweets[0].PlatformPostID, first.ID)
	}
}
