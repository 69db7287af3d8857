package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
)

// startSandboxDaemon runs a sandbox daemon (an @sandbox account, an
// in-process fake X) with the daemon-side variables dvars, and returns the
// PSN_HOME the CLI must use. Its PSN_TZ is taken as given, even one that
// `psnd serve` would refuse, to test how commands cope with it.
func startSandboxDaemon(t *testing.T, dvars map[string]string) string {
	t.Helper()
	dvars["PSN_HOME"] = shortHome(t)
	cfg, err := config.Load(func(k string) string {
		if k == "PSN_TZ" {
			return ""
		}
		return dvars[k]
	}, "linux")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TZ = dvars["PSN_TZ"]
	runDaemon(t, daemon.Config{Env: cfg, Version: "test", Sandbox: true})
	return dvars["PSN_HOME"]
}

// TestTimeZoneFallsBackToTheDaemons: times are read and shown in PSN_TZ,
// else in the zone the daemon was started with (a service carries its
// PSN_TZ), else the system's; a daemon zone Go does not know (which
// `psnd serve` refuses, but another build's tz database might lack) is
// ignored rather than breaking every command.
func TestTimeZoneFallsBackToTheDaemons(t *testing.T) {
	// A wall time, read in the user's zone: next New Year's morning, ahead
	// whenever the test runs and within psnd's two-year horizon.
	day := fmt.Sprintf("%d-01-01", time.Now().Year()+1)
	at := day + " 09:00"
	cases := []struct {
		daemonTZ, cliTZ, want string
	}{
		{"Asia/Tokyo", "", day + " 09:00 JST"},
		{"Asia/Tokyo", "UTC", day + " 09:00 UTC"},
		{"Mars/Olympus_Mons", "UTC", day + " 09:00 UTC"},
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

// TestClockChangeNightsThroughTheCLI: `post --at` on clock-change nights
// stores the instant SPEC §6 promises, shown back with the right
// abbreviation: a skipped 02:30 moves forward by the gap (New York's
// spring-forward Sunday: 03:30 EDT, 07:30Z); a repeated 02:30 is the first
// (Paris's last Sunday of October: 02:30 CEST, 00:30Z). Next year's dates,
// so they are ahead and within the horizon whenever the test runs.
func TestClockChangeNightsThroughTheCLI(t *testing.T) {
	year := time.Now().Year() + 1
	sunday := func(d time.Time, step int) time.Time {
		for d.Weekday() != time.Sunday {
			d = d.AddDate(0, 0, step)
		}
		return d
	}
	springNY := sunday(time.Date(year, 3, 8, 0, 0, 0, 0, time.UTC), 1)       // second Sunday of March
	autumnParis := sunday(time.Date(year, 10, 31, 0, 0, 0, 0, time.UTC), -1) // last Sunday of October
	cases := []struct {
		tz    string
		day   time.Time
		shown string // in the post command's answer
		utc   string // stored scheduled_at
	}{
		{"America/New_York", springNY, "03:30 EDT", "07:30:00Z"},
		{"Europe/Paris", autumnParis, "02:30 CEST", "00:30:00Z"},
	}
	for _, c := range cases {
		home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
		vars := map[string]string{"PSN_HOME": home, "PSN_TZ": c.tz}
		date := c.day.Format("2006-01-02")
		r := run(t, vars, "", "post", "clock change in "+c.tz, "--at", date+" 02:30")
		if r.code != 0 || !strings.Contains(r.stdout, "scheduled for "+date+" "+c.shown) {
			t.Errorf("PSN_TZ=%s post --at %q: %+v; want scheduled for %s %s", c.tz, date+" 02:30", r, date, c.shown)
			continue
		}
		r = run(t, vars, "", "list", "--json")
		var posts []struct {
			ScheduledAt string `json:"scheduled_at"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &posts); err != nil || len(posts) != 1 {
			t.Fatalf("list --json: %v %+v", err, r)
		}
		if want := date + "T" + c.utc; posts[0].ScheduledAt != want {
			t.Errorf("PSN_TZ=%s %s 02:30 stored scheduled_at %s, want %s", c.tz, date, posts[0].ScheduledAt, want)
		}
	}
}

// TestAtBeyondHorizon: `--at` more than two years ahead, or a duration too
// long to represent, is one clear line and a usage exit; nothing stored.
func TestAtBeyondHorizon(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	for _, at := range []string{"+99999d", "+999999999d"} {
		r := run(t, vars, "", "post", "far", "--at", at)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "is more than 2 years ahead; psnd schedules up to 2 years ahead") {
			t.Errorf("post --at %s: %+v", at, r)
		}
	}
	if r := run(t, vars, "", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("posts stored after refusals: %+v", r)
	}
}
