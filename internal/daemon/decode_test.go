package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
)

// rawClient speaks HTTP over the daemon's socket with bodies exactly as
// given: the API client encodes with encoding/json, which would itself
// repair the invalid input these tests send.
func rawClient(socket string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
}

// rawCall sends body and returns the status and the API error, if any.
func rawCall(t *testing.T, c *http.Client, method, path string, body io.Reader) (int, api.Error) {
	t.Helper()
	req, err := http.NewRequest(method, "http://psnd"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var eb api.ErrorBody
	if resp.StatusCode >= 300 {
		if err := json.Unmarshal(b, &eb); err != nil {
			t.Fatalf("%s %s: %d with a body that is not an API error: %q", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, eb.Error
}

// hugeBody is {"text":"aaaa…"} of n bytes, made as it is read.
func hugeBody(n int64) io.Reader {
	return io.MultiReader(strings.NewReader(`{"draft":true,"text":"`),
		io.LimitReader(repeatReader('a'), n), strings.NewReader(`"}`))
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func tweetsBody(n int) string {
	b, _ := json.Marshal(api.CreatePost{Tweets: lines(n, "tweet %d"), Draft: true})
	return string(b)
}

// TestBadBodiesRefused: every kind of bad input gets one clear API error
// and leaves the database as it was.
func TestBadBodiesRefused(t *testing.T) {
	h := newHarness(t)
	h.start()
	draft := h.create(api.CreatePost{Text: "kept as is İ", Draft: true})
	c := rawClient(h.cfg.Env.SocketPath())
	patch := fmt.Sprintf("/v1/posts/%d", draft.ID)

	cases := []struct {
		name, method, path string
		body               io.Reader
		status             int
		code, msg          string
	}{
		{"invalid UTF-8", "POST", "/v1/posts", strings.NewReader("{\"text\":\"caf\xe9\",\"draft\":true}"), 400, api.CodeBadRequest, "not valid UTF-8 (at byte 12)"},
		{"invalid UTF-8 in edit", "PATCH", patch, strings.NewReader("{\"text\":\"\xff\xfe\"}"), 400, api.CodeBadRequest, "not valid UTF-8"},
		{"UTF-8 encoded surrogate", "POST", "/v1/posts", strings.NewReader("{\"text\":\"\xed\xa0\x80\",\"draft\":true}"), 400, api.CodeBadRequest, "not valid UTF-8"},
		{"lone high surrogate", "POST", "/v1/posts", strings.NewReader(`{"text":"a\ud800b","draft":true}`), 400, api.CodeBadRequest, `\ud800 at byte 10 is half of a UTF-16 surrogate pair`},
		{"lone low surrogate", "POST", "/v1/posts", strings.NewReader(`{"text":"\uDC00","draft":true}`), 400, api.CodeBadRequest, `\uDC00`},
		{"high surrogate at the end", "POST", "/v1/posts", strings.NewReader(`{"draft":true,"text":"emoji \ud83d"}`), 400, api.CodeBadRequest, `\ud83d`},
		{"pair the wrong way round", "POST", "/v1/posts", strings.NewReader(`{"text":"\ude00\ud83d","draft":true}`), 400, api.CodeBadRequest, `\ude00`},
		{"surrogate after an escaped backslash pair", "POST", "/v1/posts", strings.NewReader(`{"text":"\\\ud800","draft":true}`), 400, api.CodeBadRequest, `\ud800`},
		{"surrogate in a tweet", "POST", "/v1/posts", strings.NewReader(`{"tweets":["ok","\ud800"],"draft":true}`), 400, api.CodeBadRequest, "surrogate"},
		{"surrogate in edit", "PATCH", patch, strings.NewReader(`{"text":"x\udfff"}`), 400, api.CodeBadRequest, "surrogate"},
		{"trailing object", "POST", "/v1/posts", strings.NewReader(`{"text":"one","draft":true} {"text":"two","draft":true}`), 400, api.CodeBadRequest, "data after the JSON value"},
		{"trailing garbage", "POST", "/v1/posts", strings.NewReader(`{"text":"one","draft":true}x`), 400, api.CodeBadRequest, "data after the JSON value"},
		{"trailing data in edit", "PATCH", patch, strings.NewReader(`{"text":"new"}]`), 400, api.CodeBadRequest, "data after the JSON value"},
		{"empty body", "POST", "/v1/posts", strings.NewReader(""), 400, api.CodeBadRequest, "empty"},
		{"10,000 tweets", "POST", "/v1/posts", strings.NewReader(tweetsBody(10000)), 422, api.CodeInvalidText, "the thread has 10000 tweets; psnd posts at most 25"},
		{"26 tweets", "POST", "/v1/posts", strings.NewReader(tweetsBody(26)), 422, api.CodeInvalidText, "at most 25"},
		{"26 parts of a text", "POST", "/v1/posts", strings.NewReader(mustJSON(api.CreatePost{Text: strings.Join(lines(26, "part %d"), "\n---\n"), Draft: true})), 422, api.CodeInvalidText, "has 26 tweets"},
		{"auto-split into too many", "POST", "/v1/posts", strings.NewReader(mustJSON(api.CreatePost{Text: strings.Repeat("Ⱥ word. ", 1200), Thread: true, Draft: true})), 422, api.CodeInvalidText, "at most 25"},
		{"edit into 26 tweets", "PATCH", patch, strings.NewReader(mustJSON(api.EditPost{Text: ptr(strings.Join(lines(26, "part %d"), "\n---\n"))})), 422, api.CodeInvalidText, "has 26 tweets"},
		{"100 MB", "POST", "/v1/posts", hugeBody(100 << 20), 413, api.CodeTooLarge, "request body is too large: the limit is 4 MiB"},
		{"100 MB edit", "PATCH", patch, hugeBody(100 << 20), 413, api.CodeTooLarge, "too large"},
		{"login timeout of an hour", "POST", "/v1/auth/login", strings.NewReader(`{"timeout_ms":3600000}`), 400, api.CodeBadRequest, "timeout_ms must be between 0 (the default, two minutes) and 600000 (ten minutes), not 3600000"},
		{"login timeout that overflows", "POST", "/v1/auth/login", strings.NewReader(`{"timeout_ms":9223372036854775807}`), 400, api.CodeBadRequest, "timeout_ms must be between"},
		{"auth body with a surrogate", "POST", "/v1/auth/logout", strings.NewReader(`{"account":"\ud800"}`), 400, api.CodeBadRequest, "surrogate"},
		{"auth body with trailing data", "POST", "/v1/auth/logout", strings.NewReader(`{"account":"alice"}{}`), 400, api.CodeBadRequest, "data after the JSON value"},
		{"auth body too large", "PUT", "/v1/app", hugeBody(100 << 20), 413, api.CodeTooLarge, "too large"},
	}
	for _, tc := range cases {
		status, e := rawCall(t, c, tc.method, tc.path, tc.body)
		if status != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) || strings.Contains(e.Message, "\n") {
			t.Errorf("%s: %d %+v; want %d %s containing %q", tc.name, status, e, tc.status, tc.code, tc.msg)
		}
	}

	var posts []api.Post
	if err := h.call(http.MethodGet, "/v1/posts", nil, &posts); err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || posts[0].RunID != draft.RunID || len(posts[0].Tweets) != 1 || posts[0].Tweets[0].Text != "kept as is İ" {
		t.Fatalf("bad input changed the database: %d posts (want 1, unchanged)", len(posts))
	}

	// What is valid still passes: a real pair, an escaped backslash before
	// "ud800", and a thread of exactly the limit.
	for _, tc := range []struct{ body, want string }{
		{`{"text":"bird \ud83d\udc26\u200d\ud83d\udd25","draft":true}`, "bird 🐦\u200d🔥"},
		{`{"text":"a \\ud800 b","draft":true}`, `a \ud800 b`},
		{`{"text":"\\\\\ud83d\ude00","draft":true}`, `\\😀`},
	} {
		var p api.Post
		if err := rawJSON(c, tc.body, &p); err != nil || p.Tweets[0].Text != tc.want {
			t.Errorf("%s: %v %+v", tc.body, err, p)
		}
	}
	var p api.Post
	if err := rawJSON(c, tweetsBody(api.MaxThreadTweets), &p); err != nil || len(p.Tweets) != api.MaxThreadTweets {
		t.Errorf("thread of %d: %v", api.MaxThreadTweets, err)
	}
}

func rawJSON(c *http.Client, body string, out any) error {
	resp, err := c.Post("http://psnd/v1/posts", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
