package xapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
	"github.com/psnd/psnd/internal/testutil"
	"github.com/psnd/psnd/internal/xapi"
)

const userID = "2244994945"

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// env is a client talking real HTTP on loopback to a spec-validating fake.
type env struct {
	t     *testing.T
	clk   *clock.Fake
	srv   *fakex.Server
	ts    *httptest.Server
	c     *xapi.Client
	token string
	ctx   context.Context

	mu     sync.Mutex
	sleeps []time.Duration
}

func newEnv(t *testing.T, opts fakex.Options, cfg xapi.Config) *env {
	t.Helper()
	e := &env{t: t, clk: clock.NewFake(t0), ctx: context.Background()}
	opts.Clock = e.clk
	e.srv, e.ts = xspec.NewTestServer(t, opts)
	e.srv.AddUser(fakex.User{ID: userID, Username: "psnd_test", Name: "Psnd Test", SubscriptionType: "Premium"})
	access, _, _, err := e.srv.IssueToken(userID)
	if err != nil {
		t.Fatal(err)
	}
	e.token = access
	cfg.BaseURL = e.ts.URL
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = e.ts.Client()
	}
	cfg.Clock = e.clk
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		e.mu.Lock()
		e.sleeps = append(e.sleeps, d)
		e.mu.Unlock()
		e.clk.Advance(d)
		return ctx.Err()
	}
	e.c, err = xapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) create(req xapi.CreateTweetRequest) xapi.Tweet {
	e.t.Helper()
	tw, _, err := e.c.CreateTweet(e.ctx, e.token, req)
	if err != nil {
		e.t.Fatalf("create %q: %v", req.Text, err)
	}
	return tw
}

func creates(reqs []fakex.Request) []fakex.Request {
	var out []fakex.Request
	for _, r := range reqs {
		if r.Method == "POST" && r.Path == "/2/tweets" {
			out = append(out, r)
		}
	}
	return out
}

func TestNewRequiresHTTPClient(t *testing.T) {
	if _, err := xapi.New(xapi.Config{}); err == nil {
		t.Fatal("New without HTTPClient succeeded")
	}
	if _, err := xapi.New(xapi.Config{HTTPClient: &http.Client{}, BaseURL: "api.x.com"}); err == nil {
		t.Fatal("New with a relative base URL succeeded")
	}
}

func TestCreateThreadChainsReplies(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	root := e.create(xapi.CreateTweetRequest{Text: "1/3 a thread"})
	prev := root
	ids := []string{root.ID}
	for _, text := range []string{"2/3 goes on", "3/3 ends"} {
		tw, rl, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: text, ReplyToID: prev.ID})
		if err != nil {
			t.Fatal(err)
		}
		if tw.Text != text || tw.ID <= prev.ID {
			t.Fatalf("got %+v after %s", tw, prev.ID)
		}
		if rl.Limit != 100 || rl.Remaining != 100-len(ids)-1 || !rl.Reset.Equal(t0.Add(15*time.Minute)) {
			t.Errorf("rate limit %+v", rl)
		}
		ids = append(ids, tw.ID)
		prev = tw
	}
	cs := creates(e.srv.Requests())
	if len(cs) != 3 {
		t.Fatalf("%d creates, want exactly one per tweet", len(cs))
	}
	for i, c := range cs {
		if c.TweetID != ids[i] || c.Status != 201 || c.UserID != userID {
			t.Errorf("create %d: %+v", i, c)
		}
		if want := map[bool]string{true: "", false: ids[max(i-1, 0)]}[i == 0]; c.ReplyTo != want {
			t.Errorf("create %d replies to %q, want %q", i, c.ReplyTo, want)
		}
	}
	tweets := e.srv.Tweets()
	if tweets[2].ConversationID != root.ID || tweets[1].ReplyToID != root.ID {
		t.Errorf("stored thread %+v", tweets)
	}
}

// capture records request bodies on their way to the fake.
type capture struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	bodies []string
	auth   []string
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		c.mu.Lock()
		c.bodies = append(c.bodies, string(b))
		c.auth = append(c.auth, r.Header.Get("Authorization"))
		c.mu.Unlock()
	}
	return c.rt.RoundTrip(r)
}

