package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/tweettext"
)

// readmeMCPArgs returns the args of the MCP client configuration the
// README shows (section "AI assistants"), checking that its command is
// psnd: the test starts the server exactly as a user registers it.
func readmeMCPArgs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## AI assistants\n")
	_, block, ok2 := strings.Cut(sec, "```json\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no JSON snippet in its \"AI assistants\" section")
	}
	var conf struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal([]byte(block), &conf); err != nil {
		t.Fatalf("README's MCP configuration is not JSON: %v", err)
	}
	s, ok := conf.MCPServers["psnd"]
	if !ok || s.Command != "psnd" {
		t.Fatalf("README's MCP configuration: %+v; want server psnd with command psnd", conf)
	}
	return s.Args
}

// mcpSession starts the server as the README registers it, with the
// binary under test as psnd, and connects the SDK's client to it over the
// process's stdin and stdout.
func mcpSession(t *testing.T, ctx context.Context, environ []string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(psndBin, readmeMCPArgs(t)...)
	cmd.Env = environ
	client := mcp.NewClient(&mcp.Implementation{Name: "psnd-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect to psnd mcp: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// callTool calls a tool and returns its text and whether it is an error
// result. A protocol error fails the test: psnd reports every problem as
// a tool result the model can read.
func callTool(t *testing.T, ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
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

// callJSON calls a tool that must succeed and decodes its answer.
func callJSON(t *testing.T, ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any, v any) {
	t.Helper()
	text, isErr := callTool(t, ctx, cs, name, args)
	if isErr {
		t.Fatalf("%s %v: error result: %s", name, args, text)
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("%s: bad JSON %v: %s", name, err, text)
	}
}

// TestMCPEndToEnd drives `psnd mcp` as an assistant would, with the
// official SDK's client over a real stdio pipe, against a real sandbox
// daemon: a too-long text, a thread created, listed, edited, cancelled,
// and a daemon that went away.
func TestMCPEndToEnd(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=UTC"}
	d := startDaemonArgs(t, environ, "serve", "--sandbox")
	stopped := false
	defer func() {
		if !stopped {
			d.stop(t)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The assistant's user lives in Tokyo: times are read there.
	mcpEnv := append(slices.Clone(environ[:3]), "PSN_TZ=Asia/Tokyo")
	cs := mcpSession(t, ctx, mcpEnv)

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
		if tl.Description == "" || tl.InputSchema == nil {
			t.Errorf("tool %s has no description or input schema", tl.Name)
		}
	}
	slices.Sort(names)
	want := []string{"cancel_post", "check_text", "create_post", "edit_post", "get_post", "list_posts", "queue", "retry_post", "split_text"}
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}

	// A text of 312 as X counts it (İ and Ⱥ 1 each, 東京 2 each).
	long := strings.Repeat("Ⱥİ kite ", 38) + "東京 kit"
	if n := tweettext.WeightedLength(long); n != 312 {
		t.Fatalf("test text weighs %d, want 312", n)
	}
	var check tweettext.Result
	callJSON(t, ctx, cs, "check_text", map[string]any{"text": long}, &check)
	if check.Valid || check.WeightedLength != 312 || len(check.Errors) == 0 || !strings.HasPrefix(check.Errors[0], "Tweet is 312/280 characters") {
		t.Fatalf("check_text of 312: %+v", check)
	}
	msg, isErr := callTool(t, ctx, cs, "create_post", map[string]any{"text": long, "draft": true})
	if !isErr || !strings.Contains(msg, "Tweet is 312/280 characters") || !strings.Contains(msg, "thread: true") {
		t.Fatalf("create_post of 312 without thread: error %v, %q; want an error naming the count and thread: true", isErr, msg)
	}
	t.Logf("too long: %s", msg)
	var split tweettext.SplitResult
	callJSON(t, ctx, cs, "split_text", map[string]any{"text": long, "number": true}, &split)
	if len(split.Tweets) != 2 || !strings.HasSuffix(split.Tweets[0].Text, " 1/2") {
		t.Fatalf("split_text: %+v", split)
	}

	// The same text as a thread, split as split_text previewed, at a
	// Tokyo wall time.
	var created struct {
		api.Post
		ScheduledAtLocal string `json:"scheduled_at_local"`
	}
	callJSON(t, ctx, cs, "create_post", map[string]any{"text": long, "thread": true, "number": true, "at": "2027-01-15 09:30"}, &created)
	p := created.Post
	wantAt := time.Date(2027, 1, 15, 0, 30, 0, 0, time.UTC)
	if p.Status != api.StatusScheduled || p.ScheduledAt == nil || !p.ScheduledAt.Equal(wantAt) || len(p.Tweets) != 2 {
		t.Fatalf("create_post thread: %+v", p)
	}
	// The answer says the time as the user gave it, for the model to repeat.
	if !strings.HasPrefix(created.ScheduledAtLocal, "Fri 2027-01-15 09:30 JST (in ") {
		t.Errorf("create_post thread: scheduled_at_local %q", created.ScheduledAtLocal)
	}
	for i, tw := range p.Tweets {
		if tw.Text != split.Tweets[i].Text {
			t.Errorf("tweet %d stored %q, split_text previewed %q", i+1, tw.Text, split.Tweets[i].Text)
		}
	}
	// An explicit thread, tweet by tweet, saved as a draft.
	var draft api.Post
	callJSON(t, ctx, cs, "create_post", map[string]any{"tweets": []string{"مرحبا 🪁", "second İ"}, "draft": true}, &draft)
	if draft.Status != api.StatusDraft || len(draft.Tweets) != 2 || draft.Tweets[0].Text != "مرحبا 🪁" {
		t.Fatalf("create_post tweets: %+v", draft)
	}
	// A tweet with a URL is billed at X's dearer rate: create_post says so,
	// in the CLI's sentence, as check_text and split_text do; a post
	// without one carries no notice.
	var costed struct {
		api.Post
		CostNotice string `json:"cost_notice"`
	}
	callJSON(t, ctx, cs, "create_post", map[string]any{"tweets": []string{"Kites 🪁 example.com/kites", "no link, İ"}, "draft": true}, &costed)
	if !strings.HasPrefix(costed.CostNotice, "1 of 2 tweets") || !strings.Contains(costed.CostNotice, "$0.2 instead of $0.015") {
		t.Errorf("create_post with a URL: cost_notice %q", costed.CostNotice)
	}
	if out, _ := callTool(t, ctx, cs, "create_post", map[string]any{"text": "東京 no link", "draft": true}); strings.Contains(out, "cost_notice") {
		t.Errorf("create_post without a URL carries a cost notice: %s", out)
	}
	var splitCost struct {
		ContainsURL bool    `json:"contains_url"`
		CostUSD     float64 `json:"cost_usd"`
		CostNotice  string  `json:"cost_notice"`
	}
	callJSON(t, ctx, cs, "split_text", map[string]any{"text": "see https://example.com/a\n---\nİ and 東京"}, &splitCost)
	if !splitCost.ContainsURL || splitCost.CostUSD != 0.215 || splitCost.CostNotice == "" {
		t.Errorf("split_text with a URL: %+v", splitCost)
	}

	var list struct {
		Posts      []api.Post `json:"posts"`
		NextCursor string     `json:"next_cursor"`
	}
	callJSON(t, ctx, cs, "list_posts", map[string]any{"status": []string{"scheduled"}}, &list)
	if len(list.Posts) != 1 || list.Posts[0].ID != p.ID || list.NextCursor != "" {
		t.Fatalf("list_posts scheduled: %+v", list)
	}
	// Paged: one at a time, the cursor leads to the other.
	callJSON(t, ctx, cs, "list_posts", map[string]any{"limit": 1}, &list)
	if len(list.Posts) != 1 || list.NextCursor == "" {
		t.Fatalf("list_posts limit 1: %+v", list)
	}
	first := list.Posts[0].ID
	callJSON(t, ctx, cs, "list_posts", map[string]any{"limit": 1, "cursor": list.NextCursor}, &list)
	if len(list.Posts) != 1 || list.Posts[0].ID == first {
		t.Fatalf("list_posts second page: %+v", list)
	}
	if msg, isErr := callTool(t, ctx, cs, "list_posts", map[string]any{"status": []string{"sent"}}); !isErr || !strings.Contains(msg, "draft scheduled") {
		t.Fatalf("list_posts bad status: %v %q", isErr, msg)
	}

	var edited api.Post
	callJSON(t, ctx, cs, "edit_post", map[string]any{"id": p.ID, "text": "Kites over 東京 ---\n\nİ edited", "at": "2027-01-16 07:00"}, &edited)
	if edited.ScheduledAt == nil || !edited.ScheduledAt.Equal(time.Date(2027, 1, 15, 22, 0, 0, 0, time.UTC)) ||
		len(edited.Tweets) != 1 || edited.Tweets[0].Text != "Kites over 東京 ---\n\nİ edited" {
		t.Fatalf("edit_post: %+v", edited)
	}
	if msg, isErr := callTool(t, ctx, cs, "edit_post", map[string]any{"id": p.ID, "at": "2020-01-01 09:00"}); !isErr || !strings.Contains(msg, "in the past") {
		t.Fatalf("edit_post in the past: %v %q", isErr, msg)
	}

	var cancelled api.Post
	callJSON(t, ctx, cs, "cancel_post", map[string]any{"id": p.ID}, &cancelled)
	if cancelled.Status != api.StatusDraft {
		t.Fatalf("cancel_post: %+v", cancelled)
	}
	// The daemon's sentences name CLI commands; each error also names the
	// tool that does the same.
	if msg, isErr := callTool(t, ctx, cs, "edit_post", map[string]any{"id": p.ID, "text": long}); !isErr ||
		!strings.Contains(msg, "Tweet is 312/280 characters") || !strings.Contains(msg, "thread: true") {
		t.Fatalf("edit_post of 312 without thread: error %v, %q; want an error naming the count and thread: true", isErr, msg)
	}
	if msg, isErr := callTool(t, ctx, cs, "retry_post", map[string]any{"id": p.ID}); !isErr ||
		!strings.Contains(msg, fmt.Sprintf("(here: edit_post with id %d and now: true, or at)", p.ID)) {
		t.Fatalf("retry_post of a draft: error %v, %q; want it to name edit_post", isErr, msg)
	}
	var got api.Post
	callJSON(t, ctx, cs, "get_post", map[string]any{"id": p.ID}, &got)
	if got.Status != api.StatusDraft || got.Tweets[0].Text != edited.Tweets[0].Text {
		t.Fatalf("get_post after cancel: %+v", got)
	}
	if msg, isErr := callTool(t, ctx, cs, "get_post", map[string]any{"id": 99999}); !isErr || msg == "" {
		t.Fatalf("get_post of a missing post: %v %q", isErr, msg)
	}

	// The queue: without slots, create_post queue: true says how to add
	// one; with a slot, the cancelled post queued again fills it, and the
	// queue tool shows it there.
	if msg, isErr := callTool(t, ctx, cs, "create_post", map[string]any{"text": "queued 🪁", "queue": true}); !isErr || !strings.Contains(msg, "psnd slots add") {
		t.Fatalf("create_post queue without slots: %v %q", isErr, msg)
	}
	// Six hours ahead, so that the post is not published during the test.
	hm := time.Now().UTC().Add(6 * time.Hour).Format("15:04")
	if out, errs, code := run(t, environ, "", "slots", "add", "daily "+hm); code != 0 {
		t.Fatalf("slots add: exit %d %s %s", code, out, errs)
	}
	var queued api.Post
	callJSON(t, ctx, cs, "edit_post", map[string]any{"id": p.ID, "queue": true}, &queued)
	if queued.Status != api.StatusScheduled || queued.ScheduledAt == nil || queued.ScheduledAt.UTC().Format("15:04") != hm {
		t.Fatalf("edit_post queue: %+v", queued)
	}
	var q api.Queue
	callJSON(t, ctx, cs, "queue", map[string]any{"days": 2}, &q)
	if len(q.Slots) < 1 || q.Slots[0].PostID == nil || *q.Slots[0].PostID != p.ID || q.Slots[0].Excerpt == "" {
		t.Fatalf("queue: %+v", q)
	}
	callJSON(t, ctx, cs, "cancel_post", map[string]any{"id": p.ID}, &cancelled)

	// now publishes at once (to the sandbox's offline X) and waits for it.
	var pub api.Post
	callJSON(t, ctx, cs, "create_post", map[string]any{"text": "Published from an assistant 🪁 İ", "now": true}, &pub)
	if pub.Status != api.StatusPublished || len(pub.PlatformPostIDs) != 1 {
		t.Fatalf("create_post now: %+v", pub)
	}
	if msg, isErr := callTool(t, ctx, cs, "retry_post", map[string]any{"id": pub.ID}); !isErr || msg == "" {
		t.Fatalf("retry_post of a published post: %v %q", isErr, msg)
	} else {
		t.Logf("retry of a published post: %s", msg)
	}

	// The daemon goes away: the tools say how to start it, the text tools
	// still work.
	d.stop(t)
	stopped = true
	if msg, isErr := callTool(t, ctx, cs, "list_posts", nil); !isErr || !strings.Contains(msg, "psnd serve") || !strings.Contains(msg, "psnd service install") {
		t.Fatalf("list_posts without daemon: %v %q", isErr, msg)
	}
	callJSON(t, ctx, cs, "check_text", map[string]any{"text": "still here"}, &check)
	if !check.Valid {
		t.Fatalf("check_text without daemon: %+v", check)
	}
}
