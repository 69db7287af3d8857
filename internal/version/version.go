// Package version reports the version psnd was built as. The Makefile stamps
// Version with -ldflags; plain `go build` falls back to the VCS revision.
package version

import "runtime/debug"

// Version is set at build time: -ldflags "-X github.com/psnd/psnd/internal/version.Version=v1.2.3".
var Version = ""

// String returns the stamped version, else the module version or VCS revision
// recorded by the Go toolchain, else "dev".
func String() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		return "dev-" + rev + dirty
	}
	return "dev"
}
