package localapi

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
)

// changes broadcasts "some post changed" to long-polling readers: the
// channel is closed and replaced on every change.
type changes struct {
	mu      sync.Mutex
	ch      chan struct{}
	uploads map[int64]api.Upload
}

func newChanges() *changes {
	return &changes{ch: make(chan struct{}), uploads: map[int64]api.Upload{}}
}

func (c *changes) notify() {
	c.mu.Lock()
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}

func (c *changes) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

func (c *changes) setUpload(id, sent, total int64) {
	c.mu.Lock()
	if sent >= total {
		delete(c.uploads, id)
	} else {
		c.uploads[id] = api.Upload{Sent: sent, Total: total}
	}
	c.mu.Unlock()
}

func (c *changes) upload(id int64) *api.Upload {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.uploads[id]; ok {
		return &u
	}
	return nil
}

// uploadsNow is a copy of the uploads in progress (nil when there are none).
func (c *changes) uploadsNow() map[int64]api.Upload {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.uploads) == 0 {
		return nil
	}
	return maps.Clone(c.uploads)
}

// postChanged wakes the scheduler and any reader waiting on a post.
func (s *Server) postChanged(int64) {
	if s.sched != nil {
		s.sched.Kick()
	}
	s.changes.notify()
}

// wire converts a post, adding in-memory state such as upload progress.
func (s *Server) wire(p *post.Post) api.Post {
	out := wirePost(p)
	out.Upload = s.changes.upload(p.ID)
	return out
}

// settled reports whether a post has reached a state a waiting client
// wants to see: not due-and-queued and not being published.
func settled(p *post.Post, now time.Time) bool {
	switch p.Status {
	case post.StatusPublishing:
		return false
	case post.StatusScheduled:
		// Held by the monthly budget: settled until the user acts.
		return p.SubStatus == post.SubOverBudget || p.ScheduledAt != nil && p.ScheduledAt.After(now)
	}
	return true
}

// maxWait bounds a long poll.
const maxWait = 5 * time.Minute

// getPostWaiting answers GET /v1/posts/{id}?wait=DURATION: it returns as
// soon as the post is settled (published, failed, waiting to retry,
// scheduled in the future, or held by the monthly budget), or when the
// wait ends.
func (s *Server) getPostWaiting(w http.ResponseWriter, r *http.Request, id int64, wait time.Duration) {
	wait = min(wait, maxWait)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		ch := s.changes.wait()
		p, err := s.readPost(r.Context(), id)
		if err != nil {
			if s.stopping.Load() && r.Context().Err() != nil {
				err = waitInterrupted(id)
			}
			s.fail(w, "get post", err)
			return
		}
		if settled(p, s.clock.Now()) {
			writeJSON(w, http.StatusOK, s.wire(p))
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			writeJSON(w, http.StatusOK, s.wire(p))
			return
		case <-r.Context().Done():
			if s.stopping.Load() {
				writeError(w, waitInterrupted(id))
			}
			return // else the client went away
		}
	}
}

// parseWait reads a ?wait= parameter, of posts and logins alike: a Go
// duration or a number of seconds, never negative; "" is no wait.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if n, nerr := strconv.Atoi(s); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 {
		return 0, badRequest(fmt.Sprintf("wait must be a duration such as 30s, not %q", s))
	}
	return d, nil
}
