package fakex_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/fakex/xspec"
)

type apiEnv struct {
	t     *testing.T
	clk   *clock.Fake
	srv   *fakex.Server
	hc    *http.Client
	base  string
	token string
}

// newAPIEnv serves the fake over loopback HTTP (inProcess false) or via its
// Transport.
func newAPIEnv(t *testing.T, opts fakex.Options, inProcess bool) *apiEnv {
	t.Helper()
	e := &apiEnv{t: t, clk: clock.NewFake(t0)}
	opts.Clock = e.clk
	if inProcess {
		e.srv = xspec.NewServer(t, opts)
		e.hc = &http.Client{Transport: e.srv.Transport()}
		e.base = "https://api.x.com"
	} else {
		var ts interface{ Client() *http.Client }
		srv, hts := xspec.NewTestServer(t, opts)
		e.srv, ts, e.base = srv, hts, hts.URL
		e.hc = ts.Client()
	}
	e.srv.AddUser(fakex.User{ID: userID, Username: "psnd_test", Name: "Psnd Test", SubscriptionType: "PremiumPlus"})
	var err error
	e.token, _, _, err = e.srv.IssueToken(userID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *apiEnv) do(method, path, body string) (*http.Response, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp, out
}

func TestRateLimitHeadersOnEveryResponse(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{}, false)
	check := func(resp *http.Response, limit, remaining int) {
		t.Helper()
		h := resp.Header
		if h.Get("x-rate-limit-limit") != strconv.Itoa(limit) || h.Get("x-rate-limit-remaining") != strconv.Itoa(remaining) ||
			h.Get("x-rate-limit-reset") != strconv.FormatInt(t0.Add(15*time.Minute).Unix(), 10) {
			t.Errorf("%d answer headers: %v / %v / %v", resp.StatusCode, h.Get("x-rate-limit-limit"), h.Get("x-rate-limit-remaining"), h.Get("x-rate-limit-reset"))
		}
	}
	resp, _ := e.do("POST", "/2/tweets", `{"text":"a"}`)
	check(resp, 100, 99)
	resp, _ = e.do("POST", "/2/tweets", `{"text":"a"}`) // 403 duplicate still counts
	if resp.StatusCode != 403 {
		t.Fatalf("duplicate: %d", resp.StatusCode)
	}
	check(resp, 100, 98)
	resp, _ = e.do("GET", "/2/users/me", "")
	check(resp, 75, 74)
	e.token = "bogus"
	resp, _ = e.do("GET", "/2/users/me", "")
	if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("401: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	check(resp, 75, 74)
}

func TestRateLimitWindowResets(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{}, true)
	e.srv.SetRateLimit(fakex.EndpointMe, 2)
	for i := 0; i < 2; i++ {
		if resp, _ := e.do("GET", "/2/users/me", ""); resp.StatusCode != 200 {
			t.Fatalf("call %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := e.do("GET", "/2/users/me", "")
	if resp.StatusCode != 429 || body["title"] != "Too Many Requests" || resp.Header.Get("x-rate-limit-remaining") != "0" {
		t.Fatalf("third call: %d %v", resp.StatusCode, body)
	}
	// Other endpoints have their own windows.
	if resp, _ := e.do("POST", "/2/tweets", `{"text":"fine"}`); resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	e.clk.Advance(15 * time.Minute)
	if resp, _ := e.do("GET", "/2/users/me", ""); resp.StatusCode != 200 || resp.Header.Get("x-rate-limit-remaining") != "1" {
		t.Fatalf("after reset: %d %s", resp.StatusCode, resp.Header.Get("x-rate-limit-remaining"))
	}
}

func TestAppDailyLimitHeaders(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{AppDailyTweetLimit: 1}, true)
	resp, _ := e.do("POST", "/2/tweets", `{"text":"one"}`)
	if resp.Header.Get("x-app-limit-24hour-remaining") != "0" || resp.Header.Get("x-user-limit-24hour-limit") != "" {
		t.Fatalf("headers %v", resp.Header)
	}
	if resp, _ = e.do("POST", "/2/tweets", `{"text":"two"}`); resp.StatusCode != 429 {
		t.Fatalf("second: %d", resp.StatusCode)
	}
}

func TestMeHonoursUserFields(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{}, true)
	_, body := e.do("GET", "/2/users/me", "")
	d := body["data"].(map[string]any)
	if len(d) != 3 || d["username"] != "psnd_test" {
		t.Fatalf("default fields %v", d)
	}
	_, body = e.do("GET", "/2/users/me?user.fields=subscription_type,most_recent_tweet_id,created_at", "")
	d = body["data"].(map[string]any)
	if d["subscription_type"] != "PremiumPlus" || d["created_at"] != "2020-01-01T00:00:00.000Z" {
		t.Fatalf("fields %v", d)
	}
	if _, ok := d["most_recent_tweet_id"]; ok {
		t.Fatal("most_recent_tweet_id for an account without posts")
	}
}

func TestFaultScripting(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{}, true)
	// Skip two creates, fail the third twice, then let everything through.
	e.srv.Inject(fakex.Fault{Method: "POST", Path: "/2/tweets", Skip: 2, Times: 2, Status: 500})
	var statuses []int
	for i := 0; i < 5; i++ {
		resp, _ := e.do("POST", "/2/tweets", `{"text":"t`+strconv.Itoa(i)+`"}`)
		statuses = append(statuses, resp.StatusCode)
	}
	if want := []int{201, 201, 500, 500, 201}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	// Path patterns and method filters.
	e.srv.Inject(fakex.Fault{Method: "DELETE", Path: "/2/tweets/*", Status: 502, Times: -1})
	id := e.srv.Tweets()[0].ID
	for i := 0; i < 3; i++ {
		if resp, _ := e.do("DELETE", "/2/tweets/"+id, ""); resp.StatusCode != 502 {
			t.Fatalf("delete %d: %d", i, resp.StatusCode)
		}
	}
	if resp, _ := e.do("GET", "/2/users/me", ""); resp.StatusCode != 200 {
		t.Fatal("fault leaked to another route")
	}
	e.srv.ClearFaults()
	if resp, _ := e.do("DELETE", "/2/tweets/"+id, ""); resp.StatusCode != 200 {
		t.Fatal("ClearFaults")
	}
	log := e.srv.Requests()
	if log[2].Fault != fakex.FaultStatus || log[2].Status != 500 || log[2].TweetID != "" {
		t.Errorf("log entry %+v", log[2])
	}
}

