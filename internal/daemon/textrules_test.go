package daemon

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
)

// TestMediaOnlyPostPublished: X accepts a post with media and no text, so
// psnd does too (issue 10 item 3); a post with neither is still refused,
// and so is a thread tweet after the first without text.
func TestMediaOnlyPostPublished(t *testing.T) {
	h := newHarness(t)
	h.start()
	src := writePNG(t, t.TempDir())
	media := []api.MediaInput{{Path: src, AltText: "A red dot"}}

	p := h.create(api.CreatePost{Text: "", Now: true, Media: media})
	if len(p.Tweets) != 1 || p.Tweets[0].Text != "" || len(p.Tweets[0].Media) != 1 {
		t.Fatalf("stored %+v", p.Tweets)
	}
	h.waitPost(p.ID, isStatus("published"))
	if tw := h.x.Tweets(); len(tw) != 1 || len(tw[0].MediaIDs) != 1 {
		t.Fatalf("tweets at X = %+v", tw)
	}

	// Blank text (white space, "---" lines) with media is media alone too,
	// also as a numbered thread: one tweet, no number.
	p = h.create(api.CreatePost{Text: " \n---\n ", Thread: true, Number: true, Draft: true, Media: media})
	if len(p.Tweets) != 1 || p.Tweets[0].Text != "" {
		t.Fatalf("blank text with media stored as %+v", p.Tweets)
	}
	// Editing a media post's text to nothing keeps the media.
	var edited api.Post
	empty := ""
	if err := h.call(http.MethodPatch, fmt.Sprintf("/v1/posts/%d", p.ID), api.EditPost{Text: &empty}, &edited); err != nil {
		t.Fatalf("edit to empty text with media: %v", err)
	}

	for i, req := range []api.CreatePost{
		{Text: "", Now: true},
		{Text: "  \n---\n", Draft: true},
		{Tweets: []string{"", "second"}, Draft: true},               // no media for the empty first
		{Tweets: []string{"first", " "}, Draft: true, Media: media}, // media only on the first
	} {
		err := h.call(http.MethodPost, "/v1/posts", req, nil)
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("case %d: err = %v, want a refusal saying empty", i, err)
		}
	}
	var all []api.Post
	h.call(http.MethodGet, "/v1/posts", nil, &all)
	if len(all) != 2 {
		t.Errorf("%d posts stored, want 2", len(all))
	}
}

// TestNumberingOnePostTweet: a one-tweet post is never numbered, with or
// without --thread, as `psnd split --number` shows (issue 10 item 4).
func TestNumberingOnePostTweet(t *testing.T) {
	h := newHarness(t)
	h.start()
	for _, thread := range []bool{false, true} {
		p := h.create(api.CreatePost{Text: fmt.Sprint("short ", thread), Thread: thread, Number: true, Draft: true})
		if len(p.Tweets) != 1 || p.Tweets[0].Text != fmt.Sprint("short ", thread) {
			t.Errorf("thread=%v: stored %+v", thread, p.Tweets)
		}
		p = h.create(api.CreatePost{Text: fmt.Sprint("one ", thread, "\n---\ntwo"), Thread: thread, Number: true, Draft: true})
		if len(p.Tweets) != 2 || p.Tweets[0].Text != fmt.Sprint("one ", thread, " 1/2") || p.Tweets[1].Text != "two 2/2" {
			t.Errorf("thread=%v: stored %+v", thread, p.Tweets)
		}
	}
}

// TestNoNearDuplicateWarningForShortDistinctTexts: "parallel 2" after
// "parallel 12" is another post, not an accident (issue 10 item 10); a
// re-post of the same long text still warns.
func TestNoNearDuplicateWarningForShortDistinctTexts(t *testing.T) {
	h := newHarness(t)
	h.start()
	for _, text := range []string{"sandbox run parallel 12", "sandbox run parallel 2", "並列テスト 1", "並列テスト 2"} {
		if p := h.create(api.CreatePost{Text: text, Draft: true}); len(p.Warnings) != 0 {
			t.Errorf("%q: warnings %q", text, p.Warnings)
		}
	}
	long := "Our spring sale starts on Monday: everything in the shop is cheaper"
	h.create(api.CreatePost{Text: long, Draft: true})
	p := h.create(api.CreatePost{Text: long + "!", Draft: true})
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "nearly the same") {
		t.Errorf("near-duplicate of a long text: warnings %q", p.Warnings)
	}
}
