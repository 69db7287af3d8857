package localapi

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/psnd/psnd/internal/api"
)

// shuttingDown is the answer to a request cut short, or refused, by
// shutdown.
func shuttingDown(what string) *api.Error {
	msg := "psnd is shutting down"
	if what != "" {
		msg += "; " + what
	}
	return &api.Error{Code: api.CodeShuttingDown, Status: http.StatusServiceUnavailable, Message: msg}
}

// waitInterrupted is the answer to a client waiting on a post when the
// daemon stops: the post is not lost, it goes on at the next start.
func waitInterrupted(id int64) *api.Error {
	return shuttingDown(fmt.Sprintf("post %d has not settled yet and continues when psnd starts again (see `psnd show %d`)", id, id))
}

// requests counts the local API's running handlers, so that the store is
// closed only after the last one has returned. Unlike a WaitGroup it can
// refuse newcomers once shutdown has begun (a connection accepted just
// before the listener closed may still deliver a request).
type requests struct {
	mu      sync.Mutex
	n       int
	closing bool
	idle    chan struct{} // closed when n reaches 0 while closing
}

func newRequests() *requests { return &requests{idle: make(chan struct{})} }

// enter registers a handler; false means shutdown has begun.
func (q *requests) enter() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return false
	}
	q.n++
	return true
}

func (q *requests) leave() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n--
	if q.closing && q.n == 0 {
		close(q.idle)
	}
}

// close refuses new handlers and returns a channel closed once every
// running one has returned.
func (q *requests) close() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closing {
		q.closing = true
		if q.n == 0 {
			close(q.idle)
		}
	}
	return q.idle
}

// active is the number of running handlers.
func (q *requests) active() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// tracked runs h as a counted request, refusing it once shutdown has begun.
func (s *Server) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.reqs.enter() {
			writeError(w, shuttingDown(""))
			return
		}
		defer s.reqs.leave()
		if s.cfg.RequestEnd != nil {
			defer s.cfg.RequestEnd()
		}
		h.ServeHTTP(w, r)
	})
}
