package fakex

import (
	"net/http"
	"path"
	"strconv"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

const (
	// FaultNone only applies the fault's Delay; the request is then served
	// normally. A Fault with Kind FaultNone and a Status acts as FaultStatus.
	FaultNone FaultKind = iota
	// FaultStatus answers Status (default 503) with Body and Header instead
	// of serving the request. Nothing is created.
	FaultStatus
	// FaultCommitThenDrop serves the request (a post IS created and
	// recorded) and then drops the connection without answering: the
	// client cannot know whether it succeeded.
	FaultCommitThenDrop
	// FaultDropBeforeCommit drops the connection without serving the
	// request: nothing is created, but the client cannot know that.
	FaultDropBeforeCommit
	// FaultRefuse refuses the connection: through Transport the client gets
	// a dial error (the request was certainly never sent). Over real HTTP a
	// handler cannot refuse a connection that already exists, so it behaves
	// like FaultDropBeforeCommit.
	FaultRefuse
	// FaultRevokeToken revokes the presented access token, then serves the
	// request, which therefore fails with 401 (a token revoked by X).
	FaultRevokeToken
)

func (k FaultKind) String() string {
	switch k {
	case FaultNone:
		return "none"
	case FaultStatus:
		return "status"
	case FaultCommitThenDrop:
		return "commit-then-drop"
	case FaultDropBeforeCommit:
		return "drop-before-commit"
	case FaultRefuse:
		return "refuse"
	case FaultRevokeToken:
		return "revoke-token"
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// Fault scripts a misbehaviour for matching requests.
type Fault struct {
	// Method matches the request method; "" matches any.
	Method string
	// Path matches the URL path with path.Match syntax, e.g. "/2/tweets" or
	// "/2/media/upload/*/append"; "" matches any.
	Path string
	// Skip lets this many matching requests through before the fault acts,
	// e.g. Skip 2 hits the third create of a thread.
	Skip int
	// Times is how many matching requests the fault affects after Skip:
	// 0 means once, a negative value means every one.
	Times int
	Kind  FaultKind
	// Status, Body and Header shape a FaultStatus answer. The default body
	// is X's problem object for the status.
	Status int
	Body   string
	Header http.Header
	// Delay waits (wall clock) before acting, abandoned if the client goes
	// away. Use it to exercise client timeouts.
	Delay time.Duration
}

func (f *Fault) kind() FaultKind {
	if f.Kind == FaultNone && f.Status != 0 {
		return FaultStatus
	}
	return f.Kind
}

func (f *Fault) write(w http.ResponseWriter) {
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	for k, v := range f.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	if f.Body != "" {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	switch status {
	case http.StatusTooManyRequests:
		writeProblem(w, status, "Too Many Requests", "Too Many Requests", "about:blank")
	case http.StatusUnauthorized:
		writeProblem(w, status, "Unauthorized", "Unauthorized", "about:blank")
	default:
		writeProblem(w, status, http.StatusText(status), http.StatusText(status), "about:blank")
	}
}

type faultState struct {
	Fault
	seen int // matching requests so far
	used int // requests affected so far
}

// Inject scripts a fault. Faults are tried in the order injected; the
// first that matches and still has uses acts.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{Fault: f})
	s.mu.Unlock()
}

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault finds the fault for a request and uses it up.
func (s *Server) takeFault(method, p string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Method != "" && f.Method != method {
			continue
		}
		if f.Path != "" {
			if ok, _ := path.Match(f.Path, p); !ok {
				continue
			}
		}
		times := f.Times
		if times == 0 {
			times = 1
		}
		if times > 0 && f.used >= times {
			continue
		}
		f.seen++
		if f.seen <= f.Skip {
			continue
		}
		f.used++
		ff := f.Fault
		return &ff
	}
	return nil
}
