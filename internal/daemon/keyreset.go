package daemon

import (
	"errors"
	"net/http"

	"github.com/psnd/psnd/internal/api"
)

func (d *Daemon) handleResetKey(w http.ResponseWriter, r *http.Request) {
	if err := d.keys.reset(r.Context()); err != nil {
		code, status := api.CodeUnavailable, http.StatusServiceUnavailable
		if errors.Is(err, errKeyFine) {
			code, status = api.CodeConflict, http.StatusConflict
		}
		writeError(w, &api.Error{Code: code, Status: status, Message: err.Error()})
		return
	}
	d.handleHealth(w, r)
}
