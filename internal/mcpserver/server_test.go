package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/pricing"
	"github.com/psnd/psnd/internal/testutil"
	"github.com/psnd/psnd/internal/tweettext"
)

// session connects the SDK's client to the server in process. The client
// dials a socket nobody listens on: the daemon is down.
func session(t *testing.T) *mcp.ClientSession {
	t.Helper()
	sock := filepath.Join(testutil.ShortDir(t), "psnd.sock")
	return connect(t, New(Config{Client: apiclient.New(sock, "test"), Version: "test", TZ: "UTC"}))
}

// connect is a client's session with srv over in-memory transports, closed
// when the test ends.
func connect(t *testing.T, srv *mcp.Server) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// TestDaemonDown: every daemon-backed tool answers with an error result
// saying how to start the daemon, in the CLI's sentence.
func TestDaemonDown(t *testing.T) {
	cs := session(t)
	for name, args := range map[string]map[string]any{
		"create_post": {"text": "hello", "draft": true},
		"list_posts":  nil,
		"get_post":    {"id": 1},
		"edit_post":   {"id": 1, "text": "new"},
		"cancel_post": {"id": 1},
		"retry_post":  {"id": 1},
		"queue":       nil,
	} {
		msg, isErr := call(t, cs, name, args)
		if !isErr || !strings.HasPrefix(msg, "psnd daemon is not running") ||
			!strings.Contains(msg, "start it with `psnd serve` or `psnd service install`") {
			t.Errorf("%s without daemon: error %v, %q", name, isErr, msg)
		}
	}
}

// TestBadInput: arguments that cannot make sense are refused before the
// daemon is asked, each with one sentence saying what to give instead.
func TestBadInput(t *testing.T) {
	cs := session(t)
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"create_post", map[string]any{"text": "hi"}, "say when to publish: at (a time), queue: true, now: true, or draft: true"},
		{"create_post", map[string]any{"text": "hi", "queue": true, "at": "+1h"}, "queue goes alone"},
		{"edit_post", map[string]any{"id": 3, "queue": true, "draft": true}, "queue goes alone"},
		{"queue", map[string]any{"days": 1000}, "days 1000 is not 1..366"},
		{"create_post", map[string]any{"text": "hi", "now": true, "at": "+1h"}, "now goes alone"},
		{"create_post", map[string]any{"text": "hi", "tweets": []string{"a"}, "draft": true}, "give text or tweets, not both"},
		{"create_post", map[string]any{"text": "hi", "draft": true, "media": []map[string]any{{"path": "kite.jpg"}}}, `media 1: "kite.jpg" is not an absolute path`},
		{"edit_post", map[string]any{"id": 3}, "say what to change: text, at, queue, now or draft"},
		{"edit_post", map[string]any{"id": 3, "now": true, "at": "+1h"}, "now goes alone"},
		{"list_posts", map[string]any{"status": []string{"queued"}}, `queued does not equal any of: [draft scheduled publishing published failed retry]`}, // the schema's enum
		{"list_posts", map[string]any{"limit": 5000}, "limit 5000 is not 1..1000"},
		{"check_text", map[string]any{"text": "x", "max_length": -1}, "max_length must be positive"},
		{"split_text", map[string]any{"text": "  \n "}, ""},
		{"get_post", map[string]any{}, "id"}, // the schema requires it
	} {
		msg, isErr := call(t, cs, tc.tool, tc.args)
		if !isErr || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %v: error %v, %q; want an error with %q", tc.tool, tc.args, isErr, msg, tc.want)
		}
	}
}

