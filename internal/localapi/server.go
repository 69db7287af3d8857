package localapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/tweettext"
)

func (s *Server) routes() http.Handler {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	mux.HandleFunc("GET "+api.PathHealth, s.handleHealth)
	mux.HandleFunc("POST "+api.PathKeyReset, s.handleResetKey)
	mux.HandleFunc("GET "+api.PathDoctor, s.handleDoctor)
	mux.HandleFunc("GET "+api.PathPosts, s.handleListPosts)
	mux.HandleFunc("GET "+api.PathPost, s.handleGetPost)
	mux.HandleFunc("GET "+api.PathUsage, s.handleUsage)
	s.postRoutes(mux)
	s.slotRoutes(mux)
	s.authRoutes(mux)
	s.routeList = mux.patterns
	// Not a route: the answer to every path that is none.
	mux.ServeMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound,
			Message: fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path)})
	})
	s.mem = newMemRelease(s.store, s.fillWire, s.log)
	return s.withVersion(s.tracked(s.mem.track(mux)))
}

// routeMux is a ServeMux that remembers its routes, so a test can hold
// them against docs/api.md.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (s *Server) withVersion(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.VersionHeader, s.cfg.Version)
		if v := r.Header.Get(api.BudgetHeader); v != "" && s.cfg.Budget != nil {
			// Before the request is answered, so the command sees the
			// budget it brought in force (`psnd usage`, a held post).
			if err := s.cfg.Budget.Adopt(r.Context(), v); err != nil {
				s.log.Warn("monthly budget from a psnd command not adopted", "value", v, "err", err)
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	kr, status := s.keys.Status()
	var failures, atRisk, held int
	var problem string
	if err := s.CheckDB(); err != nil {
		status, problem = api.HealthDatabaseGone, err.Error()
	} else if failures, atRisk, held, err = s.recentFailures(r); err != nil {
		s.log.Error("count recent failures", "err", err)
	}
	writeJSON(w, http.StatusOK, api.Health{
		HeldOverBudget: held,
		BudgetUSD:      s.budgetUSD(),
		Problem:        problem,
		Status:         status,
		Version:        s.cfg.Version,
		PID:            os.Getpid(),
		Home:           s.cfg.Env.Home,
		DataDir:        s.dataDir,
		StartedAt:      s.started.UTC(),
		Sandbox:        s.cfg.Sandbox,
		Keyring:        kr,
		RecentFailures: failures,
		AtRisk:         atRisk,
		Timezone:       s.timezone(),
	})
}

// timezone is the zone the daemon was configured with (its PSN_TZ, which
// `psnd service install` carries), for clients that have none of their
// own; "" when unset or not a zone Go knows, so clients fall back to the
// system's rather than fail.
func (s *Server) timezone() string {
	tz := s.cfg.Env.TZ
	if tz == "" {
		return ""
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return ""
	}
	return tz
}

// recentFailures counts the posts that failed in the last day, the
// scheduled posts at risk and the posts the monthly budget holds.
func (s *Server) recentFailures(r *http.Request) (failed, atRisk, held int, err error) {
	err = s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		var err error
		if failed, err = tx.CountFailedSince(s.clock.Now().Add(-24 * time.Hour)); err != nil {
			return err
		}
		if atRisk, err = tx.CountAtRisk(); err != nil {
			return err
		}
		held, err = tx.CountHeldOverBudget()
		return err
	})
	return failed, atRisk, held, err
}

// budgetUSD is the monthly budget in force, nil when none.
func (s *Server) budgetUSD() *float64 {
	if s.cfg.Budget == nil {
		return nil
	}
	if usd, ok := s.cfg.Budget.Budget(); ok {
		return &usd
	}
	return nil
}

func (s *Server) handleGetPost(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, badRequest(fmt.Sprintf("post id must be a positive number, not %q", r.PathValue("id"))))
		return
	}
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		s.fail(w, "get post", err)
		return
	}
	if wait > 0 {
		s.getPostWaiting(w, r, id, wait)
		return
	}
	p, err := s.readPost(r.Context(), id)
	if err != nil {
		s.fail(w, "get post", err)
		return
	}
	writeJSON(w, http.StatusOK, s.wire(p))
}

// fail answers with the API error matching err; unexpected errors are
// logged in full and reported as one line.
func (s *Server) fail(w http.ResponseWriter, op string, err error) {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		writeError(w, ae)
	case errors.Is(err, sqlstore.ErrNotFound):
		writeError(w, &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound, Message: err.Error()})
	case errors.Is(err, sqlstore.ErrDatabaseGone):
		// Logged once, by CheckDB; the answer says where the data went.
		if full := s.CheckDB(); full != nil {
			err = full
		}
		writeError(w, &api.Error{Code: api.CodeDatabaseGone, Status: http.StatusServiceUnavailable, Message: err.Error()})
	case errors.Is(err, sqlstore.ErrStale), errors.Is(err, sqlstore.ErrNotEditable):
		writeError(w, &api.Error{Code: api.CodeConflict, Status: http.StatusConflict, Message: err.Error()})
	case s.stopping.Load() && (errors.Is(err, context.Canceled) || errors.Is(err, sql.ErrTxDone)):
		// Cut short by shutdown, not a fault of the request (database/sql
		// reports a transaction its context ended as ErrTxDone).
		writeError(w, shuttingDown(op+" was interrupted; run it again once psnd is back"))
	default:
		s.log.Error(op, "err", err)
		writeError(w, &api.Error{Code: api.CodeInternal, Status: http.StatusInternalServerError,
			Message: op + " failed: " + err.Error()})
	}
}

func badRequest(msg string) *api.Error {
	return &api.Error{Code: api.CodeBadRequest, Status: http.StatusBadRequest, Message: msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *api.Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, api.ErrorBody{Error: *e})
}

// wirePost converts a domain post to the published JSON shape.
func wirePost(p *post.Post) api.Post {
	out := api.Post{
		ID:              p.ID,
		Account:         p.Account,
		AccountID:       p.AccountID,
		Status:          string(p.Status),
		SubStatus:       strPtr(string(p.SubStatus)),
		ScheduledAt:     utcPtr(p.ScheduledAt),
		PublishedAt:     utcPtr(p.PublishedAt),
		FailReason:      strPtr(p.FailReason),
		Attempts:        p.Attempts,
		NextRetryAt:     utcPtr(p.NextRetryAt),
		PlatformPostIDs: p.PlatformPostIDs(),
		RunID:           p.RunID,
		CreatedAt:       p.CreatedAt.UTC(),
		UpdatedAt:       p.UpdatedAt.UTC(),
		Tweets:          make([]api.Tweet, 0, len(p.Tweets)),
	}
	for _, t := range p.Tweets {
		wt := api.Tweet{
			Position:       t.Position,
			Text:           t.Text,
			WeightedLength: t.WeightedLength,
			Status:         string(t.Status),
			PlatformPostID: strPtr(t.PlatformPostID),
			PublishedAt:    utcPtr(t.PublishedAt),
		}
		if wt.WeightedLength == 0 {
			wt.WeightedLength = tweettext.WeightedLength(t.Text)
		}
		for _, m := range t.Media {
			wt.Media = append(wt.Media, api.Media{Path: m.Path, MimeType: m.MimeType, Size: m.Size, AltText: m.AltText})
		}
		out.Tweets = append(out.Tweets, wt)
	}
	return out
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// readPost reads one post in its own read transaction.
func (s *Server) readPost(ctx context.Context, id int64) (*post.Post, error) {
	var p *post.Post
	err := s.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.GetPost(id)
		return err
	})
	return p, err
}
