package xapi_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/xapi"
)

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pngFile(t *testing.T) string {
	var b bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.White)
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "cat.png", b.Bytes())
}

func gifFile(t *testing.T, frames int) string {
	g := &gif.GIF{}
	for i := 0; i < frames; i++ {
		g.Image = append(g.Image, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White}))
		g.Delay = append(g.Delay, 5)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "anim.gif", b.Bytes())
}

// mp4File is an ISO media header followed by filler: enough for type
// detection and for the fake's stand-in transcoder.
func mp4File(t *testing.T, size int) (string, []byte) {
	b := append([]byte{0, 0, 0, 0x18}, "ftypisom\x00\x00\x02\x00isomiso2"...)
	for len(b) < size {
		b = append(b, byte(len(b)%251))
	}
	return writeTemp(t, "clip.mp4", b), b
}

func TestUploadImageWithAltTextAndPost(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	p := pngFile(t)
	f, err := xapi.InspectMedia(p)
	if err != nil {
		t.Fatal(err)
	}
	var progress [][2]int64
	m, err := e.c.Upload(e.ctx, e.token, f, func(sent, total int64) { progress = append(progress, [2]int64{sent, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if !m.ExpiresAt.Equal(t0.Add(24*time.Hour)) || m.Expired(t0) || !m.Expired(t0.Add(24*time.Hour)) {
		t.Errorf("expiry %v", m.ExpiresAt)
	}
	if len(progress) != 1 || progress[0] != [2]int64{f.Size, f.Size} {
		t.Errorf("progress %v", progress)
	}
	want, _ := os.ReadFile(p)
	got, ok := e.srv.Media(m.ID)
	if !ok || !bytes.Equal(got.Data, want) || got.Category != "tweet_image" || got.State != fakex.StateSucceeded {
		t.Fatalf("fake holds %+v", got)
	}
	if _, err := e.c.SetAltText(e.ctx, e.token, m.ID, "a white dot on a black square"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.srv.Media(m.ID); got.AltText != "a white dot on a black square" {
		t.Errorf("alt text %q", got.AltText)
	}
	tw := e.create(xapi.CreateTweetRequest{Text: "with a picture", MediaIDs: []string{m.ID}})
	if st := e.srv.Tweets(); len(st) != 1 || st[0].ID != tw.ID || st[0].MediaIDs[0] != m.ID {
		t.Fatalf("stored %+v", st)
	}
	if _, err := e.c.SetAltText(e.ctx, e.token, m.ID, strings.Repeat("x", 1001)); !errors.Is(err, xapi.ErrInvalidArgument) {
		t.Errorf("long alt text: %v", err)
	}
}

func TestUploadStaticGIFAsImage(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	f, err := xapi.InspectMedia(gifFile(t, 1))
	if err != nil || f.Category != xapi.CategoryImage {
		t.Fatalf("%+v %v", f, err)
	}
	m, err := e.c.Upload(e.ctx, e.token, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.srv.Media(m.ID); got.MediaType != "image/gif" {
		t.Errorf("fake detected %q", got.MediaType)
	}
}

func TestUploadChunkedVideoPollsProcessing(t *testing.T) {
	e := newEnv(t, fakex.Options{Processing: fakex.Processing{CheckAfterSecs: 5, Polls: 3}}, xapi.Config{ChunkSize: 4096})
	p, content := mp4File(t, 10_000)
	f, err := xapi.InspectMedia(p)
	if err != nil || f.Category != xapi.CategoryVideo || f.MIMEType != "video/mp4" {
		t.Fatalf("%+v %v", f, err)
	}
	var progress []int64
	m, err := e.c.Upload(e.ctx, e.token, f, func(sent, total int64) {
		if total != 10_000 {
			t.Errorf("total %d", total)
		}
		progress = append(progress, sent)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{4096, 8192, 10_000}; !slices.Equal(progress, want) {
		t.Errorf("progress %v, want %v", progress, want)
	}
	if want := []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}; !slices.Equal(e.sleeps, want) {
		t.Errorf("slept %v, want %v (check_after_secs each poll)", e.sleeps, want)
	}
	got, _ := e.srv.Media(m.ID)
	if !bytes.Equal(got.Data, content) || got.Category != "tweet_video" || got.State != fakex.StateSucceeded {
		t.Fatalf("fake holds %d bytes, %s, %s", len(got.Data), got.Category, got.State)
	}
	// Expiry is stamped from the last status answer, 15 s after the start.
	if want := t0.Add(24 * time.Hour); !m.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", m.ExpiresAt, want)
	}
	var segs []string
	for _, r := range e.srv.Requests() {
		segs = append(segs, r.Method+" "+r.Path)
	}
	wantSeq := []string{
		"POST /2/media/upload/initialize",
		"POST /2/media/upload/" + m.ID + "/append",
		"POST /2/media/upload/" + m.ID + "/append",
		"POST /2/media/upload/" + m.ID + "/append",
		"POST /2/media/upload/" + m.ID + "/finalize",
		"GET /2/media/upload", "GET /2/media/upload", "GET /2/media/upload",
	}
	if !slices.Equal(segs, wantSeq) {
		t.Errorf("requests %v", segs)
	}
	e.create(xapi.CreateTweetRequest{Text: "a clip", MediaIDs: []string{m.ID}})

	st, _, err := e.c.MediaStatus(e.ctx, e.token, m.ID)
	if err != nil || st.State != xapi.StateSucceeded || st.ProgressPercent != 100 {
		t.Fatalf("status %+v %v", st, err)
	}
}

func TestUploadAnimatedGIF(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	f, err := xapi.InspectMedia(gifFile(t, 3))
	if err != nil || f.Category != xapi.CategoryGIF {
		t.Fatalf("%+v %v", f, err)
	}
	m, err := e.c.Upload(e.ctx, e.token, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.srv.Media(m.ID); got.Category != "tweet_gif" || got.MediaType != "image/gif" {
		t.Fatalf("%+v", got)
	}
	if want := []time.Duration{time.Second, time.Second}; !slices.Equal(e.sleeps, want) {
		t.Errorf("slept %v", e.sleeps)
	}
}

func TestUploadProcessingFails(t *testing.T) {
	e := newEnv(t, fakex.Options{Processing: fakex.Processing{Fail: true, FailMessage: "Unsupported video codec."}}, xapi.Config{})
	p, _ := mp4File(t, 2000)
	f, _ := xapi.InspectMedia(p)
	_, err := e.c.Upload(e.ctx, e.token, f, nil)
	var pe *xapi.ProcessingError
	if !errors.As(err, &pe) || !xapi.IsPermanent(err) || !strings.Contains(err.Error(), "Unsupported video codec.") {
		t.Fatalf("err = %v", err)
	}
}

func TestUploadProcessingTooSlow(t *testing.T) {
	e := newEnv(t, fakex.Options{Processing: fakex.Processing{CheckAfterSecs: 60, Polls: 100}}, xapi.Config{MaxProcessingWait: 3 * time.Minute})
	p, _ := mp4File(t, 2000)
	f, _ := xapi.InspectMedia(p)
	_, err := e.c.Upload(e.ctx, e.token, f, nil)
	if err == nil || !strings.Contains(err.Error(), "still in_progress after 3m0s") {
		t.Fatalf("err = %v", err)
	}
}

func TestExpiredMediaIsRefused(t *testing.T) {
	e := newEnv(t, fakex.Options{AccessTokenTTL: 48 * time.Hour}, xapi.Config{})
	f, _ := xapi.InspectMedia(pngFile(t))
	m, err := e.c.Upload(e.ctx, e.token, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(24 * time.Hour)
	if !m.Expired(e.clk.Now()) {
		t.Fatal("client does not see the id expired")
	}
	_, _, err = e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "late", MediaIDs: []string{m.ID}})
	if !xapi.IsPermanent(err) || !strings.Contains(err.Error(), "Your media IDs are invalid.") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnprocessedOrUnknownMediaIsRefused(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	_, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "ghost", MediaIDs: []string{"1870000000000000999"}})
	if !xapi.IsPermanent(err) {
		t.Fatalf("unknown media: %v", err)
	}
	// Chunk-upload a video but do not wait for processing.
	p, _ := mp4File(t, 1000)
	f, _ := xapi.InspectMedia(p)
	e.srv.Inject(fakex.Fault{Method: "GET", Path: "/2/media/upload", Status: 503})
	if _, err := e.c.Upload(e.ctx, e.token, f, nil); !xapi.IsTransient(err) {
		t.Fatalf("status 503: %v", err)
	}
	var id string
	for _, r := range e.srv.Requests() {
		if strings.HasSuffix(r.Path, "/finalize") {
			id = r.MediaID
		}
	}
	_, _, err = e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "too early", MediaIDs: []string{id}})
	if !xapi.IsPermanent(err) {
		t.Fatalf("pending media: %v", err)
	}
}

func TestUploadChecksBeforeSending(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	_, _, err := e.c.UploadImage(e.ctx, e.token, xapi.MediaUpload{Data: bytes.NewReader(nil), Size: xapi.MaxImageBytes + 1, MIMEType: "image/png"})
	if !errors.Is(err, xapi.ErrInvalidArgument) {
		t.Fatalf("err = %v", err)
	}
	_, _, err = e.c.UploadImage(e.ctx, e.token, xapi.MediaUpload{Data: bytes.NewReader(nil), Size: 10, Category: xapi.CategoryVideo})
	if !errors.Is(err, xapi.ErrInvalidArgument) {
		t.Fatalf("err = %v", err)
	}
	// A reader shorter than announced fails without finalizing.
	_, _, err = e.c.UploadChunked(e.ctx, e.token, xapi.MediaUpload{Data: bytes.NewReader([]byte("short")), Size: 100, MIMEType: "video/mp4", Category: xapi.CategoryVideo})
	if err == nil || !strings.Contains(err.Error(), "read media") {
		t.Fatalf("err = %v", err)
	}
	if len(e.srv.Requests()) != 1 { // only the initialize
		t.Fatalf("requests %+v", e.srv.Requests())
	}
}