func TestDropOverHTTPAndInProcess(t *testing.T) {
	for _, inProcess := range []bool{false, true} {
		e := newAPIEnv(t, fakex.Options{}, inProcess)
		e.srv.Inject(fakex.Fault{Method: "POST", Path: "/2/tweets", Kind: fakex.FaultCommitThenDrop})
		req, _ := http.NewRequest("POST", e.base+"/2/tweets", strings.NewReader(`{"text":"ghost"}`))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/json")
		_, err := e.hc.Do(req)
		if err == nil {
			t.Fatalf("inProcess=%v: got an answer", inProcess)
		}
		if inProcess && !errors.Is(err, fakex.ErrDropped) {
			t.Errorf("in-process error %v", err)
		}
		tw := e.srv.Tweets()
		if len(tw) != 1 || tw[0].Posted != "ghost" {
			t.Fatalf("inProcess=%v: %+v", inProcess, tw)
		}
		if r := e.srv.Requests(); !r[0].Dropped || r[0].Status != 201 || r[0].TweetID != tw[0].ID {
			t.Fatalf("log %+v", r[0])
		}
	}
}

func TestViolationsAreAnswered400(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{}, true)
	resp, body := e.do("POST", "/2/tweets", `{"text":"x","reply_to":"1"}`)
	if resp.StatusCode != 400 || body["type"] != "https://api.twitter.com/2/problems/invalid-request" {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	resp, _ = e.do("GET", "/2/users/me?user.fields=mood", "")
	if resp.StatusCode != 400 {
		t.Fatalf("bad field: %d", resp.StatusCode)
	}
	if n := len(e.srv.Violations()); n != 2 {
		t.Fatalf("violations %v", e.srv.Violations())
	}
	if len(e.srv.Tweets()) != 0 {
		t.Fatal("a violating create stored a post")
	}
	e.srv.ClearViolations()
}

