package localapi

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
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
	importRelink // skipped: the same content moved to another line of its file
)

// importPlan is one checked item: what to do and the post to store.
type importPlan struct {
	action importAction
	postID int64 // the post to update (importUpdate)
	np     sqlstore.NewPost
	// queue: the post takes its account's next free slot when stored.
	queue bool
	// oldHash is the content hash an updated line item had, and oldLine
	// its source when that was another line.
	oldHash, oldLine string
}

// importLines tells, for the line items of one batch, what their files
// held at their last import and hold now.
type importLines struct {
	tx  *sqlstore.Tx
	now map[string]map[string]int // content hashes each file holds now, counted
	// was counts the content hashes of each file's line records, and gone
	// are the records whose content the file no longer holds; both are
	// read when first needed.
	was  map[string]map[string]int
	gone map[string][]sqlstore.ImportLine
	// lineOf is where each post's content stood, by file and post id.
	lineOf map[string]map[int64]string
	// claimed are the line records an item of the batch already took.
	claimed map[string]bool
}

func newImportLines(tx *sqlstore.Tx, fileHashes map[string][]string) *importLines {
	il := &importLines{tx: tx, now: map[string]map[string]int{}, was: map[string]map[string]int{},
		gone: map[string][]sqlstore.ImportLine{}, lineOf: map[string]map[int64]string{}, claimed: map[string]bool{}}
	for f, hs := range fileHashes {
		il.now[f] = map[string]int{}
		for _, h := range hs {
			il.now[f][h]++
		}
	}
	return il
}

// load reads file's line records once.
func (il *importLines) load(file string) error {
	if _, ok := il.was[file]; ok {
		return nil
	}
	all, err := il.tx.ImportLines(file)
	if err != nil {
		return err
	}
	was, lineOf := map[string]int{}, map[int64]string{}
	var gone []sqlstore.ImportLine
	for _, l := range all {
		was[l.ContentHash]++
		lineOf[l.PostID] = l.Source
		if il.now[file][l.ContentHash] == 0 {
			gone = append(gone, l)
		}
	}
	slices.SortFunc(gone, func(a, b sqlstore.ImportLine) int { return cmp.Compare(a.PostID, b.PostID) })
	il.was[file], il.gone[file], il.lineOf[file] = was, gone, lineOf
	return nil
}

// lineOfPost is the line of file whose record names the post, if any.
func (il *importLines) lineOfPost(file string, postID int64) (string, error) {
	if err := il.load(file); err != nil {
		return "", err
	}
	return il.lineOf[file][postID], nil
}

// moved says whether a line's earlier content still stands elsewhere in
// file: as many times as lines held it (two rows alike, one edited, is
// an edit, not a move).
func (il *importLines) moved(file, hash string) (bool, error) {
	if err := il.load(file); err != nil {
		return false, err
	}
	return il.now[file][hash] >= il.was[file][hash], nil
}

// edited finds the post of a line whose content is gone from file and
// which is still a draft or scheduled, of the account: an item with new
// content may be its edit after rows moved, and updating it is right
// either way (what the line held is no longer meant to go out). Of
// several, the one whose text is most like the item's is taken: the
// others stay as they are, and an old version of this very item should
// not be one of them.
func (il *importLines) edited(file, accountID, text string) (sqlstore.ImportLine, *post.Post, error) {
	if err := il.load(file); err != nil {
		return sqlstore.ImportLine{}, nil, err
	}
	gone := il.gone[file]
	// A line taken or passed over is marked claimed and, once at the
	// head of the list, dropped: a large file is read about once a batch.
	for len(gone) > 0 && il.claimed[gone[0].Source] {
		gone = gone[1:]
	}
	il.gone[file] = gone
	var best sqlstore.ImportLine
	var bestPost *post.Post
	bestScore, looked := -1.0, 0
	for _, l := range gone {
		if il.claimed[l.Source] {
			continue
		}
		if looked == importPairLook {
			break
		}
		p, err := il.tx.GetPost(l.PostID)
		if errors.Is(err, sqlstore.ErrNotFound) {
			il.claimed[l.Source] = true
			continue
		}
		if err != nil {
			return sqlstore.ImportLine{}, nil, err
		}
		if p.Status != post.StatusDraft && p.Status != post.StatusScheduled {
			il.claimed[l.Source] = true
			continue
		}
		if p.AccountID != accountID {
			continue
		}
		looked++
		if sc := textLikeness(postText(p), text); sc > bestScore {
			best, bestPost, bestScore = l, p, sc
		}
	}
	if bestPost != nil {
		il.claimed[best.Source] = true
	}
	return best, bestPost, nil
}

// importPairLook bounds how many candidate lines an item is compared
// with, so that replacing a large file's every row stays fast.
const importPairLook = 64

