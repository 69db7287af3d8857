package localapi

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/sqlstore"
)

// dbGone is what the daemon did on finding its database file deleted or
// replaced: one error in the log and, once, a copy of the data it still
// has open (the file nobody else can reach any more), so that nothing it
// recorded — tweets published since the last backup above all — is lost
// when it stops.
type dbGone struct {
	once    sync.Once
	mu      sync.Mutex
	rescued string // path of the copy, "" if none could be made
}

// CheckDB returns the store's CheckFile error, with where the rescued copy
// is, making that copy on first sight.
func (s *Server) CheckDB() error {
	err := s.store.CheckFile()
	if err == nil {
		return nil
	}
	s.gone.once.Do(func() { s.rescue(err) })
	s.gone.mu.Lock()
	defer s.gone.mu.Unlock()
	var gone *sqlstore.DatabaseGoneError
	if s.gone.rescued == "" || !errors.As(err, &gone) {
		return err
	}
	return &rescuedError{gone: gone, copy: s.gone.rescued}
}

func (s *Server) rescue(cause error) {
	s.log.Error("database file lost; refusing changes", "err", cause)
	path := filepath.Join(filepath.Dir(s.store.Path()),
		filepath.Base(s.store.Path())+".rescued-"+s.clock.Now().UTC().Format("20060102T150405Z"))
	// Not tied to a request: the copy is made once, whoever asked first.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := s.store.SaveCopy(ctx, path); err != nil {
		s.log.Error("could not save a copy of the open database", "path", path, "err", err)
		return
	}
	s.log.Warn("saved a copy of the open database", "path", path)
	s.gone.mu.Lock()
	s.gone.rescued = path
	s.gone.mu.Unlock()
}

// rescuedError is a DatabaseGoneError whose advice is the copy of the
// data the daemon saved.
type rescuedError struct {
	gone *sqlstore.DatabaseGoneError
	copy string
}

func (e *rescuedError) Error() string {
	msg := fmt.Sprintf("%s. psnd saved the data it had as %s: to keep it, stop psnd, move that file to %s, and start psnd again",
		e.gone.Problem(), e.copy, e.gone.Path)
	if !e.gone.Removed {
		msg += " (or just restart psnd to use the file now there)"
	}
	return msg
}

func (e *rescuedError) Unwrap() error { return e.gone }
