package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// TestSlotsAndQueueCommands drives slots, post --queue, import with
// queue: true, and queue against a real (sandbox) daemon.
func TestSlotsAndQueueCommands(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "Asia/Tokyo"}

	// Without slots: one line saying how to add one.
	r := run(t, vars, "", "post", "hello", "--queue")
	if r.code != 1 || !strings.Contains(r.stderr, "no queue slots; add some with `psnd slots add") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("queue without slots: %+v", r)
	}
	// Bad specs and flag clashes are usage errors, and store nothing.
	for _, args := range [][]string{
		{"slots", "add", "mon-fri 9"}, {"slots", "add", "someday 09:00"}, {"slots", "add"},
		{"post", "x", "--queue", "--at", "+1h"}, {"post", "x", "--queue", "--now"}, {"post", "x", "--queue", "--draft"},
		{"edit", "1", "--queue", "--now"}, {"queue", "--days", "0"}, {"slots", "remove", "x"},
	} {
		r := run(t, vars, "", args...)
		if r.code != ExitUsage || !strings.HasPrefix(r.stderr, "psnd: ") {
			t.Errorf("%q: %+v, want a usage error", args, r)
		}
	}
	r = run(t, vars, "", "slots", "--json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("slots after refusals: %+v", r)
	}

	// Slots six hours from now (in Tokyo), daily, so nothing publishes
	// during the test.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	hm := time.Now().Add(6 * time.Hour).In(tokyo).Format("15:04")
	r = run(t, vars, "", "slots", "add", "daily "+hm)
	if r.code != 0 || !strings.Contains(r.stdout, "daily "+hm+" (Asia/Tokyo) for @") {
		t.Fatalf("slots add: %+v", r)
	}
	r = run(t, vars, "", "slots", "--json")
	var ss []map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ss) != nil || len(ss) != 1 {
		t.Fatalf("slots --json: %+v", r)
	}
	for _, k := range []string{"id", "account", "days", "time"} {
		if _, ok := ss[0][k]; !ok {
			t.Errorf("slots --json lacks %q: %v", k, ss[0])
		}
	}

	r = run(t, vars, "", "post", "first 東京", "--queue", "--json")
	var p api.Post
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil || p.ScheduledAt == nil {
		t.Fatalf("post --queue: %+v", r)
	}
	if got := p.ScheduledAt.In(tokyo).Format("15:04"); got != hm {
		t.Errorf("queued at %s, want %s", got, hm)
	}

	dir := t.TempDir()
	for i, text := range []string{"second İstanbul", "third 🎉", "fourth שלום"} {
		writeTestFile(t, filepath.Join(dir, fmt.Sprintf("%d.md", i)), "---\nqueue: true\n---\n"+text+"\n")
	}
	r = run(t, vars, "", "import", "--dry-run", dir)
	if r.code != 0 || strings.Count(r.stdout, "queue slot ") != 3 || !strings.Contains(r.stdout, "(nothing stored)") {
		t.Fatalf("import --dry-run: %+v", r)
	}
	_, vs := importJSON(t, vars, dir)
	if len(vs) != 3 {
		t.Fatalf("import: %+v", vs)
	}

	r = run(t, vars, "", "queue", "--json", "--days", "5")
	var q struct {
		Slots []struct {
			At     time.Time `json:"at"`
			PostID *int64    `json:"post_id"`
		} `json:"slots"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &q) != nil || len(q.Slots) != 5 {
		t.Fatalf("queue --json: %+v", r)
	}
	for i, s := range q.Slots {
		filled := s.PostID != nil
		if filled != (i < 4) {
			t.Errorf("slot %d (%v) holds %v; want the first four filled", i, s.At, s.PostID)
		}
		if i > 0 && s.At.Sub(q.Slots[i-1].At) != 24*time.Hour {
			t.Errorf("slots %d and %d are %v apart, want a day", i-1, i, s.At.Sub(q.Slots[i-1].At))
		}
	}
	if *q.Slots[0].PostID != p.ID {
		t.Errorf("first slot holds %d, want the post --queue %d", *q.Slots[0].PostID, p.ID)
	}
	r = run(t, vars, "", "queue", "--days", "5")
	if r.code != 0 || !strings.Contains(r.stdout, "5 slots, 1 free") {
		t.Errorf("queue: %+v", r)
	}
}

// TestImportQueueField: queue is a boolean in every format (CSV true/false,
// JSON Lines true, YAML true); anything else is the item's error.
func TestImportQueueField(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	hm := time.Now().UTC().Add(6 * time.Hour).Format("15:04")
	if r := run(t, vars, "", "slots", "add", "daily "+hm); r.code != 0 {
		t.Fatalf("slots add: %+v", r)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	writeTestFile(t, bad, "text,queue\nİ one,maybe\n")
	r, vs := importJSON(t, vars, bad)
	if r.code != 1 || len(vs) != 1 || vs[0].Status != "invalid" || !strings.Contains(*vs[0].Error, `queue: want true or false, not "maybe"`) {
		t.Fatalf("queue: maybe: %+v %+v", r, vs)
	}
	csv := filepath.Join(dir, "week.csv")
	writeTestFile(t, csv, "text,queue,draft\nİ one,true,\n東京 two,false,true\n")
	jsonl := filepath.Join(dir, "more.jsonl")
	writeTestFile(t, jsonl, `{"text":"three 🎉","queue":true}`+"\n")
	r, vs = importJSON(t, vars, csv, jsonl)
	if r.code != 0 || len(vs) != 3 {
		t.Fatalf("import: %+v", r)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if lines[0]["scheduled_at"] == nil || lines[1]["scheduled_at"] != nil || lines[2]["scheduled_at"] == nil {
		t.Errorf("scheduled_at: %v", lines)
	}
	a, _ := time.Parse(time.RFC3339, lines[0]["scheduled_at"].(string))
	b, _ := time.Parse(time.RFC3339, lines[2]["scheduled_at"].(string))
	if b.Sub(a) != 24*time.Hour {
		t.Errorf("queued items at %v and %v, want consecutive daily slots", a, b)
	}
}

// TestZoneName: the zone stored with a slot is an IANA name: the one
// PSN_TZ or the daemon gave, else TZ for the system zone.
func TestZoneName(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip(err)
	}
	env := &Env{Getenv: func(k string) string { return map[string]string{"TZ": "America/New_York"}[k] }}
	if got := zoneName(env, tokyo); got != "Asia/Tokyo" {
		t.Errorf("named zone: %q", got)
	}
	if got := zoneName(env, time.Local); got != "America/New_York" {
		t.Errorf("system zone with TZ: %q", got)
	}
	env.Getenv = func(string) string { return "" }
	if got := zoneName(env, time.Local); got == "" {
		t.Error("system zone without TZ: empty name")
	}
}

// TestImportDryRunQueueAcrossBatches: a dry run says the slot each queued
// item would take, also when an item of an earlier batch (an import
// is sent 500 items at a time) names a slot's time with at: a dry run
// stores nothing, so the later batch must be told, or it shows a queued
// item in that slot, which the real import then gives the next one.
func TestImportDryRunQueueAcrossBatches(t *testing.T) {
	vars, first, second := dailySlotSandbox(t)
	var b strings.Builder
	b.WriteString("text,at,draft,queue\n")
	fmt.Fprintf(&b, "İ takes the first slot by its time,%s,,\n", first.Format(time.RFC3339))
	for i := range api.ImportBatchMax - 1 {
		fmt.Fprintf(&b, "draft %d 東京,,true,\n", i)
	}
	b.WriteString("queued in the next batch 🎉,,,true\n")
	csv := filepath.Join(t.TempDir(), "week.csv")
	writeTestFile(t, csv, b.String())
	slotOf := func(args ...string) time.Time {
		t.Helper()
		r, vs := importJSON(t, vars, args...)
		if r.code != 0 || len(vs) != api.ImportBatchMax+1 {
			t.Fatalf("import %v: %+v", args, r)
		}
		var m map[string]any
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
			t.Fatal(err)
		}
		at, _ := m["scheduled_at"].(string)
		tm, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatalf("last verdict %v: no slot", m)
		}
		return tm
	}
	if got := slotOf("--dry-run", csv); !got.Equal(second) {
		t.Errorf("dry run: queued item at %v, want %v (the first slot is the first item's)", got, second)
	}
	if got := slotOf(csv); !got.Equal(second) {
		t.Errorf("import: queued item at %v, want %v", got, second)
	}
}

// TestImportQueueBeforeLaterBatchAt: a queued item leaves alone the slot
// an item of a later batch (an import is sent 500 items at a time) names
// with at, as it does within one batch; it used to take it, and two posts
// went out in one slot.
func TestImportQueueBeforeLaterBatchAt(t *testing.T) {
	vars, first, second := dailySlotSandbox(t)
	var b strings.Builder
	b.WriteString("text,at,draft,queue\n")
	b.WriteString("queued first 🎉,,,true\n")
	for i := range api.ImportBatchMax - 1 {
		fmt.Fprintf(&b, "draft %d 東京,,true,\n", i)
	}
	fmt.Fprintf(&b, "İ names the first slot in the next batch,%s,,\n", first.Format(time.RFC3339))
	csv := filepath.Join(t.TempDir(), "week.csv")
	writeTestFile(t, csv, b.String())
	for _, args := range [][]string{{"--dry-run", csv}, {csv}} {
		r := run(t, vars, "", append([]string{"import", "--json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("import %v: %+v", args, r)
		}
		first, _, _ := strings.Cut(r.stdout, "\n")
		var m map[string]any
		if err := json.Unmarshal([]byte(first), &m); err != nil {
			t.Fatal(err)
		}
		at, _ := m["scheduled_at"].(string)
		if tm, err := time.Parse(time.RFC3339, at); err != nil || !tm.Equal(second) {
			t.Errorf("import %v: queued item at %v, want %v (the first slot is the later item's)", args, at, second)
		}
	}
}

// dailySlotSandbox starts a sandbox daemon (UTC) with one daily slot six
// hours from now, and returns the variables for the CLI and the slot's
// first two instants.
func dailySlotSandbox(t *testing.T) (vars map[string]string, first, second time.Time) {
	t.Helper()
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars = map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	hm := time.Now().UTC().Add(6 * time.Hour).Format("15:04")
	if r := run(t, vars, "", "slots", "add", "daily "+hm); r.code != 0 {
		t.Fatalf("slots add: %+v", r)
	}
	r := run(t, vars, "", "queue", "--json", "--days", "3")
	var q api.Queue
	if err := json.Unmarshal([]byte(r.stdout), &q); err != nil || len(q.Slots) < 2 {
		t.Fatalf("queue: %v %+v", err, r)
	}
	return vars, q.Slots[0].At, q.Slots[1].At
}
