package cli

import (
	"strings"
	"testing"
	_ "time/tzdata"

	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
)

// startSandboxDaemon runs a sandbox daemon (an @sandbox account, an
// in-process fake X) with the daemon-side variables dvars, and returns the
// PSN_HOME the CLI must use.
func startSandboxDaemon(t *testing.T, dvars map[string]string) string {
	t.Helper()
	dvars["PSN_HOME"] = shortHome(t)
	cfg, err := config.Load(func(k string) string { return dvars[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, daemon.Config{Env: cfg, Version: "test", Sandbox: true})
	return dvars["PSN_HOME"]
}

// TestTimeZoneFallsBackToTheDaemons: times are read and shown in PSN_TZ,
// else in the zone the daemon was started with (a service carries its
// PSN_TZ), else the system's; a daemon zone Go does not know is ignored
// rather than breaking every command.
func TestTimeZoneFallsBackToTheDaemons(t *testing.T) {
	const at = "2030-01-01 09:00" // a wall time, read in the user's zone
	cases := []struct {
		daemonTZ, cliTZ, want string
	}{
		{"Asia/Tokyo", "", "2030-01-01 09:00 JST"},
		{"Asia/Tokyo", "UTC", "2030-01-01 09:00 UTC"},
		{"Mars/Olympus_Mons", "UTC", "2030-01-01 09:00 UTC"},
	}
	for _, c := range cases {
		home := startSandboxDaemon(t, map[string]string{"PSN_TZ": c.daemonTZ})
		vars := map[string]string{"PSN_HOME": home, "PSN_TZ": c.cliTZ}
		r := run(t, vars, "", "post", "zone test "+c.daemonTZ+c.cliTZ, "--at", at)
		if r.code != 0 || !strings.Contains(r.stdout, "scheduled for "+c.want) {
			t.Errorf("daemon PSN_TZ=%q, CLI PSN_TZ=%q: %+v; want %q", c.daemonTZ, c.cliTZ, r, c.want)
		}
	}
	// The unknown daemon zone with no PSN_TZ of the CLI's own: the
	// system's zone, not an error.
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "Mars/Olympus_Mons"})
	if r := run(t, map[string]string{"PSN_HOME": home}, "", "list"); r.code != 0 {
		t.Errorf("list with an unknown daemon zone: %+v", r)
	}
}