// TestTextToolsAreTheCLIs: check_text and split_text answer exactly what
// tweettext answers `psnd check --json` and `psnd split --json` with, on
// text users write.
func TestTextToolsAreTheCLIs(t *testing.T) {
	cs := session(t)
	texts := []string{
		"İstanbul'da Ⱥ kite 🪁 https://example.com/a",
		strings.Repeat("東京の凧 ", 40),
		"שלום עולם — مرحبا بالعالم " + strings.Repeat("#tag ", 6),
		strings.Repeat("Ⱥİ kite ", 38) + "東京 kit",
	}
	for _, text := range texts {
		out, isErr := call(t, cs, "check_text", map[string]any{"text": text})
		if isErr {
			t.Fatalf("check_text: %s", out)
		}
		var got tweettext.Result
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if want := tweettext.Check(text, tweettext.CheckOptions{}); !reflect.DeepEqual(got, want) {
			t.Errorf("check_text %q:\n got %+v\nwant %+v", text, got, want)
		}
		out, isErr = call(t, cs, "split_text", map[string]any{"text": text, "number": true})
		if isErr {
			t.Fatalf("split_text: %s", out)
		}
		var gotSplit tweettext.SplitResult
		if err := json.Unmarshal([]byte(out), &gotSplit); err != nil {
			t.Fatal(err)
		}
		want, err := tweettext.Split(text, tweettext.SplitOptions{Number: true})
		if err != nil {
			t.Fatal(err)
		}
		if want.Warnings == nil {
			want.Warnings = gotSplit.Warnings // nil and [] are the same answer
		}
		if !reflect.DeepEqual(gotSplit, want) {
			t.Errorf("split_text %q:\n got %+v\nwant %+v", text, gotSplit, want)
		}
	}
}

// TestCheckTextSaysWhatAURLCosts: check_text tells the model, in the CLI's
// own sentence, that a text with a URL is billed at X's dearer rate, with
// the prices the user set; a text without one carries no notice.
func TestCheckTextSaysWhatAURLCosts(t *testing.T) {
	cs := session(t)
	type out struct {
		Valid       bool    `json:"valid"`
		ContainsURL bool    `json:"contains_url"`
		CostUSD     float64 `json:"cost_usd"`
		CostNotice  string  `json:"cost_notice"`
	}
	get := func(cs *mcp.ClientSession, text string) out {
		t.Helper()
		s, isErr := call(t, cs, "check_text", map[string]any{"text": text})
		if isErr {
			t.Fatalf("check_text: %s", s)
		}
		var o out
		if err := json.Unmarshal([]byte(s), &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := get(cs, "İstanbul'da Ⱥ kite 🪁 東京 example.com/a")
	want := "the text contains a URL: X bills a post with a URL $0.2 instead of $0.015; estimated cost $0.2 (psnd usage shows the month)"
	if !o.Valid || !o.ContainsURL || o.CostUSD != 0.2 || o.CostNotice != want {
		t.Errorf("with a URL: %+v\nwant the notice %q", o, want)
	}
	if want != pricing.Default.URLNotice(1, 1) {
		t.Errorf("the CLI's sentence changed: %q", pricing.Default.URLNotice(1, 1))
	}
	o = get(cs, "שלום עולם — no link here, just İ and 🪁")
	if o.ContainsURL || o.CostNotice != "" || o.CostUSD != 0.015 {
		t.Errorf("without a URL: %+v", o)
	}

	// The user's prices ($PSN_HOME/prices.json) are the ones quoted.
	srv := New(Config{Client: apiclient.New(filepath.Join(testutil.ShortDir(t), "psnd.sock"), "test"), Version: "test", TZ: "UTC",
		Prices: func() pricing.Table { p := pricing.Default; p.PostWithURL = 0.5; return p }})
	cs2 := connect(t, srv)
	if o := get(cs2, "see https://example.com"); o.CostUSD != 0.5 || !strings.Contains(o.CostNotice, "$0.5 instead of $0.015") {
		t.Errorf("with the user's prices: %+v", o)
	}
}

// TestHintNamesTheTool: an error in the CLI's words keeps its sentence
// whole and adds the tool (and argument) that does the same here, for
// every command the daemon's sentences suggest that a tool does.
func TestHintNamesTheTool(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"Tweet is 312/280 characters; split it into a thread with `psnd post --thread`",
			" (here: set thread: true, or preview the split with split_text)"},
		{"Tweet is 349/280 characters; split it into a thread with `psnd edit 1 --thread`",
			" (here: set thread: true, or preview the split with split_text)"},
		{"post 1 is a draft, so there is nothing to retry; to publish it, run `psnd edit 1 --now` (or --at WHEN)",
			" (here: edit_post with id 1 and now: true, or at)"},
		{"post 4 is scheduled and has not failed, so there is nothing to retry; to publish it now, run `psnd edit 4 --now`",
			" (here: edit_post with id 4 and now: true)"},
		{"post 9 is partly published on X; its text can no longer change (retry it with `psnd retry 9`)",
			" (here: retry_post with id 9)"},
		{"psnd cannot tell yet whether post 5 reached X (its last request went unanswered), so it cannot be edited; `psnd retry 5` checks X first",
			" (here: retry_post with id 5)"},
		{"post 7 has not settled yet and continues when psnd starts again (see `psnd show 7`)",
			" (here: get_post with id 7)"},
		{"post 6 is already published and cannot be edited (delete it with `psnd delete 6`)", ""},
		{`cursor "bogus" is not one this daemon gave (pass X-Next-Cursor as it came)`,
			" (here: give cursor as a previous list_posts answer's next_cursor, or omit it for the first page)"},
	} {
		got := hint(&api.Error{Code: api.CodeConflict, Message: tc.msg}).Error()
		if got != tc.msg+tc.want {
			t.Errorf("hint(%q)\n got %q\nwant %q", tc.msg, got, tc.msg+tc.want)
		}
	}
	// Not the daemon's sentence: left alone.
	if err := errors.New("at: `psnd retry 3` is not a time"); hint(err) != err {
		t.Errorf("hint changed a local error: %v", hint(err))
	}
}

