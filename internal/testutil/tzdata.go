package testutil

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Zone is one zone of Go's tz database, loaded.
type Zone struct {
	Name string
	Loc  *time.Location
}

// TZDataZones returns every zone of Go's own tz database (the zip from
// which time/tzdata is generated), once per distinct content, sorted by
// name, so that clock-change tests see the same zones on every machine
// whatever its /usr/share/zoneinfo holds.
func TZDataZones(t testing.TB) []Zone {
	t.Helper()
	// The go command that runs the test knows its GOROOT (runtime.GOROOT
	// is deprecated: it names where the binary was built).
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("find GOROOT: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read Go's tz database: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	seen := map[[32]byte]bool{}
	var zones []Zone
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if seen[sum] {
			continue
		}
		seen[sum] = true
		loc, err := time.LoadLocationFromTZData(f.Name, data)
		if err != nil {
			t.Fatalf("load %s: %v", f.Name, err)
		}
		zones = append(zones, Zone{f.Name, loc})
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i].Name < zones[j].Name })
	return zones
}
