package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// Issue 14 item 4: check, split and post say when a text contains a URL
// and what posting it costs; never blocking.

type costJSON struct {
	ContainsURL *bool    `json:"contains_url"`
	CostUSD     *float64 `json:"cost_usd"`
	Valid       bool     `json:"valid"`
	Tweets      []struct {
		Text string `json:"text"`
	} `json:"tweets"`
}

func decodeCost(t *testing.T, r result) costJSON {
	t.Helper()
	var c costJSON
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil || c.ContainsURL == nil || c.CostUSD == nil {
		t.Fatalf("no contains_url/cost_usd in %q (%v)", r.stdout, err)
	}
	return c
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestCheckSaysWhatAURLCosts(t *testing.T) {
	vars := map[string]string{"PSN_HOME": t.TempDir()}
	r := run(t, vars, "", "check", "İstanbul'dan selam: https://example.com/Ⱥ 東京")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the text contains a URL: X bills a post with a URL $0.2 instead of $0.015") {
		t.Fatalf("check with a URL: %+v", r)
	}
	if c := decodeCost(t, run(t, vars, "", "check", "--json", "see example.com")); !*c.ContainsURL || !near(*c.CostUSD, 0.20) || !c.Valid {
		t.Errorf("check --json with a schemeless URL: %+v", c)
	}
	r = run(t, vars, "", "check", "no link here, مرحبا 🚀")
	if r.code != 0 || strings.Contains(r.stderr, "URL") {
		t.Errorf("check without a URL: %+v", r)
	}
	if c := decodeCost(t, run(t, vars, "", "check", "--json", "no link here")); *c.ContainsURL || !near(*c.CostUSD, 0.015) {
		t.Errorf("check --json without a URL: %+v", c)
	}
	// A too-long text with a URL still exits 4, with the notice.
	r = run(t, vars, "", "check", strings.Repeat("x", 300)+" https://example.com")
	if r.code != ExitInvalidText || !strings.Contains(r.stderr, "contains a URL") {
		t.Errorf("too long with a URL: %+v", r)
	}
	// The user's prices.
	os.WriteFile(filepath.Join(vars["PSN_HOME"], "prices.json"), []byte(`{"post_with_url_usd": 0.25}`), 0o600)
	if c := decodeCost(t, run(t, vars, "", "check", "--json", "https://example.com")); !near(*c.CostUSD, 0.25) {
		t.Errorf("with prices.json: %+v", c)
	}
	os.WriteFile(filepath.Join(vars["PSN_HOME"], "prices.json"), []byte(`{`), 0o600)
	r = run(t, vars, "", "check", "https://example.com")
	if r.code != 0 || !strings.Contains(r.stderr, "prices.json") || !strings.Contains(r.stderr, "$0.2 instead") {
		t.Errorf("broken prices.json: %+v", r)
	}
}

func TestSplitSaysWhatAURLCosts(t *testing.T) {
	vars := map[string]string{"PSN_HOME": t.TempDir()}
	text := "first part, no link\n---\nsecond: https://example.com/漢字\n---\nthird 🙂"
	r := run(t, vars, text, "split", "-")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: 1 of 3 tweets contains a URL") || !strings.Contains(r.stderr, "estimated cost $0.23") {
		t.Fatalf("split: %+v", r)
	}
	c := decodeCost(t, run(t, vars, text, "split", "--json", "-"))
	if len(c.Tweets) != 3 || !*c.ContainsURL || !near(*c.CostUSD, 0.23) {
		t.Errorf("split --json: %+v", c)
	}
	if c := decodeCost(t, run(t, vars, "one\n---\ntwo", "split", "--json", "-")); *c.ContainsURL || !near(*c.CostUSD, 0.03) {
		t.Errorf("split --json without URLs: %+v", c)
	}
}

func TestPostSaysWhatAURLCosts(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	r := run(t, vars, "", "post", "--draft", "Yeni yazı: https://example.com/İ")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the text contains a URL") {
		t.Fatalf("post with a URL: %+v", r)
	}
	c := decodeCost(t, run(t, vars, "", "post", "--draft", "--json", "https://example.com/a and more"))
	if !*c.ContainsURL || !near(*c.CostUSD, 0.20) || len(c.Tweets) != 1 {
		t.Errorf("post --json: %+v", c)
	}
	r = run(t, vars, "", "post", "--draft", "plain words")
	if r.code != 0 || strings.Contains(r.stderr, "URL") {
		t.Errorf("post without a URL: %+v", r)
	}
	c = decodeCost(t, run(t, vars, "one\n---\nhttps://example.com", "post", "--draft", "--thread", "--json", "-"))
	if !*c.ContainsURL || !near(*c.CostUSD, 0.215) || len(c.Tweets) != 2 {
		t.Errorf("post --thread --json: %+v", c)
	}
}

// A 24-hour cap whose reset has passed is not shown as still spent.
func TestCapTextAfterItsReset(t *testing.T) {
	limit, remaining, reset := 100, 0, "2026-03-29T01:30:00Z"
	a := api.AccountUsage{User24hLimit: &limit, User24hRemaining: &remaining, User24hReset: &reset}
	resetAt, _ := time.Parse(time.RFC3339, reset)
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{resetAt.Add(-2 * time.Hour), "0/100 left, resets 2026-03-29 04:30 EEST (in 2h)"},
		{resetAt.Add(3 * time.Hour), "0/100 left before its reset 2026-03-29 04:30 EEST (3h ago); full again since"},
	} {
		env := &Env{Now: func() time.Time { return c.now }}
		loc, _ := time.LoadLocation("Europe/Helsinki")
		if got := capText(env, loc, a); got != c.want {
			t.Errorf("at %v: %q, want %q", c.now, got, c.want)
		}
	}
}
