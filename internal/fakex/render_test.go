package fakex_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
)

func TestRenderAsX(t *testing.T) {
	n := 0
	next := func() string { n++; return fmt.Sprintf("https://t.co/%010d", n) }
	text, ents := fakex.Render("İstanbul & <b> example.com/Yol, https://Example.COM/a?b=1&c=2.", "https://x.com/u/status/9/photo/1", next)
	want := "İstanbul &amp; &lt;b&gt; https://t.co/0000000001, https://t.co/0000000002. https://t.co/0000000003"
	if text != want {
		t.Fatalf("rendered\n%q, want\n%q", text, want)
	}
	wantExp := []string{"http://example.com/Yol", "https://Example.COM/a?b=1&c=2", "https://x.com/u/status/9/photo/1"}
	rs := []rune(text)
	for i, e := range ents {
		if string(rs[e.Start:e.End]) != e.URL || e.ExpandedURL != wantExp[i] {
			t.Errorf("entity %d = %+v (text there %q), want expanded %q", i, e, string(rs[e.Start:e.End]), wantExp[i])
		}
	}
	if len(ents) != 3 || ents[2].DisplayURL != "pic.x.com/0000000003" || ents[0].DisplayURL != "example.com/Yol" {
		t.Errorf("entities %+v", ents)
	}
}

// TestCreateReturnsRendering: X answers and stores the rendered text, and
// the timeline's entities map each link back.
func TestCreateReturnsRendering(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{}, false)
	resp, out := e.do(http.MethodPost, "/2/tweets", `{"text":"ȺȺȺȺ https://example.com & more"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", resp.StatusCode, out)
	}
	text := out["data"].(map[string]any)["text"].(string)
	if !strings.HasPrefix(text, "ȺȺȺȺ https://t.co/") || !strings.HasSuffix(text, " &amp; more") || len([]rune(text)) != 5+23+len(" &amp; more") {
		t.Fatalf("created text %q", text)
	}
	_, page := e.do(http.MethodGet, "/2/users/"+userID+"/tweets?tweet.fields=entities", "")
	tw := page["data"].([]any)[0].(map[string]any)
	u := tw["entities"].(map[string]any)["urls"].([]any)[0].(map[string]any)
	if u["start"].(float64) != 5 || u["end"].(float64) != 28 || u["expanded_url"] != "https://example.com" || u["display_url"] != "example.com" {
		t.Fatalf("entity %v", u)
	}
}

// TestUserTweetsWindowAndPaging: start_time, end_time, since_id and
// until_id bound the timeline (the ids take precedence), max_results pages
// it newest first, and pagination_token continues.
func TestUserTweetsWindowAndPaging(t *testing.T) {
	e := newAPIEnv(t, fakex.Options{}, false)
	var ids []string
	var times []time.Time
	for i := range 12 {
		_, out := e.do(http.MethodPost, "/2/tweets", fmt.Sprintf(`{"text":"post %d"}`, i))
		ids = append(ids, out["data"].(map[string]any)["id"].(string))
		times = append(times, e.clk.Now())
		e.clk.Advance(time.Minute)
	}
	list := func(q string) ([]string, string) {
		t.Helper()
		resp, out := e.do(http.MethodGet, "/2/users/"+userID+"/tweets?"+q, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", q, resp.StatusCode, out)
		}
		var got []string
		data, _ := out["data"].([]any)
		for _, d := range data {
			got = append(got, d.(map[string]any)["id"].(string))
		}
		next, _ := out["meta"].(map[string]any)["next_token"].(string)
		return got, next
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	// Newest first, five at a time, through every page.
	var all []string
	q := "max_results=5"
	for {
		got, next := list(q)
		all = append(all, got...)
		if next == "" {
			break
		}
		q = "max_results=5&pagination_token=" + next
	}
	if len(all) != 12 || all[0] != ids[11] || all[11] != ids[0] {
		t.Fatalf("paged timeline %v", all)
	}
	if got, _ := list("start_time=" + ts(times[9])); len(got) != 3 || got[2] != ids[9] {
		t.Fatalf("start_time: %v", got)
	}
	if got, _ := list("start_time=" + ts(times[3]) + "&end_time=" + ts(times[5])); len(got) != 3 || got[0] != ids[5] || got[2] != ids[3] {
		t.Fatalf("start_time and end_time: %v", got)
	}
	// since_id takes precedence over start_time.
	if got, _ := list("since_id=" + ids[7] + "&start_time=" + ts(times[10])); len(got) != 4 || got[3] != ids[8] {
		t.Fatalf("since_id with start_time: %v", got)
	}
	if got, _ := list("until_id=" + ids[2]); len(got) != 2 || got[0] != ids[1] {
		t.Fatalf("until_id: %v", got)
	}
	// Values outside the OpenAPI ranges are refused: TestSandboxStrictWithoutValidator.
}