func TestCreateTweetBodyOmitsEmptyFields(t *testing.T) {
	cp := &capture{rt: http.DefaultTransport}
	e := newEnv(t, fakex.Options{}, xapi.Config{HTTPClient: &http.Client{Transport: cp}})
	root := e.create(xapi.CreateTweetRequest{Text: "plain"})
	e.create(xapi.CreateTweetRequest{Text: "reply", ReplyToID: root.ID})
	want := []string{
		`{"text":"plain"}`,
		`{"text":"reply","reply":{"in_reply_to_tweet_id":"` + root.ID + `"}}`,
	}
	for i, w := range want {
		if cp.bodies[i] != w {
			t.Errorf("body %d = %s, want %s", i, cp.bodies[i], w)
		}
		if cp.auth[i] != "Bearer "+e.token {
			t.Errorf("authorization header not sent")
		}
	}
}

func TestCreateTweetRefusedLocally(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	bad := []xapi.CreateTweetRequest{
		{},
		{Text: "x", ReplyToID: "12a"},
		{Text: "x", MediaIDs: []string{"1", "2", "3", "4", "5"}},
		{Text: "x", MediaIDs: []string{"1"}, QuoteTweetID: "2"},
		{Text: "x", QuoteTweetID: "q"},
	}
	for _, r := range bad {
		_, _, err := e.c.CreateTweet(e.ctx, e.token, r)
		if !errors.Is(err, xapi.ErrInvalidArgument) || !xapi.IsPermanent(err) {
			t.Errorf("%+v: err = %v", r, err)
		}
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached X", n)
	}
}

func TestDuplicateContent(t *testing.T) {
	e := newEnv(t, fakex.Options{AccessTokenTTL: 48 * time.Hour}, xapi.Config{})
	e.create(xapi.CreateTweetRequest{Text: "same words"})
	_, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "same words"})
	if !xapi.IsDuplicate(err) || !xapi.IsPermanent(err) || xapi.IsTransient(err) {
		t.Fatalf("err = %v, want a permanent duplicate", err)
	}
	if got := err.Error(); got != "x api POST /2/tweets: 403 You are not allowed to create a Tweet with duplicate content." {
		t.Errorf("Error() = %q", got)
	}
	var xe *xapi.Error
	if !errors.As(err, &xe) || xe.Type != "about:blank" || xe.Title != "Forbidden" || xe.RateLimit.Limit != 100 {
		t.Errorf("error %+v", xe)
	}
	e.clk.Advance(24*time.Hour + time.Second)
	e.create(xapi.CreateTweetRequest{Text: "same words"})
}

func TestReplyToMissingTweetIsPermanent(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	_, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "orphan", ReplyToID: "1"})
	if !xapi.IsPermanent(err) || xapi.IsDuplicate(err) || !strings.Contains(err.Error(), "deleted or not visible") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeleteTweet(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	tw := e.create(xapi.CreateTweetRequest{Text: "short-lived"})
	if _, err := e.c.DeleteTweet(e.ctx, e.token, tw.ID); err != nil {
		t.Fatal(err)
	}
	if !e.srv.Tweets()[0].Deleted {
		t.Fatal("not deleted")
	}
	_, err := e.c.DeleteTweet(e.ctx, e.token, tw.ID)
	var xe *xapi.Error
	if !errors.As(err, &xe) || xe.StatusCode != 404 || !xapi.IsPermanent(err) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := e.c.DeleteTweet(e.ctx, e.token, "../users"); !errors.Is(err, xapi.ErrInvalidArgument) {
		t.Fatalf("bad id: %v", err)
	}
}

func TestMe(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	u, rl, err := e.c.Me(e.ctx, e.token)
	if err != nil {
		t.Fatal(err)
	}
	want := xapi.User{ID: userID, Name: "Psnd Test", Username: "psnd_test", SubscriptionType: "Premium"}
	if u != want || rl.Limit != 75 {
		t.Fatalf("Me = %+v (limit %d), want %+v", u, rl.Limit, want)
	}
	tw := e.create(xapi.CreateTweetRequest{Text: "hello"})
	if u, _, _ = e.c.Me(e.ctx, e.token); u.MostRecentTweetID != tw.ID {
		t.Fatalf("most recent = %q, want %q", u.MostRecentTweetID, tw.ID)
	}
}

