package localapi

import (
	"errors"
	"net/http"
	"runtime"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/doctor"
	"github.com/psnd/psnd/internal/doctor/storecheck"
	"github.com/psnd/psnd/internal/sqlstore"
)

// handleDoctor answers the daemon's half of `psnd doctor`: the checks that
// need the open database, the data key in memory, or the callback address
// of the daemon's own environment (the one logins listen on). The CLI adds
// what it can see itself: file modes, the daemon's version, the clock and
// the service.
func (s *Server) handleDoctor(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var gone *sqlstore.DatabaseGoneError
	if err := s.CheckDB(); errors.As(err, &gone) {
		// The open file is intact but no longer the one at its path, and
		// nothing more is read from it.
		var rescued *rescuedError
		saved := ""
		if errors.As(err, &rescued) {
			saved = rescued.copy
		}
		const why = "the database file is gone"
		checks := []api.DoctorCheck{doctor.DatabaseGone(gone.Path, gone.Removed, saved, runtime.GOOS), doctor.Skip(doctor.NameSchema, why)}
		checks = append(checks, doctor.CheckDaemonKey(s.keys.DoctorState())...)
		checks = append(checks, doctor.Skip(doctor.NameApp, why), doctor.Skip(doctor.NameAccounts, why),
			doctor.CheckCallback(doctor.ProbeCallback(ctx, s.cfg.Env.CallbackAddr)), doctor.Skip(doctor.NameFailedPosts, why))
		writeJSON(w, http.StatusOK, doctor.Report(checks))
		return
	}
	checks := []api.DoctorCheck{storecheck.Integrity(ctx, s.store), storecheck.Schema(ctx, s.store)}
	key := s.keys.DoctorState()
	if s.cfg.Sandbox {
		key.Mode = doctor.KeySandbox
	}
	checks = append(checks, doctor.CheckDaemonKey(key)...)
	if s.cfg.Sandbox {
		checks = append(checks, doctor.SandboxSkips()...)
	} else {
		if app, err := s.app(r); err != nil {
			checks = append(checks, doctor.Skip(doctor.NameApp, "could not read the X app: "+err.Error()))
		} else {
			checks = append(checks, doctor.CheckApp(app))
		}
		checks = append(checks, storecheck.Accounts(ctx, s.store, s.clock.Now())...)
		checks = append(checks, doctor.CheckCallback(doctor.ProbeCallback(ctx, s.cfg.Env.CallbackAddr)))
	}
	checks = append(checks, storecheck.FailedPosts(ctx, s.store))
	rep := doctor.Report(checks)
	rep.Home, rep.Sandbox = s.dataDir, s.cfg.Sandbox
	writeJSON(w, http.StatusOK, rep)
}