// TestListStatusesAreAnEnum: list_posts's schema lists the statuses as an
// enum, so that a client offers them and a model need not guess; a status
// outside it is refused with the valid ones named.
func TestListStatusesAreAnEnum(t *testing.T) {
	cs := session(t)
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if tl.Name != "list_posts" {
			continue
		}
		b, _ := json.Marshal(tl.InputSchema)
		var s struct {
			Properties map[string]struct {
				Items struct {
					Enum []string `json:"enum"`
				} `json:"items"`
				Description string `json:"description"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		st := s.Properties["status"]
		if !reflect.DeepEqual(st.Items.Enum, api.Statuses) || st.Description == "" {
			t.Errorf("list_posts status schema: %s; want items with enum %v and a description", b, api.Statuses)
		}
	}
	msg, isErr := call(t, cs, "list_posts", map[string]any{"status": []string{"queued"}})
	if !isErr || !strings.Contains(msg, "queued") || !strings.Contains(msg, strings.Join(api.Statuses, " ")) {
		t.Errorf("list_posts status queued: %v %q", isErr, msg)
	}
}

// TestDaemonOfAnotherVersion: when the daemon runs another psnd, an error
// it answers says so and what to restart, as the CLI warns: a daemon
// older than the server refuses fields it does not know, and the model
// could not tell why.
func TestDaemonOfAnotherVersion(t *testing.T) {
	c := fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.VersionHeader, "0.9")
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == api.PathHealth {
			io.WriteString(w, `{"version":"0.9","timezone":"UTC"}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":"bad_request","message":"unknown field \"queue\""}}`)
	})
	srv := New(Config{Client: c, Version: "1.0", TZ: "UTC"})
	cs := connect(t, srv)
	want := `unknown field "queue" (the daemon runs psnd 0.9, this server psnd 1.0: restart the daemon, and the assistant's MCP client if psnd was upgraded since it started)`
	for name, args := range map[string]map[string]any{
		"create_post": {"text": "İ 東京", "queue": true},
		"list_posts":  nil,
		"cancel_post": {"id": 3},
		"queue":       nil,
	} {
		if msg, isErr := call(t, cs, name, args); !isErr || msg != want {
			t.Errorf("%s: error %v, %q\nwant %q", name, isErr, msg, want)
		}
	}
}

// TestNowKeepsWarnings: create_post and edit_post with now: true answer
// the settled post with the warnings the daemon gave when it took it (a
// near-duplicate, many hashtags), as without now: waiting for the
// result used to drop them.
func TestNowKeepsWarnings(t *testing.T) {
	const warning = "7 hashtags (more than 5); X may treat such posts as spam"
	c := jsonDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		taken := api.Post{ID: 5, Account: "sandbox", Status: api.StatusScheduled, Warnings: []string{warning},
			Tweets: []api.Tweet{{Text: "#a #b #c #d #e #f #g İ"}}}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/posts/5":
			taken.Status, taken.Warnings = api.StatusPublished, nil
			json.NewEncoder(w).Encode(taken)
		case r.Method == http.MethodPost || r.Method == http.MethodPatch:
			json.NewEncoder(w).Encode(taken)
		default:
			http.NotFound(w, r)
		}
	})
	srv := New(Config{Client: c, Version: "test", TZ: "UTC"})
	cs := connect(t, srv)
	for name, args := range map[string]map[string]any{
		"create_post": {"text": "#a #b #c #d #e #f #g İ", "now": true},
		"edit_post":   {"id": 5, "now": true},
	} {
		out, isErr := call(t, cs, name, args)
		var p api.Post
		if isErr || json.Unmarshal([]byte(out), &p) != nil {
			t.Fatalf("%s: error %v, %s", name, isErr, out)
		}
		if p.Status != api.StatusPublished || !slices.Equal(p.Warnings, []string{warning}) {
			t.Errorf("%s now: status %s, warnings %q; want published with %q", name, p.Status, p.Warnings, warning)
		}
	}
}

