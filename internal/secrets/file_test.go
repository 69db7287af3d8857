package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestFileKeyring(t *testing.T) {
	ctx := t.Context()
	home := filepath.Join(t.TempDir(), "psn") // created by Set
	f := NewFile(home)
	if _, err := f.Get(ctx, Service, "id"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get before create: %v", err)
	}
	k, created, err := LoadOrCreateKey(ctx, f, "id")
	if err != nil || !created {
		t.Fatalf("create: %v created=%v", err, created)
	}
	fi, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %#o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(home); runtime.GOOS != "windows" && di.Mode().Perm() != 0o700 {
		t.Fatalf("created data dir mode %#o, want 0700", di.Mode().Perm())
	}
	b, _ := os.ReadFile(f.Path())
	if !strings.HasPrefix(string(b), keyPrefix) || !strings.HasSuffix(string(b), "\n") {
		t.Fatalf("key file content has the wrong shape (%d bytes)", len(b))
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}

	// A second keyring on the same directory (a restart) finds the same key.
	k2, created, err := LoadOrCreateKey(ctx, NewFile(home), "another-id")
	if err != nil || created || !k2.Equal(k) {
		t.Fatalf("reload: %v created=%v equal=%v", err, created, k2.Equal(k))
	}

	// Never overwritten.
	err = f.Set(ctx, Service, "id", encodeKey(NewKey()))
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), f.Path()) {
		t.Fatalf("overwrite: %v", err)
	}
	if b2, _ := os.ReadFile(f.Path()); string(b2) != string(b) {
		t.Fatal("key file changed")
	}

	if err := f.Delete(ctx, Service, "id"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, Service, "id"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestFileKeyringRefusesLoosePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	ctx := t.Context()
	home := t.TempDir()
	f := NewFile(home)
	if _, _, err := LoadOrCreateKey(ctx, f, "id"); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(f.Path())
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666, 0o700} {
		if err := os.Chmod(f.Path(), mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateKey(ctx, f, "id")
		if mode&0o077 == 0 {
			if err != nil {
				t.Fatalf("mode %#o refused: %v", mode, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), f.Path()) || !strings.Contains(err.Error(), "0600") {
			t.Fatalf("mode %#o: err = %v", mode, err)
		}
		if b, _ := os.ReadFile(f.Path()); string(b) != string(orig) {
			t.Fatalf("mode %#o: key file replaced", mode)
		}
	}
	os.Chmod(f.Path(), 0o400) // stricter is fine
	if _, _, err := LoadOrCreateKey(ctx, f, "id"); err != nil {
		t.Fatalf("0400 refused: %v", err)
	}
}

func TestFileKeyringRefusesMalformed(t *testing.T) {
	ctx := t.Context()
	valid := encodeKey(NewKey())
	for name, content := range map[string]string{
		"empty":          "",
		"newline only":   "\n",
		"two lines":      valid + "\n" + valid + "\n",
		"binary":         "\x00\x01\x02secret",
		"not a psnd key": "correct horse battery staple\n",
		"truncated":      valid[:len(valid)-10] + "\n",
		"huge":           strings.Repeat("A", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			f := NewFile(home)
			if err := os.WriteFile(f.Path(), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateKey(ctx, f, "id")
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), f.Path()) {
				t.Fatalf("error does not name the file: %v", err)
			}
			if strings.Contains(err.Error(), "horse") {
				t.Fatalf("error quotes the file: %v", err)
			}
			if b, _ := os.ReadFile(f.Path()); string(b) != content {
				t.Fatal("malformed key file was replaced")
			}
		})
	}
	// A key written by hand without the final newline, or with CRLF, is fine.
	for _, content := range []string{valid, valid + "\r\n"} {
		home := t.TempDir()
		f := NewFile(home)
		os.WriteFile(f.Path(), []byte(content), 0o600)
		if _, created, err := LoadOrCreateKey(ctx, f, "id"); err != nil || created {
			t.Fatalf("%q: %v created=%v", content[len(content)-3:], err, created)
		}
	}
}

func TestFileKeyringRefusesDirectory(t *testing.T) {
	home := t.TempDir()
	f := NewFile(home)
	if err := os.Mkdir(f.Path(), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(t.Context(), Service, "id"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("directory as key file: %v", err)
	}
	if err := f.Set(t.Context(), Service, "id", "x"); !errors.Is(err, ErrExists) {
		t.Fatalf("set over directory: %v", err)
	}
}

func TestFileKeyringRejectsMultilineSecret(t *testing.T) {
	f := NewFile(t.TempDir())
	if err := f.Set(t.Context(), Service, "id", "a\nb"); err == nil {
		t.Fatal("multi-line secret accepted")
	}
	if _, err := os.Stat(f.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("file created for a rejected secret")
	}
}