func TestUserTweetsForReconciliation(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	var ids []string
	texts := []string{"one", "two, see https://example.com/a-long/path?q=1.", "three", "four", "five", "six", "seven"}
	for i, text := range texts {
		req := xapi.CreateTweetRequest{Text: text}
		if i > 0 {
			req.ReplyToID = ids[i-1]
		}
		ids = append(ids, e.create(req).ID)
		e.clk.Advance(time.Minute)
	}
	page, rl, err := e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{SinceID: ids[0], MaxResults: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rl.Limit != 900 {
		t.Errorf("limit %d", rl.Limit)
	}
	if len(page.Tweets) != 5 || page.Meta.ResultCount != 5 || page.Meta.NewestID != ids[6] || page.Meta.OldestID != ids[2] || page.Meta.NextToken == "" {
		t.Fatalf("page %+v", page.Meta)
	}
	for i, tw := range page.Tweets {
		n := 6 - i
		if tw.ID != ids[n] || tw.InReplyTo() != ids[n-1] || !tw.CreatedAt.Equal(t0.Add(time.Duration(n)*time.Minute)) || tw.AuthorID != userID || tw.ConversationID != ids[0] {
			t.Errorf("tweet %d: %+v", i, tw)
		}
	}
	page2, _, err := e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{SinceID: ids[0], MaxResults: 5, PaginationToken: page.Meta.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.Tweets) != 1 || page2.Tweets[0].ID != ids[1] || page2.Meta.NextToken != "" {
		t.Fatalf("page 2: %+v", page2)
	}
	withURL := page2.Tweets[0]
	if strings.Contains(withURL.Text, "example.com") || withURL.Entities == nil || len(withURL.Entities.URLs) != 1 {
		t.Fatalf("X rewrites links to t.co: %+v", withURL)
	}
	if withURL.ExpandedText() != texts[1] {
		t.Errorf("ExpandedText = %q, want %q", withURL.ExpandedText(), texts[1])
	}

	// A time window, and the result for "nothing new".
	page, _, err = e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{StartTime: t0.Add(5 * time.Minute), MaxResults: 10})
	if err != nil || len(page.Tweets) != 2 {
		t.Fatalf("since 5m: %d tweets, %v", len(page.Tweets), err)
	}
	page, _, err = e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{UntilID: ids[3], MaxResults: 5})
	if err != nil || len(page.Tweets) != 3 || page.Tweets[0].ID != ids[2] || page.Tweets[2].ID != ids[0] {
		t.Fatalf("until id: %+v, %v", page, err)
	}
	page, _, err = e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{StartTime: t0.Add(2 * time.Minute), EndTime: t0.Add(3 * time.Minute), MaxResults: 5})
	if err != nil || len(page.Tweets) != 2 || page.Tweets[0].ID != ids[3] {
		t.Fatalf("time window: %+v, %v", page, err)
	}
	page, _, err = e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{SinceID: ids[6]})
	if err != nil || len(page.Tweets) != 0 || page.Meta.ResultCount != 0 {
		t.Fatalf("nothing newer: %+v, %v", page, err)
	}
	page, _, err = e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{ExcludeReplies: true, ExcludeRetweets: true, MaxResults: 5})
	if err != nil || len(page.Tweets) != 1 || page.Tweets[0].ID != ids[0] {
		t.Fatalf("without replies: %+v, %v", page, err)
	}

	if _, _, err := e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{MaxResults: 3}); !errors.Is(err, xapi.ErrInvalidArgument) {
		t.Errorf("max 3: %v", err)
	}
	_, _, err = e.c.UserTweets(e.ctx, e.token, "1", xapi.UserTweetsParams{})
	var xe *xapi.Error
	if !errors.As(err, &xe) || xe.StatusCode != 404 || !xapi.IsPermanent(err) || !strings.Contains(err.Error(), "Could not find user") {
		t.Errorf("unknown user: %v", err)
	}
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	_, _, err := e.c.Me(e.ctx, "not-a-token")
	if !xapi.IsUnauthorized(err) || xapi.IsPermanent(err) || xapi.IsTransient(err) {
		t.Fatalf("unknown token: %v", err)
	}
	if err.Error() != "x api GET /2/users/me: 401 Unauthorized" {
		t.Errorf("Error() = %q", err)
	}
	var xe *xapi.Error
	if !errors.As(err, &xe) || !xe.RateLimit.Known() {
		t.Errorf("401 without rate-limit headers: %+v", xe)
	}
	if _, _, err := e.c.Me(e.ctx, ""); !errors.Is(err, xapi.ErrInvalidArgument) {
		t.Errorf("empty token: %v", err)
	}

	// A token X revoked: 401 once.
	e.srv.Inject(fakex.Fault{Method: "POST", Path: "/2/tweets", Kind: fakex.FaultRevokeToken})
	if _, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "x"}); !xapi.IsUnauthorized(err) {
		t.Fatalf("revoked: %v", err)
	}
	// An expired token.
	fresh, _, _, _ := e.srv.IssueToken(userID)
	e.clk.Advance(2*time.Hour + time.Second)
	if _, _, err := e.c.Me(e.ctx, fresh); !xapi.IsUnauthorized(err) {
		t.Fatalf("expired: %v", err)
	}
	if len(e.srv.Tweets()) != 0 {
		t.Fatal("a post was created without a valid token")
	}
}