// postText is a post's text as one string, its tweets a line apart.
func postText(p *post.Post) string {
	var b strings.Builder
	for _, t := range p.Tweets {
		b.WriteString(t.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// textLikeness is the share of words two texts have in common (Dice's
// coefficient over their words, counted with repeats), from 0 to 1.
func textLikeness(a, b string) float64 {
	wa, wb := strings.Fields(a), strings.Fields(b)
	if len(wa)+len(wb) == 0 {
		return 1
	}
	count := map[string]int{}
	for _, w := range wa {
		count[w]++
	}
	common := 0
	for _, w := range wb {
		if count[w] > 0 {
			count[w]--
			common++
		}
	}
	return 2 * float64(common) / float64(len(wa)+len(wb))
}

// importContentKey is the import_sources key of a line item by its content
// within its file. It cannot be a file's source key, which is a path.
func importContentKey(file, hash string) string {
	return "sha256:" + hash + ":" + file
}

// importSlots hands out queue slots to an import's items in order, one
// picker per account, inside one transaction.
type importSlots struct {
	tx      *sqlstore.Tx
	now     time.Time
	pickers map[string]*sqlstore.SlotPicker // by account id
	taken   map[string][]time.Time          // times given explicitly, by account id
}

func newImportSlots(tx *sqlstore.Tx, now time.Time) *importSlots {
	return &importSlots{tx: tx, now: now, pickers: map[string]*sqlstore.SlotPicker{}, taken: map[string][]time.Time{}}
}

// reserve marks at as taken for the account: an item of the import
// scheduled there explicitly, or a slot an earlier batch's dry run gave.
func (is *importSlots) reserve(accountID string, at time.Time) {
	if pk := is.pickers[accountID]; pk != nil {
		pk.Reserve(at)
	}
	is.taken[accountID] = append(is.taken[accountID], at)
}

// next takes the account's next free slot.
func (is *importSlots) next(acct post.Account) (time.Time, error) {
	pk := is.pickers[acct.ID]
	if pk == nil {
		var err error
		if pk, err = is.tx.NewSlotPicker(acct.ID, is.now, 0); err != nil {
			return time.Time{}, queueError(err, acct)
		}
		for _, at := range is.taken[acct.ID] {
			pk.Reserve(at)
		}
		is.pickers[acct.ID] = pk
	}
	at, err := pk.Next()
	if err != nil {
		return time.Time{}, queueError(err, acct)
	}
	return at, nil
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
		is := newImportSlots(tx, now)
		for _, rv := range req.Reserved {
			if a, err := tx.Account(rv.Account); err == nil {
				is.reserve(a.ID, rv.At)
			}
		}
		lines := newImportLines(tx, req.FileHashes)
		for i, it := range req.Items {
			v := api.ImportVerdict{Source: it.Source}
			p, err := s.planImport(tx, it, now, accounts, lines, &v)
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
		return scheduleQueued(tx, is, plans, res.Items, func(i int, err error) error {
			msg, ok := itemError(err)
			if !ok {
				return err
			}
			v := &res.Items[i]
			if v.Status != api.ImportInvalid {
				res.Invalid++
			}
			v.Status, v.Error, v.ID, v.ScheduledAt = api.ImportInvalid, msg, 0, nil
			return nil
		})
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
		if plans[i].action == importNothing || plans[i].action == importRelink || len(it.Media) == 0 {
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
			// The slots are taken again at store time, in file order,
			// after the store's now: what the check saw may have changed
			// since, and a slot may have passed while media were copied.
			is := newImportSlots(tx, s.clock.Now())
			for _, rv := range req.Reserved {
				if a, err := tx.Account(rv.Account); err == nil {
					is.reserve(a.ID, rv.At)
				}
			}
			err := scheduleQueued(tx, is, plans, res.Items, func(i int, err error) error {
				return fmt.Errorf("%s: %w", req.Items[i].Source, err)
			})
			if err != nil {
				return err
			}
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
					if it.File != "" && p.oldHash != "" {
						// The old content is gone from the file: were it
						// written back, it is an edit again, not this post.
						if err := tx.DeleteImportSource(importContentKey(it.File, p.oldHash)); err != nil {
							return err
						}
					}
				case importRelink:
				default:
					continue
				}
				if p.oldLine != "" && p.oldLine != it.Source {
					// The post's earlier line, unless an item stored
					// before this one has made that line its own since.
					rec, ok, err := tx.ImportSource(p.oldLine)
					if err != nil {
						return err
					}
					if ok && rec.PostID == v.ID {
						if err := tx.DeleteImportSource(p.oldLine); err != nil {
							return err
						}
					}
				}
				if p.action != importRelink {
					changed = append(changed, v.ID)
				}
				rec := sqlstore.ImportSource{ContentHash: it.ContentHash, PostID: v.ID}
				if err := tx.SetImportSource(it.Source, rec); err != nil {
					return err
				}
				if it.File != "" {
					if err := tx.SetImportSource(importContentKey(it.File, it.ContentHash), rec); err != nil {
						return err
					}
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
func (s *Server) planImport(tx *sqlstore.Tx, it api.ImportItem, now time.Time, accounts map[string]post.Account, lines *importLines, v *api.ImportVerdict) (importPlan, error) {
	if it.Source == "" || it.ContentHash == "" {
		return importPlan{}, badRequest("an import item needs a source and a content_hash")
	}
	plan := importPlan{action: importCreate}
	rec, found, err := tx.ImportSource(it.Source)
	if err != nil {
		return importPlan{}, err
	}
	if it.File != "" {
		crec, cfound, err := tx.ImportSource(importContentKey(it.File, it.ContentHash))
		if err != nil {
			return importPlan{}, err
		}
		if found && rec.ContentHash == it.ContentHash {
			// Where it was. (Two rows alike are each their own post:
			// the line's record says which.)
			cur, err := tx.GetPost(rec.PostID)
			switch {
			case errors.Is(err, sqlstore.ErrNotFound):
			case err != nil:
				return importPlan{}, err
			case cfound:
				v.Status, v.ID = api.ImportSkipped, cur.ID
				return importPlan{}, nil
			default:
				// Imported before line items were known by content
				// too: record that now, so the row can move.
				v.Status, v.ID = api.ImportSkipped, cur.ID
				return importPlan{action: importRelink}, nil
			}
		}
		// A line item: the same content on another line of its file is
		// the same item, moved by rows added or removed above it.
		if cfound {
			cur, err := tx.GetPost(crec.PostID)
			switch {
			case errors.Is(err, sqlstore.ErrNotFound):
			case err != nil:
				return importPlan{}, err
			default:
				// Its earlier line's record goes: each post is on one
				// line, and the counts of what lines held stay true for
				// the batches after this one.
				old, err := lines.lineOfPost(it.File, cur.ID)
				if err != nil {
					return importPlan{}, err
				}
				v.Status, v.ID = api.ImportSkipped, cur.ID
				return importPlan{action: importRelink, postID: cur.ID, oldLine: old}, nil
			}
		}
		if found && rec.ContentHash != it.ContentHash {
			moved, err := lines.moved(it.File, rec.ContentHash)
			if err != nil {
				return importPlan{}, err
			}
			if moved || lines.claimed[it.Source] {
				// What this line held still stands on another line
				// (the rows moved), or another item took it as its
				// edit: this line's content is new...
				found = false
			} else {
				lines.claimed[it.Source] = true
			}
		}
		if !found {
			// ...or an edit of a line whose content is gone.
			if a, err := tx.Account(it.Account); err == nil {
				l, p, err := lines.edited(it.File, a.ID, it.Text)
				if err != nil {
					return importPlan{}, err
				}
				if p != nil {
					rec, found = l.ImportSource, true
					plan.oldLine = l.Source
				}
			}
		}
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
			plan = importPlan{action: importUpdate, postID: cur.ID, oldHash: rec.ContentHash, oldLine: plan.oldLine}
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
	if it.At == nil && !it.Draft && !it.Queue {
		// An import has no "now": the create's message would offer one.
		return importPlan{}, badRequest("say when to publish: give at, queue, or draft")
	}
	if it.Queue && (it.At != nil || it.Draft) {
		return importPlan{}, badRequest("queue goes alone: not with at or draft")
	}
	status, at := post.StatusScheduled, (*time.Time)(nil)
	if it.Queue {
		plan.queue = true
		if plan.action == importUpdate && cur.Status == post.StatusScheduled {
			// Already in the queue (or at a time of its own): it keeps
			// its time; nothing else moves either.
			plan.queue, at = false, cur.ScheduledAt
		}
	} else if status, at, err = scheduleFor(it.At, false, it.Draft, now); err != nil {
		return importPlan{}, err
	}
	max := acct.MaxWeightedLength()
	c, err := compose(it.Text, nil, it.Thread, it.Number, len(it.Media) > 0, max)
	if err != nil {
		var it *invalidText
		if errors.As(err, &it) {
			// The text rules speak of `psnd post --thread`; an item
			// is split by its thread field.
			return importPlan{}, invalid(strings.ReplaceAll(it.msg, "with `psnd post --thread`", "with thread: true"))
		}
		return importPlan{}, err
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

// scheduleQueued gives the queued plans their slots, in order, after
// reserving the times the batch's other posts are scheduled at (a slot an
// item names explicitly is that item's). A plan that gets no slot is
// reported to fail, which may stop the whole (by returning an error).
func scheduleQueued(tx *sqlstore.Tx, is *importSlots, plans []importPlan, verdicts []api.ImportVerdict, fail func(i int, err error) error) error {
	for _, p := range plans {
		if p.action != importNothing && !p.queue && p.np.Status == post.StatusScheduled && p.np.ScheduledAt != nil {
			is.reserve(p.np.AccountID, *p.np.ScheduledAt)
		}
	}
	accounts := map[string]post.Account{}
	for i := range plans {
		p := &plans[i]
		if p.action == importNothing || !p.queue || verdicts[i].Status == api.ImportInvalid {
			continue
		}
		acct, ok := accounts[p.np.AccountID]
		if !ok {
			var err error
			if acct, err = tx.Account(p.np.AccountID); err != nil {
				return err
			}
			accounts[p.np.AccountID] = acct
		}
		at, err := is.next(acct)
		if err != nil {
			if err := fail(i, err); err != nil {
				return err
			}
			continue
		}
		p.np.ScheduledAt = &at
		verdicts[i].ScheduledAt = &at
	}
	return nil
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
