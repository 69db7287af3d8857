package daemon

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
)

func writePNG(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "kite.png")
	os.WriteFile(p, b.Bytes(), 0o600)
	return p
}

func writeAnimatedGIF(t *testing.T, dir string) string {
	t.Helper()
	g := &gif.GIF{}
	for i := range 3 {
		fr := image.NewPaletted(image.Rect(0, 0, 4, 4), palette.Plan9)
		fr.SetColorIndex(i, i, uint8(i+1))
		g.Image = append(g.Image, fr)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "spin.gif")
	os.WriteFile(p, b.Bytes(), 0o600)
	return p
}

func TestImageWithAltTextPublished(t *testing.T) {
	h := newHarness(t)
	h.start()
	src := writePNG(t, t.TempDir())
	p := h.create(api.CreatePost{Text: "look at this", Now: true, Media: []api.MediaInput{{Path: src, AltText: "A red dot"}}})
	// psnd keeps its own copy: the original may go away.
	os.Remove(src)
	if m := p.Tweets[0].Media; len(m) != 1 || m[0].MimeType != "image/png" || !strings.HasPrefix(m[0].Path, h.cfg.Env.Home) {
		t.Fatalf("media = %+v", m)
	}
	h.waitPost(p.ID, isStatus("published"))
	tw := h.x.Tweets()
	if len(tw) != 1 || len(tw[0].MediaIDs) != 1 {
		t.Fatalf("tweets = %+v", tw)
	}
	m, ok := h.x.Media(tw[0].MediaIDs[0])
	if !ok || m.AltText != "A red dot" || m.Category != "tweet_image" {
		t.Fatalf("media at X = %+v", m)
	}
}

func TestAnimatedGIFUploadedInChunksAndProcessed(t *testing.T) {
	h := newHarnessX(t, fakex.Options{Processing: fakex.Processing{CheckAfterSecs: 2, Polls: 3}})
	h.start()
	src := writeAnimatedGIF(t, t.TempDir())
	p := h.create(api.CreatePost{Text: "spinning", Now: true, Media: []api.MediaInput{{Path: src}}})
	got := h.waitPost(p.ID, isStatus("published"))
	if sub(got) != "" {
		t.Fatalf("sub_status %q after publish", sub(got))
	}
	var init, appends, finalize, status int
	for _, r := range h.x.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/initialize"):
			init++
		case strings.HasSuffix(r.Path, "/append"):
			appends++
		case strings.HasSuffix(r.Path, "/finalize"):
			finalize++
		case r.Method == http.MethodGet && r.Path == "/2/media/upload":
			status++
		}
	}
	if init != 1 || appends < 1 || finalize != 1 || status < 2 {
		t.Fatalf("chunked flow: init %d append %d finalize %d status %d", init, appends, finalize, status)
	}
	m, _ := h.x.Media(h.x.Tweets()[0].MediaIDs[0])
	if m.Category != "tweet_gif" || m.State != "succeeded" {
		t.Fatalf("media at X = %+v", m)
	}
}

func TestFailedProcessingFailsPost(t *testing.T) {
	h := newHarnessX(t, fakex.Options{Processing: fakex.Processing{CheckAfterSecs: 1, Polls: 1, Fail: true, FailMessage: "Unsupported frame rate"}})
	h.start()
	src := writeAnimatedGIF(t, t.TempDir())
	p := h.create(api.CreatePost{Text: "bad gif", Now: true, Media: []api.MediaInput{{Path: src}}})
	got := h.waitPost(p.ID, isStatus("failed"))
	if !strings.Contains(reason(got), "Unsupported frame rate") {
		t.Fatalf("reason %q", reason(got))
	}
	if len(h.x.Tweets()) != 0 {
		t.Fatal("tweet posted without its media")
	}
}

