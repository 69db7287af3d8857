// Package testutil holds helpers shared by psnd's tests. It is imported only
// from _test.go files.
package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// SharedDir returns the reference-data directory ../shared (beside the
// repository root), or $PSN_SHARED_DIR when set. Reference data is never
// copied into the repository, so a test that needs it skips on a plain clone
// where it is absent — unless PSN_REQUIRE_SHARED=1 (set in CI), which turns
// the skip into a failure so that CI cannot pass without running it.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PSN_SHARED_DIR"); d != "" {
		return d
	}
	root, err := RepoRoot()
	if err == nil {
		d := filepath.Join(root, "..", "shared")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	if os.Getenv("PSN_REQUIRE_SHARED") == "1" {
		t.Fatalf("reference data ../shared not found and PSN_REQUIRE_SHARED=1")
	}
	t.Skip("reference data ../shared not present (plain clone); skipping")
	return ""
}

// SharedFile returns the path of a file under SharedDir, skipping (or failing
// under PSN_REQUIRE_SHARED=1) when it is missing.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(SharedDir(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("PSN_REQUIRE_SHARED") == "1" {
			t.Fatalf("reference file %s missing: %v", p, err)
		}
		t.Skipf("reference file %s missing; skipping", p)
	}
	return p
}

// RepoRoot finds the directory holding go.mod, walking up from the working
// directory (a test's working directory is its package directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// LookupShared returns the path of a reference file and whether it exists,
// without skipping, for tests that can run without it but check more with
// it. Under PSN_REQUIRE_SHARED=1 a missing file fails the test.
func LookupShared(t testing.TB, rel string) (string, bool) {
	t.Helper()
	dir := os.Getenv("PSN_SHARED_DIR")
	if dir == "" {
		if root, err := RepoRoot(); err == nil {
			dir = filepath.Join(root, "..", "shared")
		}
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("PSN_REQUIRE_SHARED") == "1" {
			t.Fatalf("reference file %s missing: %v", p, err)
		}
		return "", false
	}
	return p, true
}

// ShortDir returns a new directory directly under /tmp, removed when the
// test ends. Unix socket paths are limited (104 bytes on macOS), and
// t.TempDir's paths can be longer than that.
func ShortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "psnd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes and reads, for
// collecting a subprocess's output while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
