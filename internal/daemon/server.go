package daemon

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
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/tweettext"
)

func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.PathHealth, d.handleHealth)
	mux.HandleFunc("POST "+api.PathKeyReset, d.handleResetKey)
	mux.HandleFunc("GET "+api.PathDoctor, d.handleDoctor)
	mux.HandleFunc("GET "+api.PathPosts, d.handleListPosts)
	mux.HandleFunc("GET "+api.PathPost, d.handleGetPost)
	d.postRoutes(mux)
	d.authRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound,
			Message: fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path)})
	})
	d.mem = newMemRelease(d.store)
	return d.withVersion(d.tracked(d.mem.track(mux)))
}

func (d *Daemon) withVersion(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(apiclient.VersionHeader, d.cfg.Version)
		h.ServeHTTP(w, r)
	})
}

func (d *Daemon) handleHealth(w http.ResponseWriter, r *http.Request) {
	kr, status := d.keys.status()
	var failures int
	var problem string
	if err := d.checkDB(); err != nil {
		status, problem = api.HealthDatabaseGone, err.Error()
	} else if failures, err = d.recentFailures(r); err != nil {
		d.log.Error("count recent failures", "err", err)
	}
	writeJSON(w, http.StatusOK, api.Health{
		Problem:        problem,
		Status:         status,
		Version:        d.cfg.Version,
		PID:            os.Getpid(),
		Home:           d.cfg.Env.Home,
		DataDir:        d.dataDir,
		StartedAt:      d.started.UTC(),
		Sandbox:        d.cfg.Sandbox,
		Keyring:        kr,
		RecentFailures: failures,
		Timezone:       d.timezone(),
	})
}

// timezone is the zone the daemon was configured with (its PSN_TZ, which
// `psnd service install` carries), for clients that have none of their
// own; "" when unset or not a zone Go knows, so clients fall back to the
// system's rather than fail.
func (d *Daemon) timezone() string {
	tz := d.cfg.Env.TZ
	if tz == "" {
		return ""
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return ""
	}
	return tz
}

func (d *Daemon) recentFailures(r *http.Request) (int, error) {
	var n int
	err := d.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		var err error
		n, err = tx.CountFailedSince(d.clock.Now().Add(-24 * time.Hour))
		return err
	})
	return n, err
}

func (d *Daemon) handleGetPost(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, badRequest(fmt.Sprintf("post id must be a positive number, not %q", r.PathValue("id"))))
		return
	}
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		d.fail(w, "get post", err)
		return
	}
	if wait > 0 {
		d.getPostWaiting(w, r, id, wait)
		return
	}
	p, err := d.readPost(r.Context(), id)
	if err != nil {
		d.fail(w, "get post", err)
		return
	}
	writeJSON(w, http.StatusOK, d.wire(p))
}

// fail answers with the API error matching err; unexpected errors are
// logged in full and reported as one line.
func (d *Daemon) fail(w http.ResponseWriter, op string, err error) {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		writeError(w, ae)
	case errors.Is(err, sqlstore.ErrNotFound):
		writeError(w, &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound, Message: err.Error()})
	case errors.Is(err, sqlstore.ErrDatabaseGone):
		// Logged once, by checkDB; the answer says where the data went.
		if full := d.checkDB(); full != nil {
			err = full
		}
		writeError(w, &api.Error{Code: api.CodeDatabaseGone, Status: http.StatusServiceUnavailable, Message: err.Error()})
	case errors.Is(err, sqlstore.ErrStale), errors.Is(err, sqlstore.ErrNotEditable):
		writeError(w, &api.Error{Code: api.CodeConflict, Status: http.StatusConflict, Message: err.Error()})
	case d.stopping.Load() && (errors.Is(err, context.Canceled) || errors.Is(err, sql.ErrTxDone)):
		// Cut short by shutdown, not a fault of the request (database/sql
		// reports a transaction its context ended as ErrTxDone).
		writeError(w, shuttingDown(op+" was interrupted; run it again once psnd is back"))
	default:
		d.log.Error(op, "err", err)
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
			WeightedLength: tweettext.WeightedLength(t.Text),
			Status:         string(t.Status),
			PlatformPostID: strPtr(t.PlatformPostID),
			PublishedAt:    utcPtr(t.PublishedAt),
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
func (d *Daemon) readPost(ctx context.Context, id int64) (*post.Post, error) {
	var p *post.Post
	err := d.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.GetPost(id)
		return err
	})
	return p, err
}
