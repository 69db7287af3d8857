package pricing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDefaultWithoutFile(t *testing.T) {
	got, err := Load(t.TempDir())
	if err != nil || got != Default {
		t.Fatalf("Load = %+v, %v; want Default", got, err)
	}
	if Default.Post != 0.015 || Default.PostWithURL != 0.20 || Default.Read != 0.001 || Default.AsOf == "" || Default.Source == "" {
		t.Fatalf("Default %+v does not match x-platform-facts §5", Default)
	}
}

func TestLoadOverridesSomeFields(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"read_usd": 0.002, "media_upload_usd": 0.01}`), 0o600)
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Read != 0.002 || got.MediaUpload != 0.01 || got.Post != Default.Post || got.PostWithURL != Default.PostWithURL {
		t.Errorf("override %+v", got)
	}
	// A table changed by the user no longer claims X's date and source:
	// it names the file and the file's date (printed as "Prices as of
	// <date> (<source>)", never with an empty date).
	if got.Source != filepath.Join(dir, FileName) || got.Note != "" {
		t.Errorf("source %q note %q", got.Source, got.Note)
	}
	fi, _ := os.Stat(filepath.Join(dir, FileName))
	if want := fi.ModTime().UTC().Format("2006-01-02"); got.AsOf != want {
		t.Errorf("as_of %q, want the file's date %q", got.AsOf, want)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	for _, body := range []string{`{"post_usd": -0.01}`, `{"post": 1}`, `[1]`, `{"post_usd": "cheap"}`} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), FileName) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err %v, want one line naming the file", body, err)
		}
	}
}

func TestCost(t *testing.T) {
	if got := Default.Cost(3, 1, 2, 7); got != 0.252 {
		t.Errorf("Cost = %v, want 0.252", got)
	}
	if Default.Create(true) != 0.20 || Default.Create(false) != 0.015 {
		t.Error("Create")
	}
}
