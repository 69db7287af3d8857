package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// TestWakeManyDueTwoAccountsPreflighted: two accounts, each with posts
// with media; pre-flight uploads the media of those entering its window,
// then the laptop sleeps across every due time. On waking every post goes
// out once, from its own account, with the id pre-flight uploaded where
// there is one (X refuses another account's media), a fresh upload
// otherwise.
func TestWakeManyDueTwoAccountsPreflighted(t *testing.T) {
	const bob = "2002"
	h := newHarness(t, func(h *harness) {
		h.cfg.Env.Preflight = 15 * time.Minute
		h.x.AddUser(fakex.User{ID: bob, Username: "bob", Name: "Bob"})
	})
	s := openStore(t, h.cfg)
	if err := s.Update(context.Background(), func(tx *sqlstore.Tx) error {
		return tx.UpsertAccount(post.Account{ID: bob, Username: "bob"}, t0)
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	h.start()

	type made struct {
		id      int64
		account string
		due     time.Time
	}
	var posts []made
	base := t0.Add(time.Hour)
	for i := range 16 {
		acct := "alice"
		if i%2 == 1 {
			acct = "bob"
		}
		due := base.Add(time.Duration(i) * time.Minute)
		p := h.create(api.CreatePost{Account: acct, Text: fmt.Sprintf("wake %d İ 🪁", i), At: &due,
			Media: []api.MediaInput{{Path: writePNG(t, t.TempDir()), AltText: fmt.Sprintf("kite %d", i)}}})
		posts = append(posts, made{p.ID, acct, due})
	}
	// Pre-flight for the posts due within 15 minutes of base+5m.
	h.clock.Set(base.Add(-10 * time.Minute))
	h.alarm.Fire()
	ahead := map[int64]string{}
	for _, p := range posts {
		if p.due.After(base.Add(5 * time.Minute)) {
			continue
		}
		waitFor(t, func() bool { return h.xMediaID(p.id) != "" })
		ahead[p.id] = h.xMediaID(p.id)
	}
	if len(ahead) == 0 {
		t.Fatal("pre-flight uploaded nothing")
	}

	h.clock.Set(base.Add(6 * time.Hour)) // the lid closed; opened hours after every due time
	h.alarm.Fire()
	users := map[string]string{"alice": testUser, "bob": bob}
	for _, p := range posts {
		got := h.waitPost(p.id, func(p api.Post) bool { return p.Status == api.StatusPublished || p.Status == api.StatusFailed })
		if got.Status != api.StatusPublished {
			t.Fatalf("post %d of %s: %s (%s)", p.id, p.account, got.Status, reason(got))
		}
		var tw *fakex.Tweet
		for _, x := range h.x.Tweets() {
			if x.ID == got.PlatformPostIDs[0] {
				tw = &x
			}
		}
		if tw == nil || tw.AuthorID != users[p.account] || len(tw.MediaIDs) != 1 {
			t.Fatalf("post %d of %s on X: %+v", p.id, p.account, tw)
		}
		if want, ok := ahead[p.id]; ok && tw.MediaIDs[0] != want {
			t.Errorf("post %d went out with media %s, want the id pre-flight uploaded (%s)", p.id, tw.MediaIDs[0], want)
		}
	}
	if n := len(h.x.Tweets()); n != len(posts) {
		t.Fatalf("%d tweets on X, want %d", n, len(posts))
	}
}
