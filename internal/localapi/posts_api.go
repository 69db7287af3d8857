package localapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/textutil"
	"github.com/psnd/psnd/internal/tweettext"
	"github.com/psnd/psnd/internal/when"
	"github.com/psnd/psnd/internal/xapi"
)

// pastGrace tolerates a time a few seconds in the past (a clock a little
// behind, or a relative time typed slowly) as "now".
const pastGrace = time.Minute

func (s *Server) postRoutes(mux *routeMux) {
	mux.HandleFunc("POST "+api.PathPosts, s.handleCreatePost)
	mux.HandleFunc("POST "+api.PathPostsImport, s.handleImport)
	mux.HandleFunc("PATCH "+api.PathPost, s.handleEditPost)
	mux.HandleFunc("DELETE "+api.PathPost, s.handleDeletePost)
	mux.HandleFunc("POST "+api.PathPostCancel, s.handleCancelPost)
	mux.HandleFunc("POST "+api.PathPostRetry, s.handleRetryPost)
}

func invalid(msg string) *api.Error {
	return &api.Error{Code: api.CodeInvalidText, Status: http.StatusUnprocessableEntity, Message: msg}
}

func (s *Server) handleCreatePost(w http.ResponseWriter, r *http.Request) {
	var req api.CreatePost
	if err := decodeBody(w, r, &req, bodyRules{}); err != nil {
		s.fail(w, "create post", err)
		return
	}
	// Refuse a huge explicit thread before checking every tweet of it.
	if err := threadLength(len(req.Tweets)); err != nil {
		s.fail(w, "create post", err)
		return
	}
	now := s.clock.Now()
	if err := queueAlone(req.Queue, req.At, req.Now, req.Draft); err != nil {
		s.fail(w, "create post", err)
		return
	}
	status, at := post.StatusScheduled, (*time.Time)(nil)
	var err error
	if !req.Queue {
		if status, at, err = scheduleFor(req.At, req.Now, req.Draft, now); err != nil {
			s.fail(w, "create post", err)
			return
		}
	}
	var acct post.Account
	err = s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		acct, err = tx.Account(req.Account)
		return err
	})
	if errors.Is(err, sqlstore.ErrNotFound) {
		s.fail(w, "create post", noAccount(req.Account))
		return
	}
	if err != nil {
		s.fail(w, "create post", err)
		return
	}
	max := acct.MaxWeightedLength()
	c, err := compose(req.Text, req.Tweets, req.Thread, req.Number, len(req.Media) > 0, max)
	if err != nil {
		s.fail(w, "create post", textError(err))
		return
	}
	if err := threadLength(len(c.tweets)); err != nil {
		s.fail(w, "create post", err)
		return
	}
	c.collectWarnings(max)
	media, staged, err := s.importMedia(req.Media)
	defer discard(staged) // whatever was not moved into place
	if err != nil {
		s.fail(w, "create post", err)
		return
	}
	np := sqlstore.NewPost{AccountID: acct.ID, Status: status, ScheduledAt: at}
	for i, t := range c.tweets {
		nt := sqlstore.NewTweet{Text: t}
		if i == 0 {
			nt.Media = media
		}
		np.Tweets = append(np.Tweets, nt)
	}
	var created *post.Post
	err = s.media.commit(r.Context(), staged, func() error {
		return s.store.Update(r.Context(), func(tx *sqlstore.Tx) error {
			recent, err := tx.RecentTexts(acct.ID, now.Add(-tweettext.RecentWindow), 200)
			if err != nil {
				return err
			}
			if dup, ok := nearDuplicate(c.tweets, recent); ok {
				c.warnings = append(c.warnings, dup)
			}
			if req.Queue {
				// The slot is taken in the transaction that stores the
				// post: two creates at once never get the same one. It
				// comes after the store's now: media were copied since
				// the request came in, and a slot may have passed.
				at, err := nextSlot(tx, acct, s.clock.Now(), 0)
				if err != nil {
					return err
				}
				np.ScheduledAt = &at
			}
			created, err = tx.CreatePost(np, now)
			return err
		})
	})
	if err != nil {
		s.fail(w, "create post", err)
		return
	}
	s.postChanged(created.ID)
	s.log.Info("post created", "post", created.ID, "status", created.Status, "tweets", len(created.Tweets), "account", acct.Username)
	out := s.wire(created)
	out.Warnings = c.warnings
	writeJSON(w, http.StatusCreated, out)
}

