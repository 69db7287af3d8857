package publishing

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

const testUser = "1001"

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// rig is what a publisher needs, without a daemon: a real store with
// @alice connected, a spec-validating fake X over loopback HTTP, a fake
// clock and tokens the fake X issued.
type rig struct {
	x      *fakex.Server
	url    string
	hc     *http.Client
	clock  *clock.Fake
	tokens *fakeTokens
	store  *sqlstore.Store
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clock: clock.NewFake(t0)}
	x, srv := xspec.NewTestServerIfSpec(t, fakex.Options{Clock: r.clock})
	x.AddUser(fakex.User{ID: testUser, Username: "alice", Name: "Alice"})
	r.x, r.url, r.hc = x, srv.URL, srv.Client()
	r.tokens = &fakeTokens{x: x, tok: map[string]string{}}
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "psnd.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.UpsertAccount(post.Account{ID: testUser, Username: "alice"}, t0)
	}); err != nil {
		t.Fatal(err)
	}
	r.store = s
	return r
}

// creates returns the fake X's successful creates, in order.
// claimed stores a post of the given tweets due at t0 and claims it for
// this daemon, as the scheduler would before publishing it; and returns the
// rig's X client to publish it with.
func (r *rig) claimed(t *testing.T, texts ...string) (*post.Post, *xapi.Client) {
	t.Helper()
	var tws []sqlstore.NewTweet
	for _, s := range texts {
		tws = append(tws, sqlstore.NewTweet{Text: s})
	}
	var claimed *post.Post
	if err := r.store.Update(context.Background(), func(tx *sqlstore.Tx) error {
		p, err := tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &t0, Tweets: tws}, t0)
		if err != nil {
			return err
		}
		claimed, err = tx.Claim(sqlstore.DueRef{ID: p.ID, RunID: p.RunID}, "this-daemon", t0, t0.Add(5*time.Minute))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	xc, err := xapi.New(xapi.Config{BaseURL: r.url, HTTPClient: r.hc, Clock: r.clock, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return claimed, xc
}

func (r *rig) creates() []fakex.Request {
	var out []fakex.Request
	for _, q := range r.x.Requests() {
		if q.Method == http.MethodPost && q.Path == "/2/tweets" && q.TweetID != "" {
			out = append(out, q)
		}
	}
	return out
}

// fakeTokens hands out tokens the fake X issued; it stands in for
// internal/oauth at the X boundary.
type fakeTokens struct {
	x   *fakex.Server
	mu  sync.Mutex
	tok map[string]string
}

func (f *fakeTokens) Token(_ context.Context, account string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tok[account]; ok {
		return t, nil
	}
	return f.issue(account)
}

func (f *fakeTokens) ForceRefresh(_ context.Context, account, _ string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issue(account)
}

func (f *fakeTokens) issue(account string) (string, error) {
	a, _, _, err := f.x.IssueToken(account)
	if err != nil {
		return "", err
	}
	f.tok[account] = a
	return a, nil
}