func TestRateLimited(t *testing.T) {
	e := newEnv(t, fakex.Options{RateLimits: map[string]int{fakex.EndpointCreateTweet: 2}}, xapi.Config{})
	e.create(xapi.CreateTweetRequest{Text: "a"})
	e.clk.Advance(time.Minute)
	e.create(xapi.CreateTweetRequest{Text: "b"})
	_, rl, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "c"})
	at, ok := xapi.IsRateLimited(err)
	if !ok || !at.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("err = %v, reset %v", err, at)
	}
	if rl.Remaining != 0 || xapi.IsPermanent(err) || xapi.IsTransient(err) {
		t.Errorf("rl %+v, classified permanent/transient", rl)
	}
	if !strings.Contains(err.Error(), "429 Too Many Requests") {
		t.Errorf("Error() = %q", err)
	}
	e.clk.Set(at)
	e.create(xapi.CreateTweetRequest{Text: "c"})
}

func TestRateLimited24HourCap(t *testing.T) {
	e := newEnv(t, fakex.Options{UserDailyTweetLimit: 2}, xapi.Config{})
	_, rl, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "a"})
	if err != nil || rl.User24h.Limit != 2 || rl.User24h.Remaining != 1 || !rl.User24h.Reset.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("rl %+v, %v", rl, err)
	}
	e.create(xapi.CreateTweetRequest{Text: "b"})
	_, _, err = e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "c"})
	at, ok := xapi.IsRateLimited(err)
	if !ok || !at.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("want the 24-hour reset, got %v (%v)", at, err)
	}
}

func TestRateLimitedLegacyBody(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	reset := t0.Add(7 * time.Minute)
	e.srv.Inject(fakex.Fault{Path: "/2/users/me", Status: 429, Body: `{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`,
		Header: http.Header{"X-Rate-Limit-Limit": {"75"}, "X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {strconv.FormatInt(reset.Unix(), 10)}}})
	_, _, err := e.c.Me(e.ctx, e.token)
	at, ok := xapi.IsRateLimited(err)
	if !ok || !at.Equal(reset) || !strings.HasSuffix(err.Error(), "429 Rate limit exceeded") {
		t.Fatalf("err = %v, at %v", err, at)
	}
}

func TestServerErrorsAreTransient(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	e.srv.Inject(fakex.Fault{Method: "POST", Path: "/2/tweets", Status: 503, Times: 2})
	for i := 0; i < 2; i++ {
		_, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "retry me"})
		if !xapi.IsTransient(err) || xapi.IsPermanent(err) || xapi.MaybeSent(err) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if len(e.srv.Tweets()) != 0 {
		t.Fatal("a 503 created a post")
	}
	e.create(xapi.CreateTweetRequest{Text: "retry me"})
}

// TestCommitThenDrop is the ambiguous create: X stored the post, the
// client saw the connection die. The client must say "may have reached X",
// and reconciliation must find the post.
func TestCommitThenDrop(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	root := e.create(xapi.CreateTweetRequest{Text: "root"})
	e.srv.Inject(fakex.Fault{Method: "POST", Path: "/2/tweets", Kind: fakex.FaultCommitThenDrop})
	_, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "landed?", ReplyToID: root.ID})
	if !xapi.MaybeSent(err) || !xapi.IsTransient(err) {
		t.Fatalf("err = %v, want an ambiguous network error", err)
	}
	var ne *xapi.NetError
	if !errors.As(err, &ne) || ne.Op != "POST /2/tweets" || !strings.Contains(err.Error(), "may have reached X") {
		t.Fatalf("err = %#v", err)
	}
	stored := e.srv.Tweets()
	if len(stored) != 2 || stored[1].Posted != "landed?" {
		t.Fatalf("fake did not record the post: %+v", stored)
	}
	reqs := creates(e.srv.Requests())
	if !reqs[1].Dropped || reqs[1].TweetID != stored[1].ID {
		t.Fatalf("log %+v", reqs[1])
	}

	// Reconcile: the cheap probe, then the timeline.
	u, _, err := e.c.Me(e.ctx, e.token)
	if err != nil || u.MostRecentTweetID != stored[1].ID {
		t.Fatalf("most recent %q, %v", u.MostRecentTweetID, err)
	}
	page, _, err := e.c.UserTweets(e.ctx, e.token, userID, xapi.UserTweetsParams{SinceID: root.ID, MaxResults: 5})
	if err != nil || len(page.Tweets) != 1 || page.Tweets[0].InReplyTo() != root.ID || page.Tweets[0].Text != "landed?" {
		t.Fatalf("timeline %+v, %v", page, err)
	}
	// Retrying blindly would be refused as a duplicate.
	if _, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "landed?", ReplyToID: root.ID}); !xapi.IsDuplicate(err) {
		t.Fatalf("retry: %v", err)
	}
}