// queueAlone refuses queue with another way of saying when.
func queueAlone(queue bool, at *time.Time, now, draft bool) error {
	if queue && (at != nil || now || draft) {
		return badRequest("queue goes alone: not with a time, now or draft")
	}
	return nil
}

// nextSlot takes the account's next free queue slot after now, in tx.
// exclude is a post whose own slot counts as free (0: none).
func nextSlot(tx *sqlstore.Tx, acct post.Account, now time.Time, exclude int64) (time.Time, error) {
	pk, err := tx.NewSlotPicker(acct.ID, now, exclude)
	if err != nil {
		return time.Time{}, queueError(err, acct)
	}
	at, err := pk.Next()
	if err != nil {
		return time.Time{}, queueError(err, acct)
	}
	return at, nil
}

// threadLength refuses a thread longer than api.MaxThreadTweets.
func threadLength(n int) error {
	if n > api.MaxThreadTweets {
		return invalid(fmt.Sprintf("the thread has %d tweets; psnd posts at most %d in one thread: split it into several posts", n, api.MaxThreadTweets))
	}
	return nil
}

func noAccount(name string) error {
	if name == "" {
		return &api.Error{Code: api.CodeBadRequest, Status: http.StatusBadRequest,
			Message: "no X account connected: log in with `psnd auth login` (or try psnd offline with `psnd serve --sandbox`)"}
	}
	return &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound,
		Message: fmt.Sprintf("no connected account %q (see `psnd auth status`)", name)}
}

func textError(err error) error {
	var it *invalidText
	if errors.As(err, &it) {
		return invalid(it.msg)
	}
	return err
}

// scheduleFor decides the status and time of a new or edited post.
func scheduleFor(at *time.Time, now bool, draft bool, clockNow time.Time) (post.Status, *time.Time, error) {
	if at != nil {
		if err := when.CheckHorizon(*at, clockNow, time.UTC); err != nil {
			return "", nil, badRequest(err.Error())
		}
	}
	switch {
	case now && at != nil:
		return "", nil, badRequest("give either a time or now, not both")
	case now && draft:
		return "", nil, badRequest("a draft cannot be published now")
	case now:
		t := clockNow
		return post.StatusScheduled, &t, nil
	case draft:
		return post.StatusDraft, at, nil
	case at == nil:
		return "", nil, badRequest("say when to publish: a time, now, queue, or draft")
	case at.Before(clockNow.Add(-pastGrace)):
		return "", nil, badRequest(fmt.Sprintf("%s is in the past; give a future time, or now", at.UTC().Format(time.RFC3339)))
	}
	t := at.UTC()
	return post.StatusScheduled, &t, nil
}

// importMedia checks the files against X's rules and copies them into
// $PSN_HOME/media under temporary names, so that moving or editing the
// original after scheduling changes nothing. The create moves the copies to
// their content names (mediaFiles.commit); the caller discards the rest.
func (s *Server) importMedia(in []api.MediaInput) ([]post.Media, []stagedFile, error) {
	if len(in) == 0 {
		return nil, nil, nil
	}
	files, err := checkMedia(in)
	if err != nil {
		return nil, nil, err
	}
	var out []post.Media
	var staged []stagedFile
	for i, f := range files {
		sf, err := s.media.stage(f.Path)
		if err != nil {
			return nil, staged, err
		}
		staged = append(staged, sf)
		out = append(out, post.Media{Path: s.media.path(sf.sum), SHA256: sf.sum, MimeType: f.MIMEType, Size: f.Size, AltText: in[i].AltText})
	}
	return out, staged, nil
}

// checkMedia checks the files against X's rules without copying them.
func checkMedia(in []api.MediaInput) ([]xapi.MediaFile, error) {
	var files []xapi.MediaFile
	for _, m := range in {
		if !filepath.IsAbs(m.Path) {
			return nil, badRequest(fmt.Sprintf("media path %q must be absolute", m.Path))
		}
		f, err := xapi.InspectMedia(m.Path)
		if err != nil {
			return nil, badRequest(err.Error())
		}
		if err := xapi.CheckAltText(m.AltText); err != nil {
			return nil, badRequest(err.Error())
		}
		files = append(files, f)
	}
	if err := xapi.CheckPostMedia(files); err != nil {
		return nil, badRequest(err.Error())
	}
	return files, nil
}

