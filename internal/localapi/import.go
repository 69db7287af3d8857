package localapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// importAction is what an import does with one item.
type importAction int

const (
	importNothing importAction = iota // skipped, or invalid
	importCreate
	importUpdate
)

// importPlan is one checked item: what to do and the post to store.
type importPlan struct {
	action importAction
	postID int64 // the post to update (importUpdate)
	np     sqlstore.NewPost
}

// handleImport checks a batch of imported items and, unless it is a dry
// run or any item is invalid, stores them all in one transaction. Every
// item gets a verdict; an invalid one makes the batch store nothing, so
// the client can check a whole import (with dry runs) before storing any.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	var req api.ImportRequest
	if err := decodeBody(w, r, &req, bodyRules{}); err != nil {
		s.fail(w, "import posts", err)
		return
	}
	if len(req.Items) > api.ImportBatchMax {
		s.fail(w, "import posts", badRequest(fmt.Sprintf("an import request holds at most %d items, not %d: send several", api.ImportBatchMax, len(req.Items))))
		return
	}
	now := s.clock.Now()
	res := api.ImportResult{Items: make([]api.ImportVerdict, len(req.Items))}
	plans := make([]importPlan, len(req.Items))
	err := s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		res.Invalid = 0
		seen := map[string]bool{}
		accounts := map[string]post.Account{}
		for i, it := range req.Items {
			v := api.ImportVerdict{Source: it.Source}
			p, err := s.planImport(tx, it, now, accounts, &v)
			if err == nil && seen[it.Source] {
				err = badRequest(fmt.Sprintf("source %q appears twice in the import", it.Source))
			}
			seen[it.Source] = true
			if msg, ok := itemError(err); ok {
				v.Status, v.Error, v.ID = api.ImportInvalid, msg, 0
				res.Invalid++
			} else if err != nil {
				return err
			}
			res.Items[i], plans[i] = v, p
		}
		return nil
	})
	if err != nil {
		s.fail(w, "import posts", err)
		return
	}
	if res.Invalid > 0 || req.DryRun {
		writeJSON(w, http.StatusOK, res)
		return
	}

	var staged []stagedFile
	defer func() { discard(staged) }()
	for i, it := range req.Items {
		if plans[i].action == importNothing || len(it.Media) == 0 {
			continue
		}
		media, st, err := s.importMedia(it.Media)
		staged = append(staged, st...)
		if err != nil {
			s.fail(w, "import posts", fmt.Errorf("%s: %w", it.Source, err))
			return
		}
		plans[i].np.Tweets[0].Media = media
	}

	var oldMedia []string
	var changed []int64
	err = s.media.commit(r.Context(), staged, func() error {
		return s.store.Update(r.Context(), func(tx *sqlstore.Tx) error {
			oldMedia, changed = nil, nil
			for i, it := range req.Items {
				v := &res.Items[i]
				p := plans[i]
				switch p.action {
				case importCreate:
					created, err := tx.CreatePost(p.np, now)
					if err != nil {
						return fmt.Errorf("%s: %w", it.Source, err)
					}
					v.ID = created.ID
				case importUpdate:
					cur, err := tx.GetPost(p.postID)
					if err != nil {
						return fmt.Errorf("%s: %w", it.Source, err)
					}
					upd := sqlstore.PostUpdate{Tweets: p.np.Tweets, ScheduledAt: p.np.ScheduledAt, Status: p.np.Status}
					if _, err := tx.UpdatePost(p.postID, upd, now); err != nil {
						return fmt.Errorf("%s: %w", it.Source, err)
					}
					oldMedia = append(oldMedia, mediaPaths(cur)...)
				default:
					continue
				}
				changed = append(changed, v.ID)
				if err := tx.SetImportSource(it.Source, sqlstore.ImportSource{ContentHash: it.ContentHash, PostID: v.ID}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		s.fail(w, "import posts", err)
		return
	}
	if len(oldMedia) > 0 {
		s.media.release(r.Context(), oldMedia)
	}
	if len(changed) > 0 {
		s.postChanged(changed[0])
	}
	s.log.Info("posts imported", "items", len(req.Items), "stored", len(changed))
	writeJSON(w, http.StatusOK, res)
}

// planImport decides what to do with one item and checks it as a create
// would: account, time, text rules and media. An unchanged item, or a
// changed one whose post is past draft and scheduled, is skipped before
// any check (its time may well be in the past by now).
func (s *Server) planImport(tx *sqlstore.Tx, it api.ImportItem, now time.Time, accounts map[string]post.Account, v *api.ImportVerdict) (importPlan, error) {
	if it.Source == "" || it.ContentHash == "" {
		return importPlan{}, badRequest("an import item needs a source and a content_hash")
	}
	plan := importPlan{action: importCreate}
	rec, found, err := tx.ImportSource(it.Source)
	if err != nil {
		return importPlan{}, err
	}
	var cur *post.Post
	if found {
		cur, err = tx.GetPost(rec.PostID)
		switch {
		case errors.Is(err, sqlstore.ErrNotFound):
			// The post was deleted since: the item is new again.
		case err != nil:
			return importPlan{}, err
		case rec.ContentHash == it.ContentHash:
			v.Status, v.ID = api.ImportSkipped, cur.ID
			return importPlan{}, nil
		case cur.Status != post.StatusDraft && cur.Status != post.StatusScheduled:
			v.Status, v.ID = api.ImportSkipped, cur.ID
			v.Error = fmt.Sprintf("changed, but post %d is %s: left alone", cur.ID, cur.Status)
			return importPlan{}, nil
		default:
			plan = importPlan{action: importUpdate, postID: cur.ID}
		}
	}

	acct, ok := accounts[it.Account]
	if !ok {
		acct, err = tx.Account(it.Account)
		if errors.Is(err, sqlstore.ErrNotFound) {
			return importPlan{}, noAccount(it.Account)
		}
		if err != nil {
			return importPlan{}, err
		}
		accounts[it.Account] = acct
	}
	if plan.action == importUpdate && cur.AccountID != acct.ID {
		return importPlan{}, badRequest(fmt.Sprintf("post %d is @%s's; an import cannot move it to @%s (delete it first)", cur.ID, cur.Account, acct.Username))
	}
	if it.At == nil && !it.Draft {
		// An import has no "now": the create's message would offer one.
		return importPlan{}, badRequest("say when to publish: give at, or draft")
	}
	status, at, err := scheduleFor(it.At, false, it.Draft, now)
	if err != nil {
		return importPlan{}, err
	}
	max := acct.MaxWeightedLength()
	c, err := compose(it.Text, nil, it.Thread, it.Number, len(it.Media) > 0, max)
	if err != nil {
		return importPlan{}, textError(err)
	}
	if err := threadLength(len(c.tweets)); err != nil {
		return importPlan{}, err
	}
	if _, err := checkMedia(it.Media); err != nil {
		return importPlan{}, err
	}
	plan.np = sqlstore.NewPost{AccountID: acct.ID, Status: status, ScheduledAt: at}
	for _, t := range c.tweets {
		plan.np.Tweets = append(plan.np.Tweets, sqlstore.NewTweet{Text: t})
	}
	v.Status, v.ID = api.ImportCreated, 0
	if plan.action == importUpdate {
		v.Status, v.ID = api.ImportUpdated, plan.postID
	}
	return plan, nil
}

// itemError is the one line an item's check failed with, if it failed
// for a reason of the item's (not of the daemon's).
func itemError(err error) (string, bool) {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Message, true
	}
	return "", false
}