func TestDropBeforeCommitIsAmbiguousToo(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	e.srv.Inject(fakex.Fault{Method: "POST", Path: "/2/tweets", Kind: fakex.FaultDropBeforeCommit})
	_, _, err := e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "lost"})
	if !xapi.MaybeSent(err) {
		t.Fatalf("err = %v", err)
	}
	if len(e.srv.Tweets()) != 0 {
		t.Fatal("created")
	}
}

func TestNeverSentWhenDialFails(t *testing.T) {
	addr := testutil.FreeLoopbackAddr(t) // nothing listens there
	c, err := xapi.New(xapi.Config{BaseURL: "http://" + addr, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.CreateTweet(context.Background(), "tok", xapi.CreateTweetRequest{Text: "x"})
	if !xapi.NotSent(err) || xapi.MaybeSent(err) || !xapi.IsTransient(err) {
		t.Fatalf("err = %v, want never sent", err)
	}
	if !strings.Contains(err.Error(), "request not sent") {
		t.Errorf("Error() = %q", err)
	}
}

func TestTimeoutAfterSendIsAmbiguous(t *testing.T) {
	e := newEnv(t, fakex.Options{}, xapi.Config{})
	e.srv.Inject(fakex.Fault{Method: "POST", Path: "/2/tweets", Delay: 10 * time.Second})
	ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	defer cancel()
	_, _, err := e.c.CreateTweet(ctx, e.token, xapi.CreateTweetRequest{Text: "slow"})
	var ne *xapi.NetError
	if !errors.As(err, &ne) || !ne.Sent || !ne.Timeout() {
		t.Fatalf("err = %v", err)
	}
}

func TestInProcessTransport(t *testing.T) {
	clk := clock.NewFake(t0)
	srv := xspec.NewServer(t, fakex.Options{Clock: clk})
	srv.AddUser(fakex.User{ID: userID, Username: "sandbox", Name: "Sandbox"})
	tok, _, _, err := srv.IssueToken(userID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(xapi.Config{HTTPClient: &http.Client{Transport: srv.Transport()}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tw, _, err := c.CreateTweet(ctx, tok, xapi.CreateTweetRequest{Text: "offline"})
	if err != nil || tw.Text != "offline" {
		t.Fatalf("%+v %v", tw, err)
	}
	srv.Inject(fakex.Fault{Path: "/2/tweets", Kind: fakex.FaultCommitThenDrop})
	if _, _, err := c.CreateTweet(ctx, tok, xapi.CreateTweetRequest{Text: "dropped"}); !xapi.MaybeSent(err) {
		t.Fatalf("commit-then-drop: %v", err)
	}
	srv.Inject(fakex.Fault{Path: "/2/tweets", Kind: fakex.FaultRefuse})
	if _, _, err := c.CreateTweet(ctx, tok, xapi.CreateTweetRequest{Text: "refused"}); !xapi.NotSent(err) {
		t.Fatalf("refuse: %v", err)
	}
	if n := len(srv.Tweets()); n != 2 {
		t.Fatalf("%d posts, want 2", n)
	}
}

func TestNeverLogsTokens(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, fakex.Options{}, xapi.Config{Logger: logger})
	e.create(xapi.CreateTweetRequest{Text: "secret-free"})
	e.c.CreateTweet(e.ctx, e.token, xapi.CreateTweetRequest{Text: "secret-free"})
	e.c.Me(e.ctx, "wrong-token-value")
	if buf.Len() == 0 {
		t.Fatal("nothing logged at debug")
	}
	for _, s := range []string{e.token, "wrong-token-value", "Bearer", "secret-free"} {
		if strings.Contains(buf.String(), s) {
			t.Fatalf("log contains %q:\n%s", s, buf.String())
		}
	}
}

// TestIDTime reads a post's creation from its id: X's documented example
// post 1050118621198921728 was created Wed Oct 10 20:19:24 +0000 2018.
func TestIDTime(t *testing.T) {
	got, ok := xapi.IDTime("1050118621198921728")
	if want := time.Date(2018, 10, 10, 20, 19, 24, 0, time.UTC); !ok || got.Truncate(time.Second) != want {
		t.Errorf("IDTime = %v %v, want %v", got, ok, want)
	}
	for _, bad := range []string{"", "abc", "-5", "0", "99999999999999999999"} {
		if _, ok := xapi.IDTime(bad); ok {
			t.Errorf("IDTime(%q) ok", bad)
		}
	}
}
