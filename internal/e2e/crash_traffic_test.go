package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
)

// crashSeed is the seed of a randomised run: PSN_CRASH_SEED replays one.
func crashSeed(t *testing.T, r int) uint64 {
	t.Helper()
	if v := os.Getenv("PSN_CRASH_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PSN_CRASH_SEED=%q: %v", v, err)
		}
		return s
	}
	return uint64(time.Now().UnixNano()) + uint64(r)
}

// lossyX answers like X but loses answers: the post is created, then the
// connection drops (what a timeout or a flaky network looks like to psnd),
// or the daemon is killed in that instant.
type lossyX struct {
	x *fakex.Server
	k *killer

	mu        sync.Mutex
	rng       *rand.Rand
	forceLose int     // lose the answers to the next creates
	pLose     float64 // then lose this share of answers
	pKill     float64 // and kill the daemon instead of answering
	lost      int
}

func (l *lossyX) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/2/tweets" {
		l.x.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	l.x.ServeHTTP(rec, r)
	l.mu.Lock()
	lose, kill := false, false
	if rec.Code == http.StatusCreated {
		switch {
		case l.forceLose > 0:
			l.forceLose--
			lose = true
		default:
			f := l.rng.Float64()
			lose, kill = f < l.pLose, f >= l.pLose && f < l.pLose+l.pKill
		}
	}
	if lose || kill {
		l.lost++
	}
	l.mu.Unlock()
	if kill {
		l.k.mu.Lock()
		d := l.k.d
		l.k.mu.Unlock()
		l.k.killNow(d)
	}
	if lose || kill {
		panic(http.ErrAbortHandler) // drop the connection, no answer
	}
	for key, v := range rec.Header() {
		w.Header()[key] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// TestCrashLostAnswersUnderTraffic: threads whose answers X never sends
// wait while more than 100 other posts of the account are published (so
// their tweets are far down the timeline), then are retried while other
// posts keep publishing, answers keep getting lost and the daemon is
// killed; texts are non-ASCII with links, which the fake rewrites to t.co
// as X does. Every tweet must end on X exactly once, its id recorded.
// The seed is logged; PSN_CRASH_SEED replays a run.
func TestCrashLostAnswersUnderTraffic(t *testing.T) {
	rounds := crashRounds(1, 6)
	for r := range rounds {
		seed := crashSeed(t, r)
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Logf("replay with PSN_CRASH_SEED=%d", seed)
			trafficRound(t, seed)
		})
	}
}

// Texts in many scripts, with links in forms X rewrites (bare domains,
// upper-case hosts, paths in other scripts).
var (
	phrases = []string{"İstanbul'da buluşalım", "ȺȺȺȺ ⱥ", "東京で会いましょう", "مرحبا بالعالم", "שלום עולם",
		"🐦‍🔥 🧑‍🧑‍🧒 👩🏽‍💻", "Ünïcödé straße ǅ", "fish & chips <3", "Привет, мир", "नमस्ते दुनिया"}
	links = []string{"https://Example.com/Yol", "example.org/path", "HTTPS://EXAMPLE.NET/A?b=1&c=2",
		"https://go.dev/doc/", "x.co/путь", "https://例え.jp/パス", "www.Example.com"}
)

func mixedText(rng *rand.Rand, tag string) string {
	p := func() string { return phrases[rng.IntN(len(phrases))] }
	l := func() string { return links[rng.IntN(len(links))] }
	switch rng.IntN(3) {
	case 0:
		return fmt.Sprintf("%s %s %s", p(), tag, l())
	case 1:
		return fmt.Sprintf("%s %s — %s %s", l(), p(), tag, p())
	default:
		return fmt.Sprintf("%s %s %s & %s", p(), l(), tag, l())
	}
}

func trafficRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := xspec.NewServerIfSpec(t, fakex.Options{RateLimits: map[string]int{
		fakex.EndpointCreateTweet: 100000, fakex.EndpointUserTweets: 100000, fakex.EndpointMe: 100000}})
	user := fakex.User{ID: "2244994945", Username: "crashy", Name: "Crash Test"}
	x.AddUser(user)
	k := &killer{rng: rand.New(rand.NewPCG(seed, 3))}
	lx := &lossyX{x: x, k: k, rng: rand.New(rand.NewPCG(seed, 4))}
	srv := httptest.NewServer(lx)
	defer srv.Close()
	h := home(t)
	environ := env(h, srv.URL)
	seedLogin(t, h, x, user)
	client := apiclient.New(filepath.Join(h, "psnd.sock"), "")
	ctx := context.Background()

	d := startDaemon(t, environ)
	k.set(d)
	// Every daemon's log, for a failure: the post may have failed under
	// one that was later killed.
	all := []*daemon{d}
	logs := func() string {
		var b strings.Builder
		for i, d := range all {
			fmt.Fprintf(&b, "--- daemon %d\n%s", i+1, d.log.String())
		}
		return b.String()
	}
	restart := func() {
		if nd := restartIfDead(t, environ, k, d); nd != d {
			d = nd
			all = append(all, d)
		}
	}
	tag := func(s string) string { return fmt.Sprintf("#%d-%s", seed%1000000, s) }
	want := map[int64][]string{} // post id → its tweets' texts

	create := func(texts []string) int64 {
		t.Helper()
		var p api.Post
		for try := 0; ; try++ {
			err := client.Do(ctx, http.MethodPost, "/v1/posts", api.CreatePost{Tweets: texts, Now: true}, &p)
			if err == nil {
				break
			}
			// The daemon may have been killed, perhaps after storing the
			// post: restart it and look before creating it again.
			if try > 50 {
				t.Fatalf("create post: %v", err)
			}
			restart()
			time.Sleep(20 * time.Millisecond)
			if q, ok := findPost(ctx, client, texts[0]); ok {
				p = q
				break
			}
		}
		want[p.ID] = texts
		return p.ID
	}

	// 1. Threads whose first answers are lost.
	var lostThreads []int64
	nThreads := 2 + rng.IntN(2)
	lx.mu.Lock()
	lx.forceLose = nThreads
	lx.mu.Unlock()
	// While the timeline fails, a lost tweet cannot be looked up: its
	// post waits (without spending retries) until everything else is out.
	x.Inject(fakex.Fault{Method: http.MethodGet, Path: "/2/users/*/tweets", Times: -1, Kind: fakex.FaultStatus, Status: 503})
	for i := range nThreads {
		n := 2 + rng.IntN(5)
		texts := make([]string, n)
		for j := range texts {
			texts[j] = mixedText(rng, tag(fmt.Sprintf("t%d.%d", i, j)))
		}
		lostThreads = append(lostThreads, create(texts))
		waitStatus(t, client, lostThreads[i], func(p api.Post) bool { return p.Status == "retry" }, d)
	}

	// 2. More than 100 other posts published meanwhile.
	var fillers []int64
	for i := range 101 + rng.IntN(20) {
		fillers = append(fillers, create([]string{mixedText(rng, tag(fmt.Sprintf("f%d", i)))}))
	}
	for _, id := range fillers {
		waitStatus(t, client, id, func(p api.Post) bool { return p.Status == "published" }, d)
	}
	for _, id := range lostThreads {
		var p api.Post
		if err := client.Do(ctx, http.MethodGet, fmt.Sprintf("/v1/posts/%d", id), nil, &p); err != nil {
			t.Fatal(err)
		}
		if p.Status != "retry" {
			t.Fatalf("lost thread %d is %s (%s) before its lookup could succeed", id, p.Status, deref(p.FailReason))
		}
	}

	// 3. The timeline answers again; the user retries the waiting threads
	// while other posts keep publishing, answers keep getting lost and
	// the daemon is killed now and then.
	x.ClearFaults()
	lx.mu.Lock()
	lx.pLose, lx.pKill = 0.15, 0.05
	lx.mu.Unlock()
	for _, id := range lostThreads {
		_ = client.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/posts/%d/retry", id), struct{}{}, nil)
	}
	for i := range 20 + rng.IntN(20) {
		n := 1 + rng.IntN(3)
		texts := make([]string, n)
		for j := range texts {
			texts[j] = mixedText(rng, tag(fmt.Sprintf("g%d.%d", i, j)))
		}
		create(texts)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("not all published in time; daemon logs:\n%s", logs())
		}
		restart()
		var posts []api.Post
		if err := client.Do(ctx, http.MethodGet, "/v1/posts", nil, &posts); err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		published := 0
		for _, p := range posts {
			switch p.Status {
			case "published":
				published++
			case "failed":
				t.Fatalf("post %d failed: %s\ndaemon logs:\n%s", p.ID, deref(p.FailReason), logs())
			case "retry":
				// A user retrying at once, rather than waiting out the
				// backoff in real time.
				_ = client.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/posts/%d/retry", p.ID), struct{}{}, nil)
			}
		}
		if published == len(want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	k.mu.Lock()
	k.d = nil
	k.mu.Unlock()
	lx.mu.Lock()
	lx.pLose, lx.pKill = 0, 0
	lost := lx.lost
	lx.mu.Unlock()
	k.inFlight.Wait()
	restart()
	var posts []api.Post
	if err := client.Do(ctx, http.MethodGet, "/v1/posts", nil, &posts); err != nil {
		t.Fatal(err)
	}
	d.stop(t)
	t.Logf("seed %d: %d posts, %d answers lost, %d kills", seed, len(want), lost, k.kills)

	byText := map[string][]fakex.Tweet{}
	for _, tw := range x.Tweets() {
		byText[tw.Posted] = append(byText[tw.Posted], tw)
	}
	total := 0
	for _, p := range posts {
		texts := want[p.ID]
		total += len(texts)
		if p.Status != "published" || len(p.Tweets) != len(texts) || len(p.PlatformPostIDs) != len(texts) {
			t.Fatalf("post %d: status %s, %d tweets, ids %v", p.ID, p.Status, len(p.Tweets), p.PlatformPostIDs)
		}
		prev := ""
		for i, text := range texts {
			got := byText[text]
			if len(got) != 1 {
				t.Fatalf("post %d position %d %q is on X %d times", p.ID, i, text, len(got))
			}
			tw := got[0]
			if p.Tweets[i].PlatformPostID == nil || *p.Tweets[i].PlatformPostID != tw.ID || p.PlatformPostIDs[i] != tw.ID {
				t.Fatalf("post %d position %d: recorded %v, X has %s", p.ID, i, p.Tweets[i].PlatformPostID, tw.ID)
			}
			if tw.ReplyToID != prev {
				t.Fatalf("post %d position %d replies to %q, want %q", p.ID, i, tw.ReplyToID, prev)
			}
			prev = tw.ID
		}
	}
	if len(posts) != len(want) {
		t.Fatalf("%d posts listed, %d created", len(posts), len(want))
	}
	if n := len(x.Tweets()); n != total {
		t.Fatalf("X has %d tweets, want %d", n, total)
	}
	// Each lost thread's first tweet had more than 100 newer tweets
	// before its lookup could run.
	for _, id := range lostThreads {
		first := byText[want[id][0]][0]
		newer := 0
		for _, tw := range x.Tweets() {
			if tw.CreatedAt.After(first.CreatedAt) && strings.Contains(tw.Posted, tag("f")) {
				newer++
			}
		}
		if newer <= 100 {
			t.Fatalf("thread %d: only %d posts newer than its lost tweet", id, newer)
		}
	}
}