// nearDuplicate warns when a tweet is nearly the same as a recent post of
// the account (X refuses exact duplicates).
func nearDuplicate(tweets, recent []string) (string, bool) {
	for i, t := range tweets {
		if ok, m := tweettext.NearDuplicate(t, recent); ok {
			match := recent[m.Index]
			where := "this post "
			if len(tweets) > 1 {
				where = fmt.Sprintf("tweet %d/%d ", i+1, len(tweets))
			}
			return fmt.Sprintf("%sis nearly the same as a recent post (%q); X refuses duplicates", where, textutil.Truncate(textutil.Squash(match), 40)), true
		}
	}
	return "", false
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, badRequest(fmt.Sprintf("post id must be a positive number, not %q", r.PathValue("id"))))
		return 0, false
	}
	return id, true
}

func (s *Server) handleEditPost(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req api.EditPost
	if err := decodeBody(w, r, &req, bodyRules{}); err != nil {
		s.fail(w, "edit post", err)
		return
	}
	now := s.clock.Now()
	upd := sqlstore.PostUpdate{ExpectRunID: req.RunID}
	if err := queueAlone(req.Queue, req.At, req.Now, req.Draft); err != nil {
		s.fail(w, "edit post", err)
		return
	}
	switch {
	case req.Now && req.At != nil:
		s.fail(w, "edit post", badRequest("give either a time or now, not both"))
		return
	case req.Now:
		upd.ScheduledAt = &now
	case req.At != nil:
		if req.At.Before(now.Add(-pastGrace)) {
			s.fail(w, "edit post", badRequest(fmt.Sprintf("%s is in the past; give a future time, or now", req.At.UTC().Format(time.RFC3339))))
			return
		}
		if err := when.CheckHorizon(*req.At, now, time.UTC); err != nil {
			s.fail(w, "edit post", badRequest(err.Error()))
			return
		}
		t := req.At.UTC()
		upd.ScheduledAt = &t
	}
	if req.Draft {
		upd.Status = post.StatusDraft
	}
	var warnings []string
	var edited *post.Post
	err := s.store.Update(r.Context(), func(tx *sqlstore.Tx) error {
		cur, err := tx.GetPost(id)
		if err != nil {
			return err
		}
		if req.Text != nil {
			acct, err := tx.Account(cur.AccountID)
			if err != nil {
				return err
			}
			max := acct.MaxWeightedLength()
			hasMedia := len(cur.Tweets) > 0 && len(cur.Tweets[0].Media) > 0
			c, err := compose(*req.Text, nil, req.Thread || cur.IsThread(), req.Number, hasMedia, max)
			var it *invalidText
			if errors.As(err, &it) {
				// The text rules speak of `psnd post --thread`; here the
				// user is editing.
				return invalid(strings.ReplaceAll(it.msg, "`psnd post --thread`", fmt.Sprintf("`psnd edit %d --thread`", id)))
			}
			if err != nil {
				return textError(err)
			}
			if err := threadLength(len(c.tweets)); err != nil {
				return err
			}
			c.collectWarnings(max)
			warnings = c.warnings
			// Media stay with the first tweet.
			var media []post.Media
			if len(cur.Tweets) > 0 {
				media = cur.Tweets[0].Media
			}
			for i, t := range c.tweets {
				nt := sqlstore.NewTweet{Text: t}
				if i == 0 {
					nt.Media = media
				}
				upd.Tweets = append(upd.Tweets, nt)
			}
		}
		if req.Queue {
			acct, err := tx.Account(cur.AccountID)
			if err != nil {
				return err
			}
			at, err := nextSlot(tx, acct, now, id)
			if err != nil {
				return err
			}
			upd.ScheduledAt = &at
		}
		edited, err = tx.UpdatePost(id, upd, now)
		return err
	})
	if err != nil {
		s.fail(w, "edit post", err)
		return
	}
	s.postChanged(id)
	out := s.wire(edited)
	out.Warnings = warnings
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCancelPost(w http.ResponseWriter, r *http.Request) {
	s.simpleChange(w, r, "cancel post", func(tx *sqlstore.Tx, id int64, now time.Time) (*post.Post, error) {
		return tx.CancelPost(id, now)
	})
}

func (s *Server) handleRetryPost(w http.ResponseWriter, r *http.Request) {
	s.simpleChange(w, r, "retry post", func(tx *sqlstore.Tx, id int64, now time.Time) (*post.Post, error) {
		return tx.RetryPost(id, now)
	})
}

func (s *Server) simpleChange(w http.ResponseWriter, r *http.Request, op string, fn func(*sqlstore.Tx, int64, time.Time) (*post.Post, error)) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var p *post.Post
	err := s.store.Update(r.Context(), func(tx *sqlstore.Tx) error {
		var err error
		p, err = fn(tx, id, s.clock.Now())
		return err
	})
	if err != nil {
		s.fail(w, op, err)
		return
	}
	s.postChanged(id)
	writeJSON(w, http.StatusOK, s.wire(p))
}

