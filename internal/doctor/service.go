package doctor

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/service"
)

// Service is what asking the service manager found.
type Service struct {
	Status     service.Status
	Err        error  // from Manager.Status (or from building the Manager)
	ThisBinary string // the binary `psnd service install` would use
}

// CheckService checks that psnd is installed as a per-user service, runs
// this binary, starts at login and is running.
func CheckService(s Service) api.DoctorCheck {
	st := s.Status
	logs := "`journalctl --user -u psnd -n 50`"
	start := "`systemctl --user start psnd`"
	if st.Flavour == service.Launchd {
		logs = "~/Library/Logs/psnd/psnd.log"
		start = "`launchctl kickstart -k gui/$(id -u)/" + service.Label + "`"
	}
	switch {
	case s.Err != nil && errors.Is(s.Err, service.ErrUnavailable) && !st.Installed:
		return skip(NameService, errLine(s.Err))
	case s.Err != nil && !st.Installed:
		return warn(NameService, "could not ask the service manager: "+errLine(s.Err), "see `psnd service status`")
	case !st.Installed:
		return warn(NameService, "psnd is not installed as a service: it publishes only while `psnd serve` runs in a terminal",
			"`psnd service install` (starts at login, restarts if it dies)")
	case st.Binary == "":
		return fail(NameService, st.UnitPath+" names no psnd binary it can read: "+st.Detail,
			"`psnd service install` rewrites it")
	case !st.MatchesThisBinary && !temporaryBuild(s.ThisBinary):
		msg := st.UnitPath + " runs " + st.Binary + ", not this psnd (" + s.ThisBinary + ")"
		if strings.Contains(st.Detail, "missing") {
			msg = st.UnitPath + " runs " + st.Binary + ", which no longer exists"
		}
		return fail(NameService, msg, "`psnd service install` points it at this binary and restarts it")
	case s.Err != nil:
		return warn(NameService, "installed ("+st.UnitPath+"), but the service manager did not answer: "+errLine(s.Err),
			"see `psnd service status`")
	case !st.Enabled:
		return warn(NameService, "installed but not enabled ("+st.Detail+"): it will not start at login",
			"`psnd service install` enables and starts it")
	case !st.Running:
		return warn(NameService, "installed and enabled but not running ("+st.Detail+")",
			"start it with "+start+"; if it keeps stopping, read "+logs)
	}
	if !st.MatchesThisBinary {
		return okc(NameService, "installed (%s), enabled, running %s (this psnd is a temporary build, so not compared)", st.UnitPath, st.Binary)
	}
	return okc(NameService, "installed (%s), enabled, running %s", st.UnitPath, st.Binary)
}

// temporaryBuild spots a binary of `go run` or `go test`, which lives in a
// go-build* directory that disappears when the command ends: nobody would
// point the service at it, so a service running another binary is no news.
func temporaryBuild(bin string) bool {
	for dir := filepath.Dir(bin); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if strings.HasPrefix(filepath.Base(dir), "go-build") {
			return true
		}
	}
	return false
}
