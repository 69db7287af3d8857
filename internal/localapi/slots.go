package localapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/slots"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/textutil"
	"github.com/psnd/psnd/internal/when"
)

func (s *Server) slotRoutes(mux *routeMux) {
	mux.HandleFunc("GET "+api.PathSlots, s.handleListSlots)
	mux.HandleFunc("POST "+api.PathSlots, s.handleAddSlots)
	mux.HandleFunc("DELETE "+api.PathSlot, s.handleRemoveSlot)
	mux.HandleFunc("GET "+api.PathQueue, s.handleQueue)
}

func wireSlot(sl slots.Slot) api.Slot {
	return api.Slot{ID: sl.ID, Account: sl.Account, AccountID: sl.AccountID, Days: sl.Days.Names(),
		Time: slots.FormatTime(sl.Minute), Zone: sl.Zone}
}

// account resolves an account name (or X id; "" the default) in tx, as
// the API's error for a missing one.
func account(tx *sqlstore.Tx, name string) (post.Account, error) {
	a, err := tx.Account(name)
	if errors.Is(err, sqlstore.ErrNotFound) {
		return a, noAccount(name)
	}
	return a, err
}

func (s *Server) handleListSlots(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("account")
	var out []api.Slot
	err := s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		id := ""
		if name != "" {
			a, err := account(tx, name)
			if err != nil {
				return err
			}
			id = a.ID
		}
		ss, err := tx.Slots(id)
		out = make([]api.Slot, 0, len(ss))
		for _, sl := range ss {
			out = append(out, wireSlot(sl))
		}
		return err
	})
	if err != nil {
		s.fail(w, "list slots", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAddSlots(w http.ResponseWriter, r *http.Request) {
	var req api.AddSlots
	if err := decodeBody(w, r, &req, bodyRules{}); err != nil {
		s.fail(w, "add slots", err)
		return
	}
	spec, err := slots.ParseSpec(req.Spec)
	if err != nil {
		s.fail(w, "add slots", badRequest(err.Error()))
		return
	}
	zone := req.Zone
	if zone == "" || zone == "Local" {
		// The client knew no name for its zone: the daemon's own.
		zone = s.timezone()
		if zone == "" {
			zone = "Local"
		}
	}
	if _, err := time.LoadLocation(zone); err != nil {
		s.fail(w, "add slots", badRequest(fmt.Sprintf("unknown time zone %q (want an IANA name such as Europe/Paris)", zone)))
		return
	}
	var added []slots.Slot
	err = s.store.Update(r.Context(), func(tx *sqlstore.Tx) error {
		a, err := account(tx, req.Account)
		if err != nil {
			return err
		}
		added, err = tx.AddSlots(a.ID, spec, zone, s.clock.Now())
		return err
	})
	if err != nil {
		s.fail(w, "add slots", err)
		return
	}
	out := make([]api.Slot, 0, len(added))
	for _, sl := range added {
		out = append(out, wireSlot(sl))
	}
	s.log.Info("slots added", "spec", req.Spec, "zone", zone, "slots", len(out))
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleRemoveSlot(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, "remove slot", badRequest(fmt.Sprintf("slot id must be a positive number, not %q", r.PathValue("id"))))
		return
	}
	var sl slots.Slot
	err = s.store.Update(r.Context(), func(tx *sqlstore.Tx) error {
		if sl, err = tx.Slot(id); err != nil {
			return err
		}
		return tx.DeleteSlot(id)
	})
	if errors.Is(err, sqlstore.ErrNotFound) {
		s.fail(w, "remove slot", &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound,
			Message: fmt.Sprintf("no slot %d (see `psnd slots`)", id)})
		return
	}
	if err != nil {
		s.fail(w, "remove slot", err)
		return
	}
	writeJSON(w, http.StatusOK, wireSlot(sl))
}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	days := 7
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.QueueMaxDays {
			s.fail(w, "read queue", badRequest(fmt.Sprintf("days must be a number from 1 to %d, not %q", api.QueueMaxDays, v)))
			return
		}
		days = n
	}
	now := s.clock.Now().UTC()
	out := api.Queue{From: now, Until: now.Add(time.Duration(days) * 24 * time.Hour), Slots: []api.QueueSlot{}}
	err := s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
		id := ""
		if name := q.Get("account"); name != "" {
			a, err := account(tx, name)
			if err != nil {
				return err
			}
			id = a.ID
		}
		ss, err := tx.Slots(id)
		if err != nil {
			return err
		}
		occ, err := slots.Between(ss, out.From, out.Until)
		if err != nil {
			return err
		}
		filled, err := tx.SlotPosts(id, out.From, out.Until)
		if err != nil {
			return err
		}
		for _, o := range occ {
			qs := api.QueueSlot{At: o.At, Account: o.Slot.Account, SlotID: o.Slot.ID,
				Time: slots.FormatTime(o.Slot.Minute), Zone: o.Slot.Zone}
			if p, ok := filled[sqlstore.SlotKey{AccountID: o.Slot.AccountID, Unix: o.At.Unix()}]; ok {
				pid := p.ID
				qs.PostID, qs.PostStatus = &pid, string(p.Status)
				qs.Excerpt = textutil.Truncate(textutil.Squash(p.Text), 80)
			}
			out.Slots = append(out.Slots, qs)
		}
		return nil
	})
	if err != nil {
		s.fail(w, "read queue", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// queueError explains why an account's queue gave no slot.
func queueError(err error, acct post.Account) error {
	switch {
	case errors.Is(err, sqlstore.ErrNoSlots):
		return badRequest(fmt.Sprintf("@%s has no queue slots; add some with `psnd slots add \"mon-fri 09:00\" --account %s`", acct.Username, acct.Username))
	case errors.Is(err, sqlstore.ErrQueueFull):
		return &api.Error{Code: api.CodeConflict, Status: http.StatusConflict,
			Message: fmt.Sprintf("every queue slot of @%s in the next %d years is taken; add slots with `psnd slots add`, or give a time", acct.Username, when.HorizonYears)}
	}
	return err
}