func TestExpiredMediaReuploadedOnRetry(t *testing.T) {
	h := newHarnessX(t, fakex.Options{MediaTTL: 10 * time.Minute})
	h.start()
	src := writePNG(t, t.TempDir())
	h.x.Inject(fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Times: 1, Kind: fakex.FaultStatus, Status: 503})
	p := h.create(api.CreatePost{Text: "retry with media", Now: true, Media: []api.MediaInput{{Path: src}}})
	got := h.waitPost(p.ID, isStatus("retry"))
	// The retry comes after the media id expired: it must upload again.
	h.clock.Set(got.NextRetryAt.Add(15 * time.Minute))
	h.alarm.Fire()
	h.waitPost(p.ID, isStatus("published"))
	uploads := 0
	for _, r := range h.x.Requests() {
		if r.Method == http.MethodPost && r.Path == "/2/media/upload" && r.Status < 300 {
			uploads++
		}
	}
	if uploads != 2 {
		t.Fatalf("%d uploads, want 2 (the first id expired)", uploads)
	}
	m, _ := h.x.Media(h.x.Tweets()[0].MediaIDs[0])
	if !m.ExpiresAt.After(h.clock.Now()) {
		t.Fatalf("tweet carries an expired media id (expires %v, now %v)", m.ExpiresAt, h.clock.Now())
	}
}

func TestMediaRefusedBeforeStoring(t *testing.T) {
	h := newHarness(t)
	h.start()
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("just text"), 0o600)
	png := writePNG(t, dir)
	cases := []struct {
		media []api.MediaInput
		want  string
	}{
		{[]api.MediaInput{{Path: txt}}, ""},
		{[]api.MediaInput{{Path: "relative.png"}}, "absolute"},
		{[]api.MediaInput{{Path: png}, {Path: png}, {Path: png}, {Path: png}, {Path: png}}, "4"},
		{[]api.MediaInput{{Path: png, AltText: strings.Repeat("a", 1001)}}, "1000"},
	}
	for i, c := range cases {
		err := h.call(http.MethodPost, "/v1/posts", api.CreatePost{Text: fmt.Sprint("m", i), Now: true, Media: c.media}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: err = %v, want mention of %q", i, err, c.want)
		}
	}
	var all []api.Post
	h.call(http.MethodGet, "/v1/posts", nil, &all)
	if len(all) != 0 {
		t.Fatalf("%d posts stored after refusals", len(all))
	}
	entries, _ := os.ReadDir(filepath.Join(h.cfg.Env.Home, "media"))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			t.Errorf("media file left behind: %s", e.Name())
		}
	}
}

func TestDeletePublishedThreadOnX(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.create(api.CreatePost{Tweets: lines(3, "to delete %d"), Now: true})
	h.waitPost(p.ID, isStatus("published"))
	// Without remote=true the daemon refuses: the post is on X.
	if err := h.call(http.MethodDelete, fmt.Sprintf("/v1/posts/%d", p.ID), nil, nil); err == nil {
		t.Fatal("delete without confirmation accepted")
	}
	var res api.DeleteResult
	if err := h.call(http.MethodDelete, fmt.Sprintf("/v1/posts/%d?remote=true", p.ID), nil, &res); err != nil {
		t.Fatal(err)
	}
	if !res.Deleted || len(res.DeletedOnX) != 3 {
		t.Fatalf("result %+v", res)
	}
	for _, tw := range h.x.Tweets() {
		if !tw.Deleted {
			t.Errorf("tweet %s still on X", tw.ID)
		}
	}
	if err := h.call(http.MethodGet, fmt.Sprintf("/v1/posts/%d", p.ID), nil, nil); err == nil {
		t.Fatal("post still in psnd")
	}
	// A draft is deleted locally only.
	d := h.create(api.CreatePost{Text: "draft to drop", Draft: true})
	if err := h.call(http.MethodDelete, fmt.Sprintf("/v1/posts/%d", d.ID), nil, &res); err != nil || !res.Deleted {
		t.Fatalf("delete draft: %v %+v", err, res)
	}
}
