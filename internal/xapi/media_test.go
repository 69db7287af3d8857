package xapi

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pngBytes(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(t testing.TB, frames int) []byte {
	pal := color.Palette{color.Black, color.White}
	g := &gif.GIF{}
	for i := 0; i < frames; i++ {
		g.Image = append(g.Image, image.NewPaletted(image.Rect(0, 0, 4, 4), pal))
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// isoFile is the start of an ISO base media file with the given brand.
func isoFile(brand string) []byte {
	b := []byte{0, 0, 0, 0x18}
	b = append(b, "ftyp"+brand+"\x00\x00\x02\x00isomiso2"...)
	return append(b, make([]byte, 64)...)
}

func webmBytes() []byte {
	b := []byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84}
	b = append(b, "webm"...)
	return append(b, make([]byte, 32)...)
}

// writeFile writes content and, if size is larger, extends the file
// sparsely to size bytes.
func writeFile(t testing.TB, name string, content []byte, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if size > int64(len(content)) {
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestInspectMedia(t *testing.T) {
	cases := []struct {
		name     string
		file     string // misleading extensions on purpose: content decides
		content  []byte
		size     int64
		mime     string
		category Category
		animated bool
		wantErr  string
	}{
		{name: "png", file: "a.jpg", content: pngBytes(t), mime: "image/png", category: CategoryImage},
		{name: "jpeg", file: "a.png", content: jpegBytes(t), mime: "image/jpeg", category: CategoryImage},
		{name: "webp", file: "a.bin", content: append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), make([]byte, 40)...), mime: "image/webp", category: CategoryImage},
		{name: "static gif", file: "s.gif", content: gifBytes(t, 1), mime: "image/gif", category: CategoryImage},
		{name: "animated gif", file: "a.gif", content: gifBytes(t, 3), mime: "image/gif", category: CategoryGIF, animated: true},
		{name: "mp4", file: "v.mov", content: isoFile("isom"), mime: "video/mp4", category: CategoryVideo},
		{name: "mp4 mp42", file: "v", content: isoFile("mp42"), mime: "video/mp4", category: CategoryVideo},
		{name: "mov", file: "v.mp4", content: isoFile("qt  "), mime: "video/quicktime", category: CategoryVideo},
		{name: "webm refused", file: "v.webm", content: webmBytes(), wantErr: "WebM video is not accepted"},
		{name: "text refused", file: "t.png", content: []byte("hello, world"), wantErr: "unsupported file type text/plain"},
		{name: "empty", file: "e.png", content: nil, wantErr: "file is empty"},
		{name: "image too big", file: "big.png", content: pngBytes(t), size: MaxImageBytes + 1, wantErr: "image is 5.0 MB (5242881 bytes); X allows at most 5 MB for images"},
		{name: "image at limit", file: "ok.png", content: pngBytes(t), size: MaxImageBytes, mime: "image/png", category: CategoryImage},
		{name: "video too big", file: "big.mp4", content: isoFile("isom"), size: MaxVideoBytes + 1<<20, wantErr: "video is 513 MB (537919488 bytes); X allows at most 512 MB for videos"},
		{name: "broken gif", file: "b.gif", content: []byte("GIF89a\x04\x00"), wantErr: "not a valid GIF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.file, tc.content, tc.size)
			m, err := InspectMedia(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), tc.file+": ") || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q should be one line naming the file", err)
				}
				if !errors.Is(err, ErrInvalidArgument) || !IsPermanent(err) {
					t.Errorf("error %v should be a permanent ErrInvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.MIMEType != tc.mime || m.Category != tc.category || m.Animated != tc.animated || m.Path != p {
				t.Fatalf("got %+v, want %s %s animated=%v", m, tc.mime, tc.category, tc.animated)
			}
		})
	}
}

func TestInspectAnimatedGIFLimit(t *testing.T) {
	anim := gifBytes(t, 2)
	// Trailing bytes after the GIF trailer do not matter to the frame walk,
	// so a sparse tail makes a large GIF cheaply.
	p := writeFile(t, "big.gif", anim, MaxGIFBytes+1)
	if _, err := InspectMedia(p); err == nil || !strings.Contains(err.Error(), "animated GIF is 15.0 MB (15728641 bytes); X allows at most 15 MB") {
		t.Fatalf("err = %v", err)
	}
	p = writeFile(t, "ok.gif", anim, MaxImageBytes+1) // over the image limit, fine for a GIF
	if m, err := InspectMedia(p); err != nil || m.Category != CategoryGIF {
		t.Fatalf("got %+v, %v", m, err)
	}
	// A static GIF is an image and gets the image limit.
	p = writeFile(t, "static.gif", gifBytes(t, 1), MaxImageBytes+1)
	if _, err := InspectMedia(p); err == nil || !strings.Contains(err.Error(), "for images") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckPostMedia(t *testing.T) {
	img := MediaFile{Category: CategoryImage}
	vid := MediaFile{Category: CategoryVideo}
	gf := MediaFile{Category: CategoryGIF}
	cases := []struct {
		files []MediaFile
		ok    bool
	}{
		{nil, true},
		{[]MediaFile{img}, true},
		{[]MediaFile{img, img, img, img}, true},
		{[]MediaFile{img, img, img, img, img}, false},
		{[]MediaFile{vid}, true},
		{[]MediaFile{gf}, true},
		{[]MediaFile{vid, img}, false},
		{[]MediaFile{gf, gf}, false},
		{[]MediaFile{vid, gf}, false},
	}
	for i, tc := range cases {
		err := CheckPostMedia(tc.files)
		if (err == nil) != tc.ok {
			t.Errorf("case %d: err = %v, want ok=%v", i, err, tc.ok)
		}
		if err != nil && !IsPermanent(err) {
			t.Errorf("case %d: %v should be permanent", i, err)
		}
	}
}

func TestCheckAltText(t *testing.T) {
	if err := CheckAltText(strings.Repeat("é", 1000)); err != nil {
		t.Fatalf("1000 characters: %v", err)
	}
	err := CheckAltText(strings.Repeat("a", 1001))
	if err == nil || err.Error() != "alt text is 1001 characters; X allows at most 1000" {
		t.Fatalf("err = %v", err)
	}
}

// TestInspectMediaPathErrors: a missing file or a directory is named by
// its full path, once, without "open … open …".
func TestInspectMediaPathErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "x.png")
	_, err := InspectMedia(missing)
	if err == nil || err.Error() != "media file "+missing+" does not exist" {
		t.Errorf("missing file: %v", err)
	}
	_, err = InspectMedia(dir)
	if err == nil || err.Error() != dir+" is not a regular file" {
		t.Errorf("directory: %v", err)
	}
}
