package daemon

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// pngBytes is a small PNG whose content depends on seed.
// How internal/localapi names and ages the copies it is writing.
const (
	tempPrefix = ".import-"
	tempGrace  = time.Minute
)

func pngBytes(t *testing.T, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(int(seed%8), 1, color.RGBA{255, seed, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// mediaNames lists the media directory, sorted.
func mediaNames(t *testing.T, h *harness) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(h.cfg.Env.Home, "media"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// rawDB opens the daemon's database beside it, as another process would.
func rawDB(t *testing.T, h *harness) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+h.cfg.Env.DBPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (h *harness) deletePost(id int64) {
	h.t.Helper()
	var res api.DeleteResult
	if err := h.call(http.MethodDelete, fmt.Sprintf("/v1/posts/%d", id), nil, &res); err != nil || !res.Deleted {
		h.t.Fatalf("delete %d: %v %+v", id, err, res)
	}
}

// The same content under any name or extension is one file, named by its
// hash alone, and it goes when the last post using it goes.
func TestMediaStoredOncePerContent(t *testing.T) {
	h := newHarness(t)
	h.start()
	dir := t.TempDir()
	img := pngBytes(t, 1)
	lower := writeFile(t, filepath.Join(dir, "kite.png"), img)
	upper := writeFile(t, filepath.Join(dir, "KITE.PNG"), img)
	other := writeFile(t, filepath.Join(dir, "kite copy.webp"), img) // a PNG, whatever its name says
	want := filepath.Join(h.cfg.Env.Home, "media", sum(img))

	a := h.create(api.CreatePost{Text: "first İ", Draft: true, Media: []api.MediaInput{{Path: lower}}})
	b := h.create(api.CreatePost{Text: "second 🪁", Draft: true, Media: []api.MediaInput{{Path: upper}, {Path: other}}})
	for _, p := range []api.Post{a, b} {
		for _, m := range p.Tweets[0].Media {
			if m.Path != want || m.MimeType != "image/png" {
				t.Fatalf("post %d media %+v; want path %s, image/png", p.ID, m, want)
			}
		}
	}
	if got := mediaNames(t, h); !slices.Equal(got, []string{sum(img)}) {
		t.Fatalf("media directory %v; want one file named by the hash", got)
	}

	h.deletePost(a.ID)
	if got := mediaNames(t, h); !slices.Equal(got, []string{sum(img)}) {
		t.Fatalf("after deleting one of two users: %v", got)
	}
	h.deletePost(b.ID)
	if got := mediaNames(t, h); len(got) != 0 {
		t.Fatalf("after deleting every user: %v; want no file", got)
	}
}

// A create that fails after the copies were made leaves no copy behind,
// but never removes one another post uses.
func TestMediaFailedCreateLeavesNoFile(t *testing.T) {
	h := newHarness(t)
	h.start()
	dir := t.TempDir()
	shared := pngBytes(t, 2)
	fresh := pngBytes(t, 3)
	keep := h.create(api.CreatePost{Text: "keeps its file", Draft: true,
		Media: []api.MediaInput{{Path: writeFile(t, filepath.Join(dir, "shared.png"), shared)}}})

	// The database refuses the media rows, as a full disk would.
	if _, err := rawDB(t, h).Exec(`CREATE TRIGGER refuse_media BEFORE INSERT ON media
		BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	err := h.call(http.MethodPost, "/v1/posts", api.CreatePost{Text: "never stored", Draft: true, Media: []api.MediaInput{
		{Path: writeFile(t, filepath.Join(dir, "fresh.png"), fresh)},
		{Path: writeFile(t, filepath.Join(dir, "shared again.jpg"), shared)},
	}}, nil)
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("create with the rows refused: %v", err)
	}
	if got := mediaNames(t, h); !slices.Equal(got, []string{sum(shared)}) {
		t.Fatalf("media directory %v; want only the file of post %d", got, keep.ID)
	}
	var posts []api.Post
	if err := h.call(http.MethodGet, "/v1/posts", nil, &posts); err != nil || len(posts) != 1 {
		t.Fatalf("posts %d %v", len(posts), err)
	}
}

// At start, copies stored by older versions as <sha256><ext> move to their
// content name (their posts still publish), and files no post refers to are
// removed, except temporary copies young enough to be still being written.
func TestMediaRenamedAndSweptAtStart(t *testing.T) {
	h := newHarness(t)
	h.start()
	dir := t.TempDir()
	img := pngBytes(t, 4)
	p := h.create(api.CreatePost{Text: "made by an older psnd", Draft: true,
		Media: []api.MediaInput{{Path: writeFile(t, filepath.Join(dir, "old.png"), img), AltText: "Ⱥ kite"}}})
	h.stop()

	// The layout of an older psnd: <sha256>.png, and junk beside it.
	media := filepath.Join(h.cfg.Env.Home, "media")
	newName, oldName := filepath.Join(media, sum(img)), filepath.Join(media, sum(img)+".png")
	if err := os.Rename(newName, oldName); err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, h).Exec(`UPDATE media SET path = ?`, oldName); err != nil {
		t.Fatal(err)
	}
	orphan := pngBytes(t, 5)
	writeFile(t, filepath.Join(media, sum(orphan)+".jpg"), orphan)
	writeFile(t, filepath.Join(media, sum(orphan)), orphan)
	stale := writeFile(t, filepath.Join(media, tempPrefix+"crashed"), []byte("half a copy"))
	old := time.Now().Add(-2 * tempGrace)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(media, tempPrefix+"writing"), []byte("a copy under way"))
	if err := os.Mkdir(filepath.Join(media, "not-a-file"), 0o700); err != nil {
		t.Fatal(err)
	}

	h.start()
	want := []string{tempPrefix + "writing", sum(img), "not-a-file"}
	slices.Sort(want)
	if got := mediaNames(t, h); !slices.Equal(got, want) {
		t.Fatalf("media directory after start %v; want %v", got, want)
	}
	var got api.Post
	if err := h.call(http.MethodGet, fmt.Sprintf("/v1/posts/%d", p.ID), nil, &got); err != nil {
		t.Fatal(err)
	}
	if m := got.Tweets[0].Media; len(m) != 1 || m[0].Path != newName || m[0].AltText != "Ⱥ kite" {
		t.Fatalf("media after start %+v; want path %s", m, newName)
	}
	// And the post still publishes with its picture.
	if err := h.call(http.MethodPatch, fmt.Sprintf("/v1/posts/%d", p.ID), api.EditPost{Now: true}, nil); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Second)
	h.waitPost(p.ID, isStatus("published"))
	if tw := h.x.Tweets(); len(tw) != 1 || len(tw[0].MediaIDs) != 1 {
		t.Fatalf("tweets on X %+v", tw)
	}
}
