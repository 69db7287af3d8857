// Package doctor holds the logic of `psnd doctor`: each check turns what was
// observed on this machine (file modes, the daemon's answer, the database,
// the keyring, a Date header from X, the service manager) into one
// api.DoctorCheck with a status, a one-line finding and a concrete fix.
//
// The Check* functions are pure, so every message and fix is covered by
// table tests; the few Probe/Observe functions that touch the machine are
// small and sit beside the check they feed. The package imports neither the
// store nor the keyring library, so the CLI (which must not link SQLite) can
// use it: the database and key are observed by internal/doctor/storecheck,
// in the daemon when it runs and through a hook of main's when it does not.
package doctor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"

	"github.com/psnd/psnd/internal/textutil"
)

// Check names, in the order `psnd doctor` prints them. An account's check
// is named NameAccount + " @" + username.
const (
	NameDataDir     = "data_dir"
	NameFileModes   = "file_modes"
	NameDaemon      = "daemon"
	NameDatabase    = "database"
	NameSchema      = "schema"
	NameKeyring     = "keyring"
	NameDataKey     = "data_key"
	NameApp         = "x_app"
	NameAccounts    = "accounts" // only when no account is connected
	NameAccount     = "account"
	NameCallback    = "callback_port"
	NameFailedPosts = "failed_posts"
	NameClock       = "clock"
	NameService     = "service"
	// NameDaemonChecks stands in for the daemon's checks when it could not
	// give them (an older daemon without /v1/doctor).
	NameDaemonChecks = "daemon_checks"
)

var order = []string{
	NameDataDir, NameFileModes, NameDaemon, NameDaemonChecks, NameDatabase, NameSchema, NameKeyring, NameDataKey,
	NameApp, NameAccounts, NameAccount, NameCallback, NameFailedPosts, NameClock, NameService,
}

func rank(name string) int {
	base, _, _ := strings.Cut(name, " ")
	if i := slices.Index(order, base); i >= 0 {
		return i
	}
	return len(order)
}

// Sort puts checks in the printing order, keeping the given order among
// checks of one kind (accounts: default first).
func Sort(checks []api.DoctorCheck) {
	slices.SortStableFunc(checks, func(a, b api.DoctorCheck) int { return rank(a.Name) - rank(b.Name) })
}

// Report sorts checks and says whether none failed.
func Report(checks []api.DoctorCheck) api.DoctorReport {
	out := slices.Clone(checks)
	if out == nil {
		out = []api.DoctorCheck{}
	}
	Sort(out)
	ok := true
	for _, c := range out {
		if c.Status == api.CheckFail {
			ok = false
		}
	}
	return api.DoctorReport{Checks: out, OK: ok}
}

func okc(name, format string, a ...any) api.DoctorCheck {
	return api.DoctorCheck{Name: name, Status: api.CheckOK, Message: fmt.Sprintf(format, a...)}
}

func warn(name, msg, fix string) api.DoctorCheck {
	return api.DoctorCheck{Name: name, Status: api.CheckWarn, Message: msg, Fix: fix}
}

func fail(name, msg, fix string) api.DoctorCheck {
	return api.DoctorCheck{Name: name, Status: api.CheckFail, Message: msg, Fix: fix}
}

func skip(name, msg string) api.DoctorCheck {
	return api.DoctorCheck{Name: name, Status: api.CheckSkip, Message: msg}
}

// Skip is a check that could not be made, with the reason.
func Skip(name, reason string) api.DoctorCheck { return skip(name, reason) }

func errLine(err error) string {
	if err == nil {
		return ""
	}
	return textutil.FirstLine(err.Error())
}

// shellQuote quotes a path for a fix the user may paste into a shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%,=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// human renders a duration the way people say it: 45s, 12m, 3h10m, 2d4h.
func human(d time.Duration) string {
	d = d.Abs()
	if d >= time.Minute {
		d = d.Round(time.Minute) // 1h59m59s reads as 2h
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