// TestPostTimesInTheUsersZone: every answer holding a post gives its times
// in the user's zone too, as the model tells them to the user: at is read
// in that zone, and the model cannot know it to turn scheduled_at (UTC)
// back into the time the user asked for. Here a Berlin user on the
// spring-forward night: 02:30 does not exist and is 03:30 CEST.
func TestPostTimesInTheUsersZone(t *testing.T) {
	sched := time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC)
	pub := time.Date(2027, 3, 27, 9, 55, 0, 0, time.UTC)
	post := api.Post{ID: 5, Account: "sandbox", Status: api.StatusScheduled, ScheduledAt: &sched,
		Tweets: []api.Tweet{{Text: "İ 東京 🪁"}}}
	published := post
	published.ID, published.Status, published.PublishedAt = 6, api.StatusPublished, &pub
	c := jsonDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == api.PathHealth:
			io.WriteString(w, `{"version":"test","timezone":"Europe/Berlin"}`)
		case r.Method == http.MethodGet && r.URL.Path == api.PathPosts:
			json.NewEncoder(w).Encode([]api.Post{post, published})
		default:
			json.NewEncoder(w).Encode(post)
		}
	})
	now := time.Date(2027, 3, 27, 12, 0, 0, 0, time.UTC)
	srv := New(Config{Client: c, Version: "test", Now: func() time.Time { return now }})
	cs := connect(t, srv)
	type local struct {
		ID               int64  `json:"id"`
		ScheduledAtLocal string `json:"scheduled_at_local"`
		PublishedAtLocal string `json:"published_at_local"`
	}
	const wantSched = "Sun 2027-03-28 03:30 CEST (in 13h)"
	for name, args := range map[string]map[string]any{
		"create_post": {"text": "İ 東京 🪁", "at": "2027-03-28 02:30"},
		"edit_post":   {"id": 5, "at": "2027-03-28 02:30"},
		"get_post":    {"id": 5},
		"cancel_post": {"id": 5},
	} {
		out, isErr := call(t, cs, name, args)
		var p local
		if isErr || json.Unmarshal([]byte(out), &p) != nil {
			t.Fatalf("%s: error %v, %s", name, isErr, out)
		}
		if p.ScheduledAtLocal != wantSched || p.PublishedAtLocal != "" {
			t.Errorf("%s: %+v; want scheduled_at_local %q", name, p, wantSched)
		}
	}
	out, isErr := call(t, cs, "list_posts", nil)
	var list struct{ Posts []local }
	if isErr || json.Unmarshal([]byte(out), &list) != nil || len(list.Posts) != 2 {
		t.Fatalf("list_posts: error %v, %s", isErr, out)
	}
	if got := list.Posts[1]; got.PublishedAtLocal != "Sat 2027-03-27 10:55 CET (2h5m ago)" || got.ScheduledAtLocal != wantSched {
		t.Errorf("list_posts: %+v", list.Posts)
	}
}

