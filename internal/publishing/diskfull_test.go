package publishing

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// realDiskFullError makes SQLite itself refuse a write with SQLITE_FULL
// (a page limit at the file's size: the code and text a full disk gives)
// and returns the error as the store reports it.
func realDiskFullError(t *testing.T) error {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "full.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	create := func(text string) func(*sqlstore.Tx) error {
		return func(tx *sqlstore.Tx) error {
			if err := tx.UpsertAccount(post.Account{ID: testUser, Username: "alice"}, t0); err != nil {
				return err
			}
			_, err := tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusDraft,
				Tweets: []sqlstore.NewTweet{{Text: text}}}, t0)
			return err
		}
	}
	if err := s.Update(ctx, create("warm-up")); err != nil { // prepares the statements
		t.Fatal(err)
	}
	// One connection besides the one the store pins from Open: the page
	// limit is per connection.
	s.DB().SetMaxOpenConns(2)
	var pages int
	if err := s.DB().QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("PRAGMA max_page_count = " + strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, create(strings.Repeat("Ⱥİ 東京 ", 5000)))
	if !errors.Is(err, sqlstore.ErrFull) || !strings.Contains(err.Error(), "database or disk is full") {
		t.Fatalf("SQLite refused with %v, want ErrFull", err)
	}
	return err
}

// fullDisk stands between the publisher and the real store and refuses
// every write with SQLite's own disk-full error while full; space returns
// by itself after refuse writes were refused.
type fullDisk struct {
	Store
	err    error
	refuse int

	mu      sync.Mutex
	full    bool
	refused int
}

func (f *fullDisk) fill() {
	f.mu.Lock()
	f.full = true
	f.mu.Unlock()
}

func (f *fullDisk) Update(ctx context.Context, fn func(*sqlstore.Tx) error) error {
	f.mu.Lock()
	if f.full {
		f.refused++
		if f.refused >= f.refuse {
			f.full = false
		}
		f.mu.Unlock()
		return f.err
	}
	f.mu.Unlock()
	return f.Store.Update(ctx, fn)
}

// fillingX is the real X client; the disk fills as X answers a create.
type fillingX struct {
	XClient
	disk *fullDisk
}

func (x fillingX) CreateTweet(ctx context.Context, token string, r xapi.CreateTweetRequest) (xapi.Tweet, xapi.RateLimit, error) {
	tw, rl, err := x.XClient.CreateTweet(ctx, token, r)
	x.disk.fill()
	return tw, rl, err
}

// A full disk right after X answered a create used to leave the post in
// "publishing" until its lease ran out (5 minutes) and lose the X id. The
// outcome is now kept in memory and written once space returns.
func TestDiskFullOutcomeWrittenWhenSpaceReturns(t *testing.T) {
	diskFull := realDiskFullError(t)
	cases := []struct {
		name   string
		tweets []string
		fault  *fakex.Fault
		check  func(t *testing.T, p *post.Post, creates []fakex.Request)
	}{
		{name: "tweet id", tweets: []string{"Ⱥ disk full after the answer 🐦‍🔥"},
			check: func(t *testing.T, p *post.Post, creates []fakex.Request) {
				if p.Status != post.StatusPublished || len(creates) != 1 || p.Tweets[0].PlatformPostID != creates[0].TweetID {
					t.Fatalf("status %s, ids %v, creates %+v: want published with X's id", p.Status, p.PlatformPostIDs(), creates)
				}
			}},
		{name: "thread goes on", tweets: []string{"İlk 1/2", "ikinci 2/2"},
			check: func(t *testing.T, p *post.Post, creates []fakex.Request) {
				if p.Status != post.StatusPublished || len(creates) != 2 || strings.Join(p.PlatformPostIDs(), ",") != creates[0].TweetID+","+creates[1].TweetID {
					t.Fatalf("status %s, ids %v, creates %+v: want the whole thread once", p.Status, p.PlatformPostIDs(), creates)
				}
			}},
		{name: "retry decision", tweets: []string{"503 then disk full"},
			fault: &fakex.Fault{Method: http.MethodPost, Path: "/2/tweets", Kind: fakex.FaultStatus, Status: 503},
			check: func(t *testing.T, p *post.Post, creates []fakex.Request) {
				if p.Status != post.StatusRetry || p.SubStatus != post.RetrySub(1) || len(creates) != 0 {
					t.Fatalf("status %s/%s, %d creates: want retry_1 and nothing on X", p.Status, p.SubStatus, len(creates))
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newRig(t)
			if c.fault != nil {
				h.x.Inject(*c.fault)
			}
			store := h.store
			ctx := context.Background()
			claimed, xc := h.claimed(t, c.tweets...)
			// Six refusals: more than the old code's one try for the id and
			// four for the outcome.
			disk := &fullDisk{Store: store, err: diskFull, refuse: 6}
			p := &publisher{store: disk, clock: h.clock, x: fillingX{xc, disk}, tokens: h.tokens, owner: "this-daemon",
				lease: 5 * time.Minute, log: testLogger(t), rand: func() float64 { return 0 }, gate: newRateGate(nil),
				changed: func(int64) {}, progress: func(int64, int64, int64) {},
				// The backoff between writes is not what is tested.
				sleep: func(context.Context, time.Duration) error { return nil }}
			p.publish(ctx, claimed, t0)

			var got *post.Post
			if err := store.View(ctx, func(tx *sqlstore.Tx) error {
				var err error
				got, err = tx.GetPost(claimed.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			c.check(t, got, h.creates())
			if disk.refused < disk.refuse {
				t.Fatalf("the disk refused %d writes, want %d: the test did not fill it", disk.refused, disk.refuse)
			}
		})
	}
}
