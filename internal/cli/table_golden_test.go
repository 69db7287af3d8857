package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris in the goldens, on any machine

	"github.com/psnd/psnd/internal/api"
)

// goldenNow is the fixed "now" of the table goldens: the day before
// Europe/Paris moves its clocks forward (2026-03-29 02:00 CET → 03:00 CEST).
var goldenNow = time.Date(2026, 3, 28, 11, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := goldenNow.Add(d); return &t }
func str(s string) *string          { return &s }

// seededPosts are posts in every state a user meets, as the daemon's list
// orders them: failed first, then retrying, scheduled, drafts, published.
func seededPosts() []api.Post {
	return []api.Post{
		{
			ID: 7, Account: "alice", AccountID: "11", Status: "failed", SubStatus: str("thread_partial"),
			ScheduledAt: at(-3 * time.Hour), Attempts: 2, PlatformPostIDs: []string{"1900000000000000001"},
			FailReason: str("X refused tweet 2/3: You are not allowed to reply to this post (403)"),
			Tweets: []api.Tweet{
				{Position: 0, Text: "Thread about kites 🪁\n\nThey are older than you think.", Status: "published", PlatformPostID: str("1900000000000000001")},
				{Position: 1, Text: "The first ones flew in China, about 2,500 years ago.", Status: "failed"},
				{Position: 2, Text: "More: https://example.com/kites", Status: "failed"},
			},
		},
		{
			ID: 9, Account: "alice", AccountID: "11", Status: "retry", SubStatus: str("rate_limited"),
			ScheduledAt: at(-10 * time.Minute), NextRetryAt: at(14 * time.Minute), Attempts: 1,
			FailReason: str("rate limited by X until 2026-03-28T11:14:00Z"),
			Tweets:     []api.Tweet{{Position: 0, Text: "Rate limits are a fact of life", Status: "retry"}},
		},
		{
			ID: 12, Account: "alice", AccountID: "11", Status: "scheduled",
			ScheduledAt: at(2 * time.Hour),
			Tweets:      []api.Tweet{{Position: 0, Text: "Lunch talk at 14:00 — come along!", Status: "scheduled"}},
		},
		{
			// After the clocks change: shown in CEST.
			ID: 13, Account: "bob_the_builder", AccountID: "22", Status: "scheduled",
			ScheduledAt: at(24 * time.Hour),
			Tweets: []api.Tweet{{Position: 0, Text: "A long announcement that will not fit in the table's text column at all", Status: "scheduled",
				Media: []api.Media{{Path: "/home/alice/.local/share/psn/media/3f2a.jpg", MimeType: "image/jpeg", Size: 48213, AltText: "A red kite"}}}},
		},
		{
			ID: 14, Account: "alice", AccountID: "11", Status: "draft",
			Tweets: []api.Tweet{{Position: 0, Text: "idea: write about\nmultiline drafts", Status: "draft"}},
		},
		{
			ID: 3, Account: "alice", AccountID: "11", Status: "published",
			ScheduledAt: at(-26 * time.Hour), PublishedAt: at(-26*time.Hour + 2*time.Second), Attempts: 1,
			PlatformPostIDs: []string{"1899999999999999999"},
			Tweets:          []api.Tweet{{Position: 0, Text: "Hello, X", Status: "published", PlatformPostID: str("1899999999999999999")}},
		},
	}
}

