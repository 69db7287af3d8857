package daemon

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

// fakeAlarm is driven by the test: Set records the wake time, Fire wakes
// the scheduler as the real alarm would at that time.
type fakeAlarm struct {
	mu sync.Mutex
	at time.Time
	c  chan struct{}
	// armed, if set, receives the due time of every scheduler round
	// (publishing.ArmWatcher).
	armed chan<- time.Time
}

func newFakeAlarm() *fakeAlarm { return &fakeAlarm{c: make(chan struct{}, 1)} }

func (a *fakeAlarm) Set(at time.Time) {
	a.mu.Lock()
	a.at = at
	a.mu.Unlock()
}
func (a *fakeAlarm) C() <-chan struct{} { return a.c }
func (a *fakeAlarm) Stop()              {}
func (a *fakeAlarm) Armed(next time.Time) {
	if a.armed != nil {
		a.armed <- next
	}
}
func (a *fakeAlarm) Fire() {
	select {
	case a.c <- struct{}{}:
	default:
	}
}

// sleepingClock is the fake clock with a Sleep that advances it: media
// processing polls wait on the fake clock, not the real one.
type sleepingClock struct{ *clock.Fake }

func (c sleepingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

// fakeTokens hands out tokens the fake X issued, refreshing through it on
// ForceRefresh. It stands in for internal/oauth at the X boundary.
type fakeTokens struct {
	x       *fakex.Server
	mu      sync.Mutex
	tok     map[string]string
	forced  int
	failErr error // returned by Token when set
}

func (f *fakeTokens) Token(ctx context.Context, account string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failErr != nil {
		return "", f.failErr
	}
	if t, ok := f.tok[account]; ok {
		return t, nil
	}
	a, _, _, err := f.x.IssueToken(account)
	if err != nil {
		return "", err
	}
	f.tok[account] = a
	return a, nil
}

func (f *fakeTokens) ForceRefresh(ctx context.Context, account, stale string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forced++
	a, _, _, err := f.x.IssueToken(account)
	if err != nil {
		return "", err
	}
	f.tok[account] = a
	return a, nil
}

// harness is a running daemon with a fake clock and alarm, publishing to a
// spec-validating fake X over loopback HTTP.
type harness struct {
	t      *testing.T
	clock  *clock.Fake
	alarm  *fakeAlarm
	x      *fakex.Server
	tokens *fakeTokens
	client *apiclient.Client
	cfg    Config
	arms   chan time.Time
	stop   func()
}

const testUser = "1001"

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, opts ...func(*harness)) *harness {
	t.Helper()
	return newHarnessX(t, fakex.Options{}, opts...)
}

// newHarnessX is newHarness with options for the fake X (its clock is the
// harness's).
func newHarnessX(t *testing.T, xo fakex.Options, opts ...func(*harness)) *harness {
	t.Helper()
	h := &harness{t: t, clock: clock.NewFake(t0), alarm: newFakeAlarm(), arms: make(chan time.Time, 1000)}
	xo.Clock = h.clock
	x, srv := xspec.NewTestServerIfSpec(t, xo)
	x.AddUser(fakex.User{ID: testUser, Username: "alice", Name: "Alice"})
	h.x = x
	h.tokens = &fakeTokens{x: x, tok: map[string]string{}}
	home := shortHome(t)
	h.cfg = testConfig(t, home, &secrets.Memory{})
	h.cfg.Env.APIURL = srv.URL
	h.cfg.Clock = sleepingClock{h.clock}
	h.cfg.Alarm = h.alarm
	h.cfg.Tokens = h.tokens
	h.cfg.XHTTPClient = srv.Client()
	h.cfg.Rand = func() float64 { return 0 }
	h.alarm.armed = h.arms
	for _, o := range opts {
		o(h)
	}
	seedAccount(t, h.cfg)
	return h
}

// seedAccount connects @alice before the daemon starts.
func seedAccount(t *testing.T, cfg Config) {
	t.Helper()
	ctx := context.Background()
	s := openStore(t, cfg)
	defer s.Close()
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.UpsertAccount(post.Account{ID: testUser, Username: "alice"}, t0)
	}); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T, cfg Config) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	if err := ensureHome(cfg.Env.Home, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(ctx, cfg.Env.DBPath(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func (h *harness) start() {
	h.t.Helper()
	r := start(h.t, h.cfg)
	h.client = r.client
	h.stop = func() { r.stop(h.t) }
	h.waitArm()
}

// waitArm waits for the scheduler to finish a round and returns the wake
// time it armed.
func (h *harness) waitArm() time.Time {
	h.t.Helper()
	select {
	case at := <-h.arms:
		return at
	case <-time.After(20 * time.Second):
		h.t.Fatal("scheduler did not complete a round")
	}
	return time.Time{}
}

// drainArms forgets rounds already reported.
func (h *harness) drainArms() {
	for {
		select {
		case <-h.arms:
		default:
			return
		}
	}
}

// advance moves the fake clock and fires the alarm, as the kernel would.
func (h *harness) advance(d time.Duration) {
	h.clock.Advance(d)
	h.alarm.Fire()
}

func (h *harness) create(req api.CreatePost) api.Post {
	h.t.Helper()
	var out api.Post
	if err := h.call(http.MethodPost, "/v1/posts", req, &out); err != nil {
		h.t.Fatalf("create post: %v", err)
	}
	return out
}

// call sends a raw API request (the typed client grows with the CLI).
func (h *harness) call(method, path string, body, out any) error {
	return h.client.Do(context.Background(), method, path, body, out)
}

// waitPost long-polls a post until cond holds.
func (h *harness) waitPost(id int64, cond func(api.Post) bool) api.Post {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var p api.Post
	for time.Now().Before(deadline) {
		var err error
		if err = h.call(http.MethodGet, fmt.Sprintf("/v1/posts/%d?wait=2s", id), nil, &p); err != nil {
			h.t.Fatal(err)
		}
		if cond(p) {
			return p
		}
	}
	h.t.Fatalf("post %d never reached the expected state; last %+v", id, p)
	return p
}

func isStatus(s string) func(api.Post) bool { return func(p api.Post) bool { return p.Status == s } }

// creates returns the fake X's successful creates, in order.
func (h *harness) creates() []fakex.Request {
	var out []fakex.Request
	for _, r := range h.x.Requests() {
		if r.Method == http.MethodPost && r.Path == "/2/tweets" && r.TweetID != "" {
			out = append(out, r)
		}
	}
	return out
}

func sub(p api.Post) string {
	if p.SubStatus == nil {
		return ""
	}
	return *p.SubStatus
}

func reason(p api.Post) string {
	if p.FailReason == nil {
		return ""
	}
	return *p.FailReason
}

func lines(n int, f string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(f, i+1)
	}
	return out
}

var _ = strings.Contains