// findPost returns the post whose first tweet is text.
func findPost(ctx context.Context, c *apiclient.Client, text string) (api.Post, bool) {
	var posts []api.Post
	if err := c.Do(ctx, http.MethodGet, "/v1/posts", nil, &posts); err != nil {
		return api.Post{}, false
	}
	for _, p := range posts {
		if len(p.Tweets) > 0 && p.Tweets[0].Text == text {
			return p, true
		}
	}
	return api.Post{}, false
}

// restartIfDead starts a new daemon if the current one was killed.
func restartIfDead(t *testing.T, environ []string, k *killer, d *daemon) *daemon {
	t.Helper()
	select {
	case <-d.exited:
	default:
		return d
	}
	d = startDaemon(t, environ)
	k.set(d)
	return d
}

// waitStatus long-polls a post until cond holds.
func waitStatus(t *testing.T, c *apiclient.Client, id int64, cond func(api.Post) bool, d *daemon) api.Post {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var p api.Post
	for time.Now().Before(deadline) {
		if err := c.Do(context.Background(), http.MethodGet, fmt.Sprintf("/v1/posts/%d?wait=2s", id), nil, &p); err != nil {
			t.Fatalf("get post %d: %v", id, err)
		}
		if cond(p) {
			return p
		}
		if p.Status == "failed" {
			t.Fatalf("post %d failed: %s\ndaemon log:\n%s", id, deref(p.FailReason), d.log.String())
		}
	}
	t.Fatalf("post %d never reached the expected state; last %+v", id, p)
	return p
}