func (s *Server) handleDeletePost(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	remote := r.URL.Query().Get("remote") == "true"
	p, err := s.readPost(r.Context(), id)
	if err != nil {
		s.fail(w, "delete post", err)
		return
	}
	if hasAnyID(p) && !remote {
		s.fail(w, "delete post", &api.Error{Code: api.CodeConflict, Status: http.StatusConflict,
			Message: fmt.Sprintf("post %d is on X; deleting it removes it from X too (confirm, or pass --yes)", id)})
		return
	}
	// Take the post out of the schedule first (run_id fence), so that no
	// retry can publish more of it while its tweets are deleted on X.
	err = s.store.Update(r.Context(), func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.PrepareDelete(id, s.clock.Now())
		return err
	})
	if err != nil {
		s.fail(w, "delete post", err)
		return
	}
	s.postChanged(id)
	res := api.DeleteResult{ID: id}
	if hasAnyID(p) {
		gone, already, err := s.deleteOnX(r.Context(), p)
		res.DeletedOnX, res.AlreadyGone = gone, already
		if err != nil {
			s.fail(w, "delete post on X", err)
			return
		}
	}
	err = s.store.Update(r.Context(), func(tx *sqlstore.Tx) error { return tx.DeletePrepared(id, p.RunID) })
	if err != nil {
		s.fail(w, "delete post", err)
		return
	}
	// The rows are gone: their copies go too, unless another post has the
	// same content. Done even if the client has gone away meanwhile.
	s.media.release(context.WithoutCancel(r.Context()), mediaPaths(p))
	res.Deleted = true
	s.postChanged(id)
	s.log.Info("post deleted", "post", id, "deleted_on_x", len(res.DeletedOnX))
	writeJSON(w, http.StatusOK, res)
}

func mediaPaths(p *post.Post) []string {
	var out []string
	for _, t := range p.Tweets {
		for _, m := range t.Media {
			out = append(out, m.Path)
		}
	}
	return out
}

func hasAnyID(p *post.Post) bool {
	for _, t := range p.Tweets {
		if t.PlatformPostID != "" {
			return true
		}
	}
	return false
}

// deleteOnX deletes the post's tweets at X, last first (so a thread never
// shows a reply to a deleted tweet). A tweet X no longer has counts as
// deleted, so a delete interrupted half way can simply be run again.
func (s *Server) deleteOnX(ctx context.Context, p *post.Post) (deleted, already []string, err error) {
	if p.Status == post.StatusPublishing {
		return nil, nil, notEditableAPI(p.ID)
	}
	token, err := s.tokens.Token(ctx, p.AccountID)
	if err != nil {
		return nil, nil, fmt.Errorf("get access token for @%s: %w", p.Account, err)
	}
	for i := len(p.Tweets) - 1; i >= 0; i-- {
		xid := p.Tweets[i].PlatformPostID
		if xid == "" {
			continue
		}
		_, err := s.x.DeleteTweet(ctx, p.AccountID, token, xid)
		var xe *xapi.Error
		switch {
		case err == nil:
			deleted = append(deleted, xid)
		case errors.As(err, &xe) && xe.StatusCode == http.StatusNotFound:
			already = append(already, xid)
		default:
			return deleted, already, fmt.Errorf("delete tweet %s on X: %w", xid, err)
		}
	}
	return deleted, already, nil
}

func notEditableAPI(id int64) error {
	return &api.Error{Code: api.CodeConflict, Status: http.StatusConflict,
		Message: fmt.Sprintf("post %d is being published right now; try again in a moment", id)}
}
