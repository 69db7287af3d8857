package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
)

// TestCrashPreflightMediaExactlyOnce: posts with media, due ten seconds
// ahead, so that pre-flight (PSN_PREFLIGHT 8s here) uploads their media
// before they are due, while the daemon is killed at random moments, right
// after X stored an upload (before psnd stored its id) and right after X
// accepted a create (before psnd stored its answer). Every post goes out
// exactly once, with its media; media-only posts too, which have no text
// to be told apart by.
func TestCrashPreflightMediaExactlyOnce(t *testing.T) {
	rounds := crashRounds(2, 40)
	for r := range rounds {
		seed := crashSeed(t, r)
		t.Run(fmt.Sprintf("round%d_seed%d", r, seed), func(t *testing.T) { crashMediaRound(t, seed) })
	}
}

func crashMediaRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := xspec.NewServerIfSpec(t, fakex.Options{RateLimits: map[string]int{
		fakex.EndpointCreateTweet: 100000, fakex.EndpointUserTweets: 100000, fakex.EndpointMe: 100000}})
	user := fakex.User{ID: "2244994946", Username: "crashmedia", Name: "Crash Media"}
	x.AddUser(user)
	k := &killer{rng: rng, pAccept: 0.25}
	uploadKills := 0
	// An upload X stored may lose its answer to a kill as well.
	isUpload := func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/2/media/upload")
	}
	srv := httptest.NewServer(k.killAfter(k.wrap(x), isUpload, 0.3, &uploadKills))
	defer srv.Close()
	h := home(t)
	environ := append(env(h, srv.URL), "PSN_PREFLIGHT=8s")
	seedLogin(t, h, x, user)
	d := startDaemon(t, environ)
	k.set(d)

	type sent struct {
		id    int64
		texts []string // "" for a post of media alone
	}
	var posts []sent
	dir := t.TempDir()
	due := time.Now().Add(10 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	for i := range 7 {
		img := filepath.Join(dir, fmt.Sprintf("kite%d.png", i))
		writeKite(t, img)
		var texts []string
		switch {
		case i < 2: // media alone
			texts = []string{""}
		case i == 6: // a thread, media on its first tweet
			texts = []string{fmt.Sprintf("media crash %d thread part 1: %s", seed%100000, words(rng)),
				fmt.Sprintf("media crash %d thread part 2: %s", seed%100000, words(rng))}
		default:
			texts = []string{fmt.Sprintf("media crash %d post %d: %s", seed%100000, i, words(rng))}
		}
		args := []string{"post"}
		if texts[0] != "" {
			args = append(args, strings.Join(texts, "\n---\n"))
		}
		args = append(args, "--media", img, "--alt", fmt.Sprintf("kite %d", i),
			"--at", due.Add(time.Duration(i%3)*time.Second).Format(time.RFC3339), "--wait=false", "--json")
		var p api.Post
		runJSON(t, environ, &p, args...)
		posts = append(posts, sent{id: p.ID, texts: texts})
	}

	d = killUntilPublished(t, environ, k, d, len(posts), 0.5, 6*time.Second)
	var listed []api.Post
	runJSON(t, environ, &listed, "list", "--json")
	d.stop(t)
	t.Logf("seed %d: %d kills, %d between X's accept and the answer, %d between an upload X stored and its answer",
		seed, k.kills, k.acceptKills, uploadKills)

	byID := map[int64]api.Post{}
	for _, p := range listed {
		byID[p.ID] = p
	}
	onX := map[string]fakex.Tweet{}
	for _, tw := range x.Tweets() {
		onX[tw.ID] = tw
	}
	want := 0
	for _, s := range posts {
		p := byID[s.id]
		want += len(s.texts)
		if p.Status != "published" || len(p.PlatformPostIDs) != len(s.texts) {
			t.Fatalf("post %d: %s, ids %v", s.id, p.Status, p.PlatformPostIDs)
		}
		for i, text := range s.texts {
			tw, ok := onX[p.PlatformPostIDs[i]]
			if !ok || tw.Posted != text {
				t.Fatalf("post %d tweet %d: recorded %s, X has %+v", s.id, i, p.PlatformPostIDs[i], tw)
			}
			if i == 0 && len(tw.MediaIDs) != 1 {
				t.Fatalf("post %d went out with media %v, want its one file", s.id, tw.MediaIDs)
			}
		}
	}
	if n := len(x.Tweets()); n != want {
		var got []string
		for _, tw := range x.Tweets() {
			got = append(got, fmt.Sprintf("%s %q %v", tw.ID, tw.Posted, tw.MediaIDs))
		}
		t.Fatalf("X has %d tweets, want %d (a post went out twice):\n%s", n, want, strings.Join(got, "\n"))
	}
}