// TestSandboxStrictWithoutValidator checks the fake's own checks, which
// are all the sandbox has (it runs without kin-openapi).
func TestSandboxStrictWithoutValidator(t *testing.T) {
	srv := fakex.New(fakex.Options{Clock: clock.NewFake(t0)})
	srv.AddUser(fakex.User{ID: userID, Username: "u", Name: "U"})
	tok, _, _, _ := srv.IssueToken(userID)
	hc := &http.Client{Transport: srv.Transport()}
	send := func(method, target, body string) int {
		req, _ := http.NewRequest(method, "https://api.x.com"+target, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		method, target, body string
		want                 int
	}{
		{"POST", "/2/tweets", `{"text":"ok"}`, 201},
		{"POST", "/2/tweets", `{"text":"x","extra":true}`, 400},
		{"POST", "/2/tweets", `{"text":"x","reply":{}}`, 400},
		{"POST", "/2/tweets?x=1", `{"text":"x"}`, 400},
		{"GET", "/2/users/" + userID + "/tweets?max_results=101", "", 400},
		{"DELETE", "/2/tweets/abc", "", 400},
		{"GET", "/2/nowhere", "", 404},
		{"PUT", "/2/tweets", "", 404},
	}
	for _, c := range cases {
		if got := send(c.method, c.target, c.body); got != c.want {
			t.Errorf("%s %s %s: %d, want %d", c.method, c.target, c.body, got, c.want)
		}
	}
	if n := len(srv.Violations()); n != 7 {
		t.Errorf("%d violations: %v", n, srv.Violations())
	}
}

func TestSandboxRestartKeepsStoredTokens(t *testing.T) {
	clk := clock.NewFake(t0)
	first := fakex.New(fakex.Options{Clock: clk})
	first.AddUser(fakex.User{ID: userID, Username: "u", Name: "U"})
	access, refresh, expiry, err := first.IssueToken(userID)
	if err != nil {
		t.Fatal(err)
	}
	tweet := func(srv *fakex.Server) string {
		req, _ := http.NewRequest("POST", "https://api.x.com/2/tweets", strings.NewReader(`{"text":"hi `+strconv.Itoa(len(srv.Tweets()))+`"}`))
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Transport: srv.Transport()}).Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("create: %v %v", resp, err)
		}
		resp.Body.Close()
		tw := srv.Tweets()
		return tw[len(tw)-1].ID
	}
	id1 := tweet(first)
	clk.Advance(time.Second)

	second := fakex.New(fakex.Options{Clock: clk})
	second.AddUser(fakex.User{ID: userID, Username: "u", Name: "U"})
	if err := second.RegisterToken(userID, access, refresh, expiry); err != nil {
		t.Fatal(err)
	}
	id2 := tweet(second)
	if len(id1) != 19 || len(id2) != 19 || id2 <= id1 {
		t.Fatalf("ids %s then %s: want increasing 19-digit snowflakes across restarts", id1, id2)
	}
}

// A configurable window: X's headers and 429 body, and a fresh window
// after the reset, on POST /2/tweets.
func TestRateWindowConfigurable(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{RateLimits: map[string]int{fakex.EndpointCreateTweet: 5}, RateWindow: 20 * time.Second}, true)
	start := e.clk.Now()
	for i := range 5 {
		resp, _ := e.do("POST", "/2/tweets", fmt.Sprintf(`{"text":"post %d"}`, i))
		if resp.StatusCode != 201 || resp.Header.Get("x-rate-limit-remaining") != strconv.Itoa(4-i) {
			t.Fatalf("create %d: %d remaining %s", i, resp.StatusCode, resp.Header.Get("x-rate-limit-remaining"))
		}
	}
	resp, body := e.do("POST", "/2/tweets", `{"text":"one too many"}`)
	wantReset := strconv.FormatInt(start.Add(20*time.Second).Unix(), 10)
	if resp.StatusCode != 429 || body["title"] != "Too Many Requests" || body["detail"] != "Too Many Requests" ||
		resp.Header.Get("x-rate-limit-limit") != "5" || resp.Header.Get("x-rate-limit-remaining") != "0" ||
		resp.Header.Get("x-rate-limit-reset") != wantReset {
		t.Fatalf("sixth create: %d %v %v", resp.StatusCode, body, resp.Header)
	}
	e.clk.Advance(20 * time.Second)
	if resp, _ := e.do("POST", "/2/tweets", `{"text":"next window"}`); resp.StatusCode != 201 || resp.Header.Get("x-rate-limit-remaining") != "4" {
		t.Fatalf("after the reset: %d remaining %s", resp.StatusCode, resp.Header.Get("x-rate-limit-remaining"))
	}
}
