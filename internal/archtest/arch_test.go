package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/psnd/psnd/"

// forbidden lists, for each package, what it must never depend on, even
// through another package. The arrows of docs/architecture.md, checked.
var forbidden = map[string][]string{
	// The CLI is a thin client (style §2): it speaks the wire types over
	// the socket and links neither the store, nor SQLite, nor the daemon.
	"internal/cli": {"internal/sqlstore", "modernc.org/sqlite", "internal/daemon", "internal/localapi", "internal/publishing"},
	// The MCP server is a client like the CLI (SPEC §10).
	"internal/mcpserver": {"internal/sqlstore", "modernc.org/sqlite", "internal/daemon", "internal/localapi", "internal/publishing", "internal/cli"},
	// Publishing knows nothing of the local API: it hears of nothing
	// through HTTP and tells the API of changes through callbacks.
	"internal/publishing": {"internal/localapi", "internal/daemon", "internal/cli", "internal/apiclient"},
	// The local API asks publishing for one thing (Kick), through an
	// interface it defines; it never links publishing's internals.
	"internal/localapi": {"internal/publishing", "internal/daemon", "internal/cli", "internal/apiclient"},
	// Desktop notifications reach publishing and the logins through the
	// interface and the callback they define; the daemon wires them.
	"internal/oauth":   {"internal/desktop"},
	"internal/desktop": {"internal/publishing", "internal/oauth", "internal/sqlstore"},
	// Domain and wire types are leaves.
	"internal/post": {"internal/"},
	"internal/api":  {"internal/"},
	// Dropping the executable's pages is a system call on the process
	// itself: a leaf, so any package may use it without a cycle.
	"internal/exepages": {"internal/"},
	// So is resting the collector: runtime settings only.
	"internal/idlegc": {"internal/"},
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", mod+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportDirections(t *testing.T) {
	for pkg, bad := range forbidden {
		t.Run(pkg, func(t *testing.T) {
			for _, dep := range deps(t, pkg) {
				if dep == mod+pkg {
					continue
				}
				for _, b := range bad {
					full := b
					if strings.HasPrefix(b, "internal/") {
						full = mod + b
					}
					if dep == full || (strings.HasSuffix(full, "/") && strings.HasPrefix(dep, full)) ||
						strings.HasPrefix(dep, full+"/") {
						t.Errorf("%s depends on %s (forbidden: %s)", pkg, dep, b)
					}
				}
			}
		})
	}
}
