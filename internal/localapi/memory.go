package localapi

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/exepages"
	"github.com/psnd/psnd/internal/idlegc"
	"github.com/psnd/psnd/internal/sqlstore"
)

// memQuiet is how long the API must be quiet before the daemon returns
// the memory its last requests used; exeQuiet, before it also lets go of
// its executable's pages.
const (
	memQuiet = 5 * time.Second
	exeQuiet = 30 * time.Second
)

// memRelease gives memory back to the OS once work is over. Left alone,
// Go returns freed heap slowly (its background scavenger, after a GC that
// an idle daemon only gets when sysmon forces one every two minutes), and
// SQLite keeps each pooled connection's page cache: after 10,000 posts
// created through the API the daemon stayed at 25 MB for minutes, and the
// scavenger's trickle cost CPU in every idle minute. One release when the
// API goes quiet does it all at once and then leaves the daemon asleep:
// with the collector resting (idlegc), it does not wake to collect
// garbage it does not have.
//
// Before it, the daemon stores the wire forms of the posts written since
// (fill): that work leaves garbage of its own, which the release takes.
//
// Once quiet for exeQuiet, the daemon also lets go of the resident pages
// of its own executable (exepages): fault-around leaves most of the
// binary mapped (about 18 MB of the 26) though an idle daemon runs little
// of it. Those pages stay in the page cache, so this lowers the RSS more
// than the memory the system gets back; see exepages. The command that
// follows maps back the code it runs, one page per fault, which cost the
// first `psnd list --json` of 10,000 posts about 10 ms in round 7, so this
// waits for a longer quiet than the release: a person typing commands a
// few seconds apart does not pay it, and the RSS is down well within the
// minute of idleness issue 12 allows.
type memRelease struct {
	store *sqlstore.Store
	fill  func()
	log   *slog.Logger
	// quiet and exeQuiet are memQuiet and exeQuiet but in tests; drop is
	// dropExecutable but in tests.
	quiet, exeQuiet time.Duration
	drop            func()

	mu    sync.Mutex
	timer *time.Timer // the release, quiet after the last request
	// exeTimer lets go of the executable's pages, exeQuiet after the
	// last request; arms counts requests begun and ended, so that a
	// release that ran while one came does not arm it.
	exeTimer *time.Timer
	arms     uint64
	// running serialises releases: one that comes while another runs
	// waits for it, then finds little left to do, so whoever asked for a
	// release (a big list, the quiet timer) never returns before one
	// has covered its own writes.
	running sync.Mutex
}

func newMemRelease(store *sqlstore.Store, fill func(), log *slog.Logger) *memRelease {
	m := &memRelease{store: store, fill: fill, log: log, quiet: memQuiet, exeQuiet: exeQuiet}
	m.drop = m.dropExecutable
	return m
}

// track arms the release after each request: it runs quiet after the
// last one ends. While a request runs, the collector runs as the user set
// it (idlegc), whatever a release running meanwhile does.
func (m *memRelease) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.begin()
		defer m.arm()
		defer idlegc.Busy()()
		h.ServeHTTP(w, r)
	})
}

// begin keeps the executable's pages while a request runs.
func (m *memRelease) begin() {
	m.mu.Lock()
	m.arms++
	if m.exeTimer != nil {
		m.exeTimer.Stop()
	}
	m.mu.Unlock()
}

// arm runs the release quiet from now, unless a request comes first, and
// puts off letting go of the executable's pages.
// The daemon also arms it at start, for the posts an older psnd (or the
// scheduler, while no request came) left without a stored wire form.
func (m *memRelease) arm() {
	m.mu.Lock()
	m.arms++
	if m.timer == nil {
		m.timer = time.AfterFunc(m.quiet, m.releaseQuiet)
	} else {
		m.timer.Reset(m.quiet)
	}
	if m.exeTimer != nil {
		m.exeTimer.Stop()
	}
	m.mu.Unlock()
}

// bigRequestDone releases at once, in the background: a large answer
// leaves tens of megabytes of garbage behind. The quiet timer, armed by
// this request too, does the rest once no request has come for a while.
func (m *memRelease) bigRequestDone() { go m.release() }

func (m *memRelease) release() {
	m.running.Lock()
	defer m.running.Unlock()
	m.releaseLocked()
}

// releaseQuiet is the release once the API has gone quiet: the daemon
// expects to sleep, so the collector rests, and the executable's pages go
// if it stays quiet until exeQuiet.
func (m *memRelease) releaseQuiet() {
	m.mu.Lock()
	arms := m.arms
	m.mu.Unlock()
	m.running.Lock()
	m.releaseLocked()
	// No collection on a timer until work comes (idlegc): the one the
	// runtime forces every two minutes found nothing to collect and was
	// the largest CPU cost of an idle minute.
	idlegc.Rest()
	m.running.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.arms != arms {
		return // a request came meanwhile: its own release follows
	}
	if m.exeTimer == nil {
		m.exeTimer = time.AfterFunc(m.exeQuiet-m.quiet, m.drop)
	} else {
		m.exeTimer.Reset(m.exeQuiet - m.quiet)
	}
}

func (m *memRelease) releaseLocked() {
	if m.fill != nil {
		m.fill()
	}
	m.store.ReleaseIdle()
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
