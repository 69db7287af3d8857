package doctor

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// Daemon is what asking the daemon for its health found.
type Daemon struct {
	Socket  string
	Running bool       // something answered on the socket
	Health  api.Health // when Running and Err is nil
	Err     error      // the daemon answered badly, or could not be asked
	// ForSandbox: the sandbox's home is the one examined (`psnd doctor
	// --sandbox`), so a daemon that is down is the sandbox not running.
	ForSandbox bool
}

// restartHint says how to restart the daemon on goos.
func restartHint(goos string) string {
	switch goos {
	case "linux":
		return "restart it: `systemctl --user restart psnd` if it runs as a service, else stop your `psnd serve` and start it again"
	case "darwin":
		return "restart it: `launchctl kickstart -k gui/$(id -u)/dev.psnd.psnd` if it runs as a service, else stop your `psnd serve` and start it again"
	}
	return "stop your `psnd serve` and start it again"
}

// CheckDaemon checks that the daemon runs and is the same version as this
// psnd (an upgrade leaves the old daemon running until it restarts).
func CheckDaemon(d Daemon, cliVersion, goos string, now time.Time) api.DoctorCheck {
	switch {
	case !d.Running && d.ForSandbox:
		return warn(NameDaemon, "not running (nothing answers on "+d.Socket+"): the sandbox publishes nothing until it runs",
			"start it when you want it: `psnd serve --sandbox`")
	case !d.Running:
		return fail(NameDaemon, "not running (nothing answers on "+d.Socket+"): scheduled posts are not published",
			"start it: `psnd service install` to run it in the background, or `psnd serve` in a terminal")
	case d.Err != nil:
		return fail(NameDaemon, "answers on "+d.Socket+" but not properly: "+errLine(d.Err), restartHint(goos))
	case d.Health.Version != cliVersion:
		return fail(NameDaemon, fmt.Sprintf("the daemon runs psnd %s, but this psnd is %s (upgraded since it started?)", d.Health.Version, cliVersion),
			restartHint(goos))
	}
	h := d.Health
	msg := fmt.Sprintf("running, version %s, pid %d", h.Version, h.PID)
	if !h.StartedAt.IsZero() {
		msg += ", up " + human(now.Sub(h.StartedAt))
	}
	if d.ForSandbox && !h.Sandbox {
		msg += "; it is not the sandbox, whose home was examined on disk"
	}
	if h.Sandbox {
		dir := h.DataDir
		if dir == "" { // an older daemon
			dir = filepath.Join(h.Home, "sandbox")
		}
		return warn(NameDaemon, msg+"; in sandbox mode: posts go to a built-in fake X, not to X, and the checks below are of "+dir,
			"to publish for real, stop it and run `psnd serve` without --sandbox (or `psnd service install`)")
	}
	return okc(NameDaemon, "%s", msg)
}