func seededAuthStatus() api.AuthStatus {
	return api.AuthStatus{
		App: api.App{Configured: true, ClientID: "Zm9vYmFyOjE6Y2k", ClientType: "confidential", HasClientSecret: true,
			Source: "stored", CallbackURL: "http://127.0.0.1:18923/callback"},
		Accounts: []api.AccountStatus{
			{
				Account:  api.Account{ID: "11", Username: "alice", DisplayName: "Alice Liddell", SubscriptionType: "None", Default: true},
				LoggedIn: true, LoggedInAt: at(-72 * time.Hour), TokenExpiresAt: at(100 * time.Minute), LastRefreshAt: at(-20 * time.Minute),
				Scopes: []string{"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}, Problems: []string{},
			},
			{
				Account:  api.Account{ID: "22", Username: "bob_the_builder", DisplayName: "bob_the_builder", SubscriptionType: "Premium"},
				LoggedIn: true, LoggedInAt: at(-30 * 24 * time.Hour), TokenExpiresAt: at(-5 * time.Hour), LastRefreshAt: at(-7 * time.Hour),
				NeedsReauth: true, ReauthReason: "X refused the refresh token (invalid_request)",
				Problems: []string{"needs to log in again: X refused the refresh token (invalid_request); run `psnd auth login`"},
			},
		},
	}
}

// stubDaemon serves canned API answers on a Unix socket in a fresh
// PSN_HOME, as the daemon would: same routes, same JSON, version header.
type stubDaemon struct {
	health api.Health
	posts  []api.Post
	auth   api.AuthStatus
	usage  api.Usage

	mu      sync.Mutex
	queries []string // of GET /v1/posts, in order
}

func (s *stubDaemon) start(t *testing.T) map[string]string {
	t.Helper()
	home := shortHome(t)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(home, "psnd.sock"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET "+api.PathHealth, func(w http.ResponseWriter, r *http.Request) { reply(w, s.health) })
	mux.HandleFunc("GET "+api.PathAuthStatus, func(w http.ResponseWriter, r *http.Request) { reply(w, s.auth) })
	mux.HandleFunc("GET "+api.PathUsage, func(w http.ResponseWriter, r *http.Request) {
		u := s.usage
		if m := r.URL.Query().Get("month"); m != "" {
			u.Month = m
		}
		reply(w, u)
	})
	mux.HandleFunc("GET "+api.PathPosts, func(w http.ResponseWriter, r *http.Request) {
		// s.posts are in list order; the cursor is an offset here (the
		// daemon's is opaque anyway).
		q := r.URL.Query()
		s.mu.Lock()
		s.queries = append(s.queries, r.URL.RawQuery)
		s.mu.Unlock()
		out := []api.Post{}
		for _, p := range s.posts {
			if st := q.Get("status"); st == "" || slices.Contains(strings.Split(st, ","), p.Status) {
				out = append(out, p)
			}
		}
		from, _ := strconv.Atoi(q.Get("cursor"))
		out = out[min(from, len(out)):]
		if n, _ := strconv.Atoi(q.Get("limit")); n > 0 && n < len(out) {
			out = out[:n]
			w.Header().Set(api.NextCursorHeader, strconv.Itoa(from+n))
		}
		reply(w, out)
	})
	mux.HandleFunc("GET "+api.PathPost, func(w http.ResponseWriter, r *http.Request) {
		for _, p := range s.posts {
			if strconv.FormatInt(p.ID, 10) == r.PathValue("id") {
				reply(w, p)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		reply(w, api.ErrorBody{Error: api.Error{Code: api.CodeNotFound, Message: "post " + r.PathValue("id") + " not found"}})
	})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.VersionHeader, "test")
		mux.ServeHTTP(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return map[string]string{"PSN_HOME": home}
}

// runAt runs psnd at goldenNow with the given terminal flags.
func runAt(t *testing.T, vars map[string]string, stdoutTTY bool, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] }, GOOS: "linux", Version: "test",
		StdoutIsTerminal: stdoutTTY, StderrIsTerminal: stdoutTTY,
		Now: func() time.Time { return goldenNow },
	}
	code := Main(context.Background(), args, env)
	return result{code, out.String(), errb.String()}
}

// TestTableGolden pins the human forms of list, show and auth status:
// columns, times in the user's zone with relative hints (across a DST
// change), sub-statuses, reasons, threads and media, and the one-line
// failure notice on stderr before them.
func TestTableGolden(t *testing.T) {
	stub := &stubDaemon{
		health: api.Health{Status: api.HealthOK, Version: "test", RecentFailures: 1},
		posts:  seededPosts(),
		auth:   seededAuthStatus(),
		usage:  seededUsage(),
	}
	vars := stub.start(t)
	cases := []struct {
		name string
		tz   string
		tty  bool
		args []string
	}{
		{"list", "UTC", false, []string{"list"}},
		{"list.paris", "Europe/Paris", false, []string{"list"}},
		{"list.failed", "UTC", false, []string{"list", "--status", "failed"}},
		{"list.empty", "UTC", false, []string{"list", "--status", "publishing"}},
		{"list.limit", "UTC", false, []string{"list", "--limit", "1"}},
		{"list.all", "UTC", false, []string{"list", "--all", "--limit", "4"}},
		{"list.statuses", "UTC", false, []string{"list", "--status", "scheduled,draft"}},
		{"list.color", "UTC", true, []string{"list"}},
		{"show.failed_thread", "UTC", false, []string{"show", "7"}},
		{"show.rate_limited", "UTC", false, []string{"show", "9"}},
		{"show.media.paris", "Europe/Paris", false, []string{"show", "13"}},
		{"show.draft", "UTC", false, []string{"show", "14"}},
		{"show.published", "UTC", false, []string{"show", "3"}},
		{"show.color", "UTC", true, []string{"show", "7"}},
		{"auth_status", "UTC", false, []string{"auth", "status"}},
		{"auth_status.paris", "Europe/Paris", false, []string{"auth", "status"}},
		{"auth_status.color", "UTC", true, []string{"auth", "status"}},
		{"usage.paris", "Europe/Paris", false, []string{"usage"}},
		{"usage.month_json", "UTC", false, []string{"usage", "--month", "2026-02", "--json"}},
		{"usage.color", "UTC", true, []string{"usage"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := map[string]string{"PSN_HOME": vars["PSN_HOME"], "PSN_TZ": c.tz, "TERM": "xterm-256color"}
			r := runAt(t, v, c.tty, c.args...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden(t, "tables/"+c.name, "$ PSN_TZ="+c.tz+" psnd "+strings.Join(c.args, " ")+"\n"+
				"--- stderr\n"+r.stderr+"--- stdout\n"+r.stdout)
			if !c.tty && strings.Contains(r.stdout+r.stderr, "\x1b") {
				t.Error("escape sequences without a terminal")
			}
			if c.tty && !strings.Contains(r.stdout, "\x1b[") {
				t.Error("no colour on a terminal")
			}
		})
	}
}

// TestNoColorOnTerminal: NO_COLOR wins over a terminal, and so does
// TERM=dumb; --json is never coloured.
func TestNoColorOnTerminal(t *testing.T) {
	stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test", RecentFailures: 2}, posts: seededPosts(), auth: seededAuthStatus()}
	vars := stub.start(t)
	for _, extra := range []map[string]string{{"NO_COLOR": "1"}, {"TERM": "dumb"}, {}} {
		// Commands that print the failure notice (they do not show the
		// failed posts themselves).
		for _, args := range [][]string{{"list", "--status", "scheduled"}, {"show", "12"}, {"auth", "status"}, {"list", "--status", "draft", "--json"}} {
			if len(extra) == 0 && args[len(args)-1] != "--json" {
				continue
			}
			v := map[string]string{"PSN_HOME": vars["PSN_HOME"], "PSN_TZ": "UTC", "TERM": "xterm"}
			for k, x := range extra {
				v[k] = x
			}
			r := runAt(t, v, true, args...)
			if r.code != 0 {
				t.Fatalf("%v %v: exit %d %q", extra, args, r.code, r.stderr)
			}
			if len(extra) == 0 { // a terminal, colour allowed: still plain JSON
				if strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stderr, "\x1b[33mnotice:") {
					t.Errorf("psnd %v: want plain stdout and a coloured notice:\n%q\n%q", args, r.stderr, r.stdout)
				}
				continue
			}
			if strings.Contains(r.stdout+r.stderr, "\x1b") {
				t.Errorf("%v psnd %v: escape sequences in\n%s%s", extra, args, r.stderr, r.stdout)
			}
			if !strings.HasPrefix(r.stderr, "psnd: notice: 2 posts failed in the last 24 hours") {
				t.Errorf("%v psnd %v: no failure notice first: %q", extra, args, r.stderr)
			}
		}
	}
}

// TestFailureNoticeWhereItHelps: a command that talks to the daemon prints
// the one-line notice of recent failures before its own output — except
// where the user is already looking at the failures: a plain list (failed
// posts come first), list --status failed, show of a failed post, retry.
func TestFailureNoticeWhereItHelps(t *testing.T) {
	stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test", RecentFailures: 1, Keyring: api.Keyring{State: "ready"}},
		posts: seededPosts(), auth: seededAuthStatus()}
	vars := stub.start(t)
	vars["PSN_TZ"] = "UTC"
	const notice = "psnd: notice: 1 post failed in the last 24 hours; see `psnd list --status failed`\n"
	// The stub answers only reads; a command that goes on to write fails
	// after the notice, which is all this test needs.
	for _, args := range [][]string{
		{"list", "--status", "scheduled"}, {"list", "--status", "draft", "--json"}, {"show", "3"}, {"auth", "status"}, {"auth", "logout"},
		{"post", "hi", "--now"}, {"edit", "12", "--at", "+1h"}, {"cancel", "12"},
		{"delete", "14"}, {"auth", "reset-key", "--yes"}, {"auth", "login", "--no-browser"}, {"setup"},
	} {
		r := runAt(t, vars, false, args...)
		if !strings.HasPrefix(r.stderr, notice) || strings.Count(r.stderr, "notice:") != 1 {
			t.Errorf("psnd %s: stderr does not start with the notice (once): %q", strings.Join(args, " "), r.stderr)
		}
	}
	for _, args := range [][]string{
		{"list"}, {"list", "--json"}, {"list", "--status", "failed"}, {"show", "7"}, {"retry", "7"},
	} {
		r := runAt(t, vars, false, args...)
		if strings.Contains(r.stderr, "notice:") {
			t.Errorf("psnd %s: the failure notice where the failures are already shown: %q", strings.Join(args, " "), r.stderr)
		}
	}
}

