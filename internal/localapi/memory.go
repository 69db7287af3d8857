package localapi

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/exepages"
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
//
// The release the quiet timer runs also lets go of the resident pages of
// the daemon's own executable (exepages): fault-around leaves most of the
// binary mapped (about 18 MB of the 26) though an idle daemon runs little
// of it. Those pages stay in the page cache, so this lowers the RSS more
// than the memory the system gets back; see exepages.
type memRelease struct {
	store *sqlstore.Store
	fill  func()
	log   *slog.Logger
	mu    sync.Mutex
	timer *time.Timer
	// running serialises releases: one that comes while another runs
	// waits for it, then finds little left to do, so whoever asked for a
	// release (a big list, the quiet timer) never returns before one
	// has covered its own writes.
	running sync.Mutex
}

func newMemRelease(store *sqlstore.Store, fill func(), log *slog.Logger) *memRelease {
	return &memRelease{store: store, fill: fill, log: log}
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
		m.timer = time.AfterFunc(memQuiet, m.releaseQuiet)
	} else {
		m.timer.Reset(memQuiet)
	}
	m.mu.Unlock()
}

// bigRequestDone releases at once, in the background: a large answer
// leaves tens of megabytes of garbage behind. It leaves the executable's
// pages alone: more requests may follow, and the quiet timer, armed by
// this request too, drops them once none has come for memQuiet.
func (m *memRelease) bigRequestDone() { go m.release() }

func (m *memRelease) release() {
	m.running.Lock()
	defer m.running.Unlock()
	m.releaseLocked(false)
}

// releaseQuiet is the release once the API has gone quiet: the daemon
// expects to sleep, so the executable's pages go too.
func (m *memRelease) releaseQuiet() {
	m.running.Lock()
	defer m.running.Unlock()
	m.releaseLocked(true)
}

func (m *memRelease) releaseLocked(dropExe bool) {
	if m.fill != nil {
		m.fill()
	}
	m.store.ReleaseIdle()
	if dropExe {
		// Before the collection, not after: the collection below maps
		// back the collector's code and the stack maps it reads (about
		// 3 MB), which the collection the runtime forces every two
		// minutes would otherwise fault back in during an idle minute.
		m.dropExecutable()
	}
	debug.FreeOSMemory()
}

func (m *memRelease) dropExecutable() {
	d, err := exepages.Drop()
	if err != nil {
		// An old kernel or an unusual mapping: the RSS stays higher,
		// nothing else changes.
		m.log.Debug("executable pages not dropped", "err", err)
	}
	if d.Mappings > 0 {
		m.log.Debug("executable pages dropped", "mappings", d.Mappings, "resident_kb", d.Bytes>>10)
	}
}