// TestIDAsString: a model often gives a post's id as "12", the way it
// reads ids in text; that id (here " 012") is taken as 12, while one that is not a
// number is still refused by the schema.
func TestIDAsString(t *testing.T) {
	cs := session(t)
	for _, name := range []string{"get_post", "edit_post", "cancel_post", "retry_post"} {
		args := map[string]any{"id": " 012"}
		if name == "edit_post" {
			args["at"] = "+1h"
		}
		// Past the schema: the daemon (down here) is asked.
		if msg, isErr := call(t, cs, name, args); !isErr || !strings.HasPrefix(msg, "psnd daemon is not running") {
			t.Errorf("%s id %q: error %v, %q; want it taken as 12", name, args["id"], isErr, msg)
		}
	}
	if msg, isErr := call(t, cs, "get_post", map[string]any{"id": "twelve"}); !isErr || !strings.Contains(msg, `want "integer"`) {
		t.Errorf("get_post id \"twelve\": error %v, %q", isErr, msg)
	}
}

// TestThreadStoppedPartWay: a thread that failed part-way, published at
// once, is reported with what can be done: retry_post resumes it, while
// edit_post can no longer change its text.
func TestThreadStoppedPartWay(t *testing.T) {
	partial, reason := api.SubThreadPartial, "X is over capacity"
	c := jsonDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.Post{ID: 8, Status: api.StatusFailed, SubStatus: &partial, FailReason: &reason,
			Tweets: []api.Tweet{{Text: "İ one"}, {Text: "東京 two"}}})
	})
	srv := New(Config{Client: c, Version: "test", TZ: "UTC"})
	cs := connect(t, srv)
	want := "post 8 failed: X is over capacity (the thread stopped part-way: retry_post resumes it after the last tweet X accepted; its text can no longer change)"
	for name, args := range map[string]map[string]any{
		"create_post": {"tweets": []string{"İ one", "東京 two"}, "now": true},
		"retry_post":  {"id": 8},
	} {
		if msg, isErr := call(t, cs, name, args); !isErr || msg != want {
			t.Errorf("%s: error %v, %q\nwant %q", name, isErr, msg, want)
		}
	}
}

// TestQueueSlotsInTheUsersZone: the queue tool gives each slot's instant
// in its zone, date included, as the model tells it to the user: a
// 00:30 Tokyo slot falls on the UTC day before.
func TestQueueSlotsInTheUsersZone(t *testing.T) {
	at := time.Date(2027, 1, 14, 15, 30, 0, 0, time.UTC)
	c := jsonDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.PathHealth:
			io.WriteString(w, `{"version":"test","timezone":"Asia/Tokyo"}`)
		case api.PathQueue:
			json.NewEncoder(w).Encode(api.Queue{Slots: []api.QueueSlot{{At: at, Account: "sandbox", SlotID: 1, Time: "00:30", Zone: "Asia/Tokyo"}}})
		default:
			http.NotFound(w, r)
		}
	})
	now := time.Date(2027, 1, 14, 12, 0, 0, 0, time.UTC)
	srv := New(Config{Client: c, Version: "test", Now: func() time.Time { return now }})
	cs := connect(t, srv)
	out, isErr := call(t, cs, "queue", nil)
	var q struct {
		Slots []struct {
			At      time.Time `json:"at"`
			Time    string    `json:"time"`
			AtLocal string    `json:"at_local"`
		} `json:"slots"`
	}
	if isErr || json.Unmarshal([]byte(out), &q) != nil || len(q.Slots) != 1 {
		t.Fatalf("queue: error %v, %s", isErr, out)
	}
	if s := q.Slots[0]; !s.At.Equal(at) || s.Time != "00:30" || s.AtLocal != "Fri 2027-01-15 00:30 JST (in 3h30m)" {
		t.Errorf("queue slot: %+v", s)
	}
}

// jsonDaemon is fakeDaemon answering as a daemon of version "test" does:
// JSON, with its version header.
func jsonDaemon(t *testing.T, handler http.HandlerFunc) *apiclient.Client {
	return fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.VersionHeader, "test")
		w.Header().Set("Content-Type", "application/json")
		handler(w, r)
	})
}