// widePosts hold what makes a column wider than its rune count: CJK (two
// columns a character), emoji including a ZWJ sequence and a flag (two
// columns for several runes), and a combining accent (no column). The
// account of one is CJK: X's usernames are ASCII today, but the wire field
// is a string and the table must align whatever it is given.
func widePosts() []api.Post {
	return []api.Post{
		{ID: 21, Account: "山田", AccountID: "31", Status: api.StatusScheduled, ScheduledAt: at(time.Hour),
			Tweets: []api.Tweet{{Text: "東京で会いましょう", Status: api.StatusScheduled}}},
		{ID: 22, Account: "alice", AccountID: "11", Status: api.StatusScheduled, ScheduledAt: at(3 * time.Hour),
			Tweets: []api.Tweet{{Text: "👩‍💻 shipping 🇯🇵 today 🎉", Status: api.StatusScheduled}}},
		{ID: 23, Account: "alice", AccountID: "11", Status: api.StatusDraft,
			Tweets: []api.Tweet{{Text: "Cafe\u0301 — İstanbul, Ⱥ and 한국어", Status: api.StatusDraft}}},
	}
}

// TestTableGoldenWide: columns after a CJK or emoji cell still line up,
// because the table measures display width (uniseg), not runes.
func TestTableGoldenWide(t *testing.T) {
	stub := &stubDaemon{health: api.Health{Status: api.HealthOK, Version: "test"}, posts: widePosts(), auth: seededAuthStatus()}
	vars := stub.start(t)
	r := runAt(t, map[string]string{"PSN_HOME": vars["PSN_HOME"], "PSN_TZ": "UTC"}, false, "list")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	golden(t, "tables/list.wide", "$ PSN_TZ=UTC psnd list\n--- stderr\n"+r.stderr+"--- stdout\n"+r.stdout)
	// Every row's TEXT starts at the same terminal column as the header's.
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	col := strings.Index(lines[0], "TEXT")
	for _, p := range widePosts() {
		text := strings.Fields(p.Tweets[0].Text)[0]
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, fmt.Sprint(p.ID)+" ") {
				if w := displayWidth(l[:strings.Index(l, text)]); w != col {
					t.Errorf("post %d: text at column %d, header at %d: %q", p.ID, w, col, l)
				}
			}
		}
	}
}

// seededUsage is a month of two accounts: one that X reported a 24-hour
// cap for, and one it never did.
func seededUsage() api.Usage {
	limit, remaining, reset := 100, 37, "2026-03-29T01:30:00Z"
	budget := 1.25
	return api.Usage{
		Month:     "2026-03",
		BudgetUSD: &budget, CostUSD: 1.227, HeldOverBudget: 2,
		Accounts: []api.AccountUsage{
			{Account: "alice", Posts: 41, PostsWithURL: 3, MediaUploads: 5, Reads: 12, ReadRequests: 2, OtherRequests: 5,
				CostUSD: 1.227, User24hLimit: &limit, User24hRemaining: &remaining, User24hReset: &reset},
			{Account: "bob_the_builder"},
		},
		Prices: api.Prices{Post: 0.015, PostWithURL: 0.2, MediaUpload: 0, Read: 0.001, AsOf: "2026-04",
			Source: "X API pricing, Pay-Per-Use (docs.x.com/x-api/getting-started/pricing)",
			Note:   "X states no price for media uploads: they are counted, priced at 0"},
	}
}
