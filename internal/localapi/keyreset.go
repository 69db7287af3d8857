package localapi

import (
	"errors"
	"net/http"

	"github.com/psnd/psnd/internal/api"
)

// ErrKeyFine refuses a reset that is not needed.
var ErrKeyFine = errors.New("the data key matches this database; nothing to reset")

func (s *Server) handleResetKey(w http.ResponseWriter, r *http.Request) {
	if err := s.keys.Reset(r.Context()); err != nil {
		code, status := api.CodeUnavailable, http.StatusServiceUnavailable
		if errors.Is(err, ErrKeyFine) {
			code, status = api.CodeConflict, http.StatusConflict
		}
		writeError(w, &api.Error{Code: code, Status: status, Message: err.Error()})
		return
	}
	s.handleHealth(w, r)
}
