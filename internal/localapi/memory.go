package localapi

import (
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/sqlstore"
)

// memQuiet is how long the API must be quiet before the daemon returns
// the memory its last requests used.
const memQuiet = 5 * time.Second

// memRelease gives memory back to the OS once work is over. Left alone,
// Go returns freed heap slowly (its background scavenger, after a GC that
// an idle daemon only gets when sysmon forces one every two minutes), and
// SQLite keeps each pooled connection's page cache: after 10,000 posts
// created through the API the daemon stayed at 25 MB for minutes, and the
// scavenger's trickle cost CPU in every idle minute. One release when the
// API goes quiet does it all at once and then leaves the daemon asleep.
//
// Before it, the daemon stores the wire forms of the posts written since
// (fill): that work leaves garbage of its own, which the release takes.
type memRelease struct {
	store *sqlstore.Store
	fill  func()
	mu    sync.Mutex
	timer *time.Timer
	// running serialises releases: one that comes while another runs
	// waits for it, then finds little left to do, so whoever asked for a
	// release (a big list, the quiet timer) never returns before one
	// has covered its own writes.
	running sync.Mutex
}

func newMemRelease(store *sqlstore.Store, fill func()) *memRelease {
	return &memRelease{store: store, fill: fill}
}

// track arms the release after each request: it runs memQuiet after the
// last one ends.
func (m *memRelease) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		m.arm()
	})
}

// arm runs the release memQuiet from now, unless a request comes first.
// The daemon also arms it at start, for the posts an older psnd (or the
// scheduler, while no request came) left without a stored wire form.
func (m *memRelease) arm() {
	m.mu.Lock()
	if m.timer == nil {
		m.timer = time.AfterFunc(memQuiet, m.release)
	} else {
		m.timer.Reset(memQuiet)
	}
	m.mu.Unlock()
}

// bigRequestDone releases at once, in the background: a large answer
// leaves tens of megabytes of garbage behind.
func (m *memRelease) bigRequestDone() { go m.release() }

func (m *memRelease) release() {
	m.running.Lock()
	defer m.running.Unlock()
	if m.fill != nil {
		m.fill()
	}
	m.store.ReleaseIdle()
	debug.FreeOSMemory()
}
