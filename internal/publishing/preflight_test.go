package publishing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/oauth/oauthtest"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

type fixedKey struct{ k secrets.Key }

func (f fixedKey) Key() (secrets.Key, error) { return f.k, nil }

type noticeLog struct {
	mu sync.Mutex
	ns []Notice
}

func (l *noticeLog) Notify(n Notice) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ns = append(l.ns, n)
}

func (l *noticeLog) all() []Notice {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Notice(nil), l.ns...)
}

// preflightRig is a rig with @alice logged in through the real token
// source, and a preflighter with a 15-minute window.
type preflightRig struct {
	*rig
	src     *oauth.Source
	pf      *preflighter
	notices *noticeLog
	key     secrets.Key
}

func newPreflightRig(t *testing.T, x XClient) *preflightRig {
	t.Helper()
	r := newRig(t)
	key := secrets.NewKey()
	oauthtest.SeedLogin(t, r.store, key, r.x, fakex.User{ID: testUser, Username: "alice"}, "pf-client")
	src, err := oauth.NewSource(oauth.SourceConfig{Store: r.store, Keys: fixedKey{key}, HTTPClient: r.hc,
		TokenURL: r.url + "/2/oauth2/token", Clock: r.clock, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if x == nil {
		x = r.xclient(t)
	}
	n := &noticeLog{}
	pf := &preflighter{store: r.store, clock: r.clock, x: x, counter: storeCounter{r.store}, tokens: src, prover: src,
		window: 15 * time.Minute, log: testLogger(t), notifier: n, changed: func(int64) {}, kick: func() {},
		trigger: make(chan struct{}, 1), proven: map[string]time.Time{}}
	return &preflightRig{rig: r, src: src, pf: pf, notices: n, key: key}
}

func (r *rig) xclient(t *testing.T) *xapi.Client {
	t.Helper()
	xc, err := xapi.New(xapi.Config{BaseURL: r.url, HTTPClient: r.hc, Clock: r.clock, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return xc
}

// schedule stores a scheduled post of alice due at due.
func (r *rig) schedule(t *testing.T, text string, due time.Time, media ...post.Media) *post.Post {
	t.Helper()
	var p *post.Post
	if err := r.store.Update(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &due,
			Tweets: []sqlstore.NewTweet{{Text: text, Media: media}}}, r.clock.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (r *rig) get(t *testing.T, id int64) *post.Post {
	t.Helper()
	var p *post.Post
	if err := r.store.View(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.GetPost(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (r *preflightRig) pass(t *testing.T) int {
	t.Helper()
	n, err := r.pf.pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pngMedia(t *testing.T, dir string) post.Media {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "çiçek 花.png")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	return post.Media{Path: p, SHA256: hex.EncodeToString(sum[:]), MimeType: "image/png", Size: int64(b.Len()), AltText: "çiçek"}
}

// TestPreflightOneRefreshPerWindow: one refresh proves the grant for every
// post of the account in the window at once; a post entering the window
// within proofReuse of it reuses the proof, and one entering later gets a
// new one.
func TestPreflightOneRefreshPerWindow(t *testing.T) {
	r := newPreflightRig(t, nil)
	for i := range 5 {
		r.schedule(t, "post "+strings.Repeat("İ", i+1), t0.Add(time.Duration(5+i)*time.Minute))
	}
	r.schedule(t, "later", t0.Add(20*time.Minute))
	if n := r.pass(t); n != 5 {
		t.Fatalf("%d verdicts, want the 5 posts in the window", n)
	}
	if s := r.x.Stats(); s.Refreshes != 1 {
		t.Fatalf("%d refreshes for 5 posts of one account", s.Refreshes)
	}
	r.schedule(t, "soon after", t0.Add(10*time.Minute))
	r.clock.Advance(proofReuse - time.Minute)
	if n := r.pass(t); n != 1 {
		t.Fatalf("%d verdicts, want 1", n)
	}
	if s := r.x.Stats(); s.Refreshes != 1 {
		t.Fatalf("%d refreshes: the proof %v ago serves", s.Refreshes, proofReuse-time.Minute)
	}
	r.clock.Advance(2 * time.Minute) // "later" enters the window
	r.pass(t)
	if s := r.x.Stats(); s.Refreshes != 2 {
		t.Fatalf("%d refreshes: a proof older than %v is not reused", s.Refreshes, proofReuse)
	}
	if r.pass(t) != 0 {
		t.Fatal("a pass with nothing new recorded verdicts")
	}
}

// TestPreflightRevokedGrant: a refused refresh puts every post of the
// account in the window at risk with the reason, in one notice for the
// account, marks it as needing a login, and leaves the status alone; the
// next pass neither asks X nor notifies again.
func TestPreflightRevokedGrant(t *testing.T) {
	r := newPreflightRig(t, nil)
	var ids []int64
	for i := range 3 {
		ids = append(ids, r.schedule(t, "ok 🚀", t0.Add(time.Duration(5+i)*time.Minute)).ID)
	}
	r.x.RevokeUserTokens(testUser)
	r.pass(t)
	for _, id := range ids {
		p := r.get(t, id)
		if p.Status != post.StatusScheduled || p.SubStatus != post.SubAtRisk ||
			!strings.Contains(p.FailReason, "account @alice must log in again: psnd auth login") {
			t.Fatalf("post %d: %s/%s %q", id, p.Status, p.SubStatus, p.FailReason)
		}
	}
	ns := r.notices.all()
	if len(ns) != 1 || ns[0].Kind != NoticeNeedsLogin || ns[0].PostID != 0 || ns[0].Account != "alice" || !strings.Contains(ns[0].Body, "3 posts") {
		t.Fatalf("notices %+v, want one for the account", ns)
	}
	if _, err := r.src.Token(context.Background(), testUser); err == nil {
		t.Fatal("account not marked as needing a login")
	}
	r.pass(t)
	if s := r.x.Stats(); s.RejectedRefreshes != 1 || len(r.notices.all()) != 1 {
		t.Fatalf("second pass: %+v, %d notices", s, len(r.notices.all()))
	}
}

// TestPreflightMedia: media are uploaded ahead and their ids kept; a
// missing file is at risk with its path (one notice, not one per pass),
// and cleared once the file is back.
func TestPreflightMedia(t *testing.T) {
	r := newPreflightRig(t, nil)
	dir := t.TempDir()
	m := pngMedia(t, dir)
	ok := r.schedule(t, "with media", t0.Add(10*time.Minute), m)
	gone := r.schedule(t, "gone", t0.Add(12*time.Minute), post.Media{Path: filepath.Join(dir, "gone.png"), SHA256: m.SHA256, MimeType: "image/png", Size: m.Size})
	r.pass(t)
	p := r.get(t, ok.ID)
	if p.SubStatus != "" || p.Tweets[0].Media[0].XMediaID == "" || p.Tweets[0].Media[0].MediaExpiresAt == nil {
		t.Fatalf("media not uploaded ahead: %+v", p.Tweets[0].Media)
	}
	if xm, found := r.x.Media(p.Tweets[0].Media[0].XMediaID); !found || xm.AltText != "çiçek" {
		t.Fatalf("media at X %+v", xm)
	}
	g := r.get(t, gone.ID)
	if g.Status != post.StatusScheduled || g.SubStatus != post.SubAtRisk || !strings.Contains(g.FailReason, "gone.png") {
		t.Fatalf("missing file: %s/%s %q", g.Status, g.SubStatus, g.FailReason)
	}
	r.pass(t)
	if len(r.notices.all()) != 1 {
		t.Fatalf("notices %+v, want one for the missing file", r.notices.all())
	}
	if err := os.Rename(m.Path, filepath.Join(dir, "gone.png")); err != nil {
		t.Fatal(err)
	}
	r.pass(t)
	if g := r.get(t, gone.ID); g.SubStatus != "" || g.FailReason != "" || g.Tweets[0].Media[0].XMediaID == "" {
		t.Fatalf("after the fix: %s %q", g.SubStatus, g.FailReason)
	}
	// The first post's id, good until after its due time, was not sent
	// again (only the second post's file went up).
	if p2 := r.get(t, ok.ID); p2.Tweets[0].Media[0].XMediaID != p.Tweets[0].Media[0].XMediaID {
		t.Fatal("a still-valid media id was uploaded again")
	}
}

// editingX edits the post while its media is uploaded, as a user could.
type editingX struct {
	XClient
	edit func()
}

func (x editingX) Upload(ctx context.Context, token string, f xapi.MediaFile, progress func(sent, total int64)) (xapi.Media, error) {
	x.edit()
	return x.XClient.Upload(ctx, token, f, progress)
}

// TestPreflightNeverOverwritesAnEdit: an edit that lands while pre-flight
// works on the post wins: nothing pre-flight found is written to the new
// version, which is checked afresh.
func TestPreflightNeverOverwritesAnEdit(t *testing.T) {
	r := newPreflightRig(t, nil)
	var id int64
	edited := false
	r.pf.x = editingX{XClient: r.xclient(t), edit: func() {
		if edited {
			return
		}
		edited = true
		text := "edited during pre-flight"
		if err := r.store.Update(context.Background(), func(tx *sqlstore.Tx) error {
			cur, err := tx.GetPost(id)
			if err != nil {
				return err
			}
			_, err = tx.UpdatePost(id, sqlstore.PostUpdate{Tweets: []sqlstore.NewTweet{{Text: text, Media: cur.Tweets[0].Media}}}, r.clock.Now())
			return err
		}); err != nil {
			t.Errorf("edit during pre-flight refused: %v", err)
		}
	}}
	id = r.schedule(t, "original", t0.Add(10*time.Minute), pngMedia(t, t.TempDir())).ID
	if n := r.pass(t); n != 0 {
		t.Fatalf("%d verdicts recorded on a post edited meanwhile", n)
	}
	p := r.get(t, id)
	if p.Tweets[0].Text != "edited during pre-flight" || p.Tweets[0].Media[0].XMediaID != "" || p.SubStatus != "" {
		t.Fatalf("post after the edit: %+v", p)
	}
	var next time.Time
	if err := r.store.View(context.Background(), func(tx *sqlstore.Tx) error {
		var err error
		next, _, err = tx.NextPreflight()
		return err
	}); err != nil || next.IsZero() {
		t.Fatalf("the edited version is not due for pre-flight: %v %v", next, err)
	}
	if n := r.pass(t); n != 1 || r.get(t, id).Tweets[0].Media[0].XMediaID == "" {
		t.Fatalf("edited version not pre-flighted: %d", n)
	}
}

// TestPreflightAtRiskNeverStarvesANewPost: however many posts are at risk
// (each pass looks at them again), a post not yet checked is in the next
// pass, and rechecks alone report no progress (which would make the
// scheduler start another pass at once, forever).
func TestPreflightAtRiskNeverStarvesANewPost(t *testing.T) {
	r := newPreflightRig(t, nil)
	if err := r.store.Update(context.Background(), func(tx *sqlstore.Tx) error {
		due := t0.Add(5 * time.Minute)
		for range preflightBatch + 1 {
			if _, err := tx.CreatePost(sqlstore.NewPost{AccountID: testUser, Status: post.StatusScheduled, ScheduledAt: &due,
				Tweets: []sqlstore.NewTweet{{Text: "ok"}}}, t0); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.x.RevokeUserTokens(testUser)
	if n := r.pass(t) + r.pass(t); n != preflightBatch+1 {
		t.Fatalf("%d verdicts, want %d", n, preflightBatch+1)
	}
	fresh := r.schedule(t, "new", t0.Add(10*time.Minute))
	if n := r.pass(t); n != 1 {
		t.Fatalf("%d new verdicts, want the new post's", n)
	}
	if p := r.get(t, fresh.ID); p.SubStatus != post.SubAtRisk {
		t.Fatalf("new post not checked: %s %q", p.SubStatus, p.FailReason)
	}
	if n := r.pass(t); n != 0 {
		t.Fatalf("a pass of rechecks reported %d new verdicts", n)
	}
}

// TestPreflightRevokedAfterAProof: a grant revoked after a pass proved it
// is found when the account's next post enters its window, once the proof
// is older than proofReuse, and not only at that post's due minute.
func TestPreflightRevokedAfterAProof(t *testing.T) {
	r := newPreflightRig(t, nil)
	r.schedule(t, "first ⱥ", t0.Add(5*time.Minute))
	if n := r.pass(t); n != 1 {
		t.Fatalf("%d verdicts, want 1", n)
	}
	r.x.RevokeUserTokens(testUser)
	next := r.schedule(t, "next 東京", t0.Add(20*time.Minute))
	r.clock.Advance(proofReuse + time.Minute) // next is in its window, long before due
	r.pass(t)
	p := r.get(t, next.ID)
	if p.Status != post.StatusScheduled || p.SubStatus != post.SubAtRisk ||
		!strings.Contains(p.FailReason, "must log in again") {
		t.Fatalf("post entering the window after a revocation: %s/%s %q", p.Status, p.SubStatus, p.FailReason)
	}
}
