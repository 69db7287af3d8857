package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/clock"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/daemon"
)

// importVerdict is one line of `import --json`.
type importVerdict struct {
	Source string  `json:"source"`
	Status string  `json:"status"`
	ID     *int64  `json:"id"`
	Error  *string `json:"error"`
}

func importJSON(t *testing.T, vars map[string]string, args ...string) (result, []importVerdict) {
	t.Helper()
	r := run(t, vars, "", append([]string{"import", "--json"}, args...)...)
	var out []importVerdict
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var v importVerdict
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("import --json line %q: %v\n%+v", l, err, r)
		}
		out = append(out, v)
	}
	return r, out
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writePNG(t *testing.T, path string, seed uint8) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(int(seed%8), 1, color.RGBA{255, seed, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, path, b.String())
}

func showPost(t *testing.T, vars map[string]string, id int64) api.Post {
	t.Helper()
	r := run(t, vars, "", "show", fmt.Sprint(id), "--json")
	var p api.Post
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil {
		t.Fatalf("show %d: %+v", id, r)
	}
	return p
}

func listCount(t *testing.T, vars map[string]string) int {
	t.Helper()
	r := run(t, vars, "", "list", "--json")
	var ps []api.Post
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ps) != nil {
		t.Fatalf("list: %+v", r)
	}
	return len(ps)
}

func tweetTexts(p api.Post) []string {
	var out []string
	for _, tw := range p.Tweets {
		out = append(out, tw.Text)
	}
	return out
}

// nextYear is a wall time ahead whenever the test runs, within the horizon.
func nextYear(md string) string { return fmt.Sprintf("%d-%s", time.Now().Year()+1, md) }

// TestImportEachFormat: CSV (CRLF line ends, a quoted multi-line text,
// non-ASCII, two media separated by ;), JSON Lines, and a directory of
// Markdown files (front matter, a --- thread split, media relative to the
// file) each become the posts they describe, with times read in the
// user's zone.
func TestImportEachFormat(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "Asia/Tokyo"}
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "img", "a.png"), 1)
	writePNG(t, filepath.Join(dir, "img", "b.png"), 2)
	at := nextYear("03-01 09:00")
	csvText := "text,at,media,alt\r\n" +
		"\"İstanbul Ⱥ 東京 مرحبا 🎉\r\nsecond line\"," + at + ",img/a.png;img/b.png,Kite;Hill\r\n" +
		"plain,,,\r\n"
	writeTestFile(t, filepath.Join(dir, "week.csv"), csvText)
	writeTestFile(t, filepath.Join(dir, "more.jsonl"),
		`{"text":"JSON 日本語 one","at":"`+at+`","thread":true,"number":true}`+"\n\n"+
			`{"text":"draft ✓","draft":true}`+"\n")
	writeTestFile(t, filepath.Join(dir, "md", "launch.md"),
		"---\r\nat: "+at+"\r\nnumber: true\r\nmedia: ../img/a.png\r\nalt: A red kite\r\n---\r\nFirst tweet — Ⱥ\r\n---\r\nSecond tweet 🎉\r\n")
	writeTestFile(t, filepath.Join(dir, "md", "notes.txt"), "not a post")

	// The CSV's second row has neither a time nor draft: invalid, and so
	// nothing at all is stored.
	r, vs := importJSON(t, vars, filepath.Join(dir, "week.csv"), filepath.Join(dir, "more.jsonl"), filepath.Join(dir, "md"))
	if r.code != ExitError || len(vs) != 5 || !strings.Contains(r.stderr, "1 item of 5 invalid: nothing was imported") {
		t.Fatalf("import with an invalid row: %+v", r)
	}
	if vs[1].Status != "invalid" || vs[1].Source != filepath.Join(dir, "week.csv")+":4" || vs[1].Error == nil || !strings.Contains(*vs[1].Error, "say when to publish: give at, queue, or draft") {
		t.Fatalf("verdict of the invalid row: %+v", vs[1])
	}
	if n := listCount(t, vars); n != 0 {
		t.Fatalf("%d posts stored after an import with an invalid item, want 0", n)
	}

	writeTestFile(t, filepath.Join(dir, "week.csv"), strings.Replace(csvText, "plain,,,", "plain,+1d,,", 1))
	r, vs = importJSON(t, vars, filepath.Join(dir, "week.csv"), filepath.Join(dir, "more.jsonl"), filepath.Join(dir, "md"))
	if r.code != 0 || len(vs) != 5 {
		t.Fatalf("import: %+v", r)
	}
	wantSources := []string{"week.csv:2", "week.csv:4", "more.jsonl:1", "more.jsonl:3", filepath.Join("md", "launch.md")}
	for i, v := range vs {
		if v.Status != "created" || v.ID == nil || v.Error != nil || v.Source != filepath.Join(dir, wantSources[i]) {
			t.Fatalf("verdict %d: %+v, want created from %s", i, v, wantSources[i])
		}
	}
	wantAt, _ := time.ParseInLocation("2006-01-02 15:04", at, time.FixedZone("JST", 9*3600))

	p := showPost(t, vars, *vs[0].ID)
	if got := tweetTexts(p); len(got) != 1 || got[0] != "İstanbul Ⱥ 東京 مرحبا 🎉\nsecond line" {
		t.Errorf("CSV text: %q", got)
	}
	if p.Status != "scheduled" || p.ScheduledAt == nil || !p.ScheduledAt.Equal(wantAt) {
		t.Errorf("CSV post: status %s at %v, want scheduled at %v", p.Status, p.ScheduledAt, wantAt)
	}
	if m := p.Tweets[0].Media; len(m) != 2 || m[0].AltText != "Kite" || m[1].AltText != "Hill" {
		t.Errorf("CSV media: %+v", m)
	}
	p = showPost(t, vars, *vs[2].ID)
	if got := tweetTexts(p); len(got) != 1 || got[0] != "JSON 日本語 one" {
		t.Errorf("JSONL text: %q", got)
	}
	if p = showPost(t, vars, *vs[3].ID); p.Status != "draft" {
		t.Errorf("JSONL draft: %s", p.Status)
	}
	p = showPost(t, vars, *vs[4].ID)
	if got := tweetTexts(p); len(got) != 2 || got[0] != "First tweet — Ⱥ 1/2" || got[1] != "Second tweet 🎉 2/2" {
		t.Errorf("Markdown thread: %q", got)
	}
	if m := p.Tweets[0].Media; len(m) != 1 || m[0].AltText != "A red kite" {
		t.Errorf("Markdown media: %+v", m)
	}
	if p.ScheduledAt == nil || !p.ScheduledAt.Equal(wantAt) {
		t.Errorf("Markdown at %v, want %v", p.ScheduledAt, wantAt)
	}

	// The same files again: every item skipped, nothing new.
	r, vs = importJSON(t, vars, filepath.Join(dir, "week.csv"), filepath.Join(dir, "more.jsonl"), filepath.Join(dir, "md"))
	if r.code != 0 || len(vs) != 5 {
		t.Fatalf("re-import: %+v", r)
	}
	for i, v := range vs {
		if v.Status != "skipped" || v.ID == nil {
			t.Errorf("re-import verdict %d: %+v, want skipped", i, v)
		}
	}
	if n := listCount(t, vars); n != 5 {
		t.Errorf("%d posts after re-import, want 5", n)
	}
}

// TestImportDryRunStoresNothing: --dry-run reports what would happen and
// stores nothing; a text over the limit is invalid and says so.
func TestImportDryRunStoresNothing(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	dir := t.TempDir()
	f := filepath.Join(dir, "a.jsonl")
	writeTestFile(t, f, `{"text":"hello","draft":true}`+"\n")
	r, vs := importJSON(t, vars, "--dry-run", f)
	if r.code != 0 || len(vs) != 1 || vs[0].Status != "created" || vs[0].ID != nil {
		t.Fatalf("dry run: %+v", r)
	}
	if n := listCount(t, vars); n != 0 {
		t.Fatalf("dry run stored %d posts", n)
	}
	r = run(t, vars, "", "import", "--dry-run", f)
	if r.code != 0 || !strings.Contains(r.stdout, "1 created (nothing stored)") {
		t.Fatalf("dry run text: %+v", r)
	}

	writeTestFile(t, f, `{"text":"`+strings.Repeat("ä", 30000)+`","draft":true}`+"\n"+`{"text":"q","queue":true}`+"\n"+`{"text":"x","at":"soon"}`+"\n"+`{"text":"y","draft":true,"media":"missing.png"}`+"\n")
	r, vs = importJSON(t, vars, f)
	if r.code == 0 || len(vs) != 4 {
		t.Fatalf("invalid items: %+v", r)
	}
	for _, v := range vs {
		if v.Status != "invalid" || v.Error == nil {
			t.Errorf("verdict %+v, want invalid with an error", v)
		}
	}
	if !strings.Contains(*vs[1].Error, "has no queue slots; add some with `psnd slots add") || !strings.Contains(*vs[2].Error, "at:") ||
		!strings.Contains(*vs[3].Error, filepath.Join(dir, "missing.png")) {
		t.Errorf("errors: %q %q %q", *vs[1].Error, *vs[2].Error, *vs[3].Error)
	}
	if n := listCount(t, vars); n != 0 {
		t.Fatalf("invalid import stored %d posts", n)
	}
}

// TestImportChangedItems: a changed item updates its post while it is
// scheduled; once the post is published, a changed item leaves it alone
// and says so.
func TestImportChangedItems(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	dir := t.TempDir()
	f := filepath.Join(dir, "post.md")
	writeTestFile(t, f, "---\nat: \""+nextYear("05-01 10:00")+"\"\n---\nfirst version\n")
	_, vs := importJSON(t, vars, f)
	if len(vs) != 1 || vs[0].Status != "created" {
		t.Fatalf("import: %+v", vs)
	}
	id := *vs[0].ID

	writeTestFile(t, f, "---\nat: \""+nextYear("05-02 11:00")+"\"\n---\nsecond version\n---\nand a reply\n")
	r, vs := importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 1 || vs[0].Status != "updated" || *vs[0].ID != id {
		t.Fatalf("changed import: %+v", r)
	}
	p := showPost(t, vars, id)
	if got := tweetTexts(p); len(got) != 2 || got[0] != "second version" || p.ScheduledAt.Format("01-02 15:04") != "05-02 11:00" {
		t.Fatalf("updated post: %q at %v", got, p.ScheduledAt)
	}
	if n := listCount(t, vars); n != 1 {
		t.Fatalf("%d posts after an update, want 1", n)
	}

	if r := run(t, vars, "", "edit", fmt.Sprint(id), "--now"); r.code != 0 {
		t.Fatalf("publish now: %+v", r)
	}
	if p := showPost(t, vars, id); p.Status != "published" {
		t.Fatalf("post %d is %s, want published", id, p.Status)
	}
	writeTestFile(t, f, "---\nat: \""+nextYear("05-03 12:00")+"\"\n---\nthird version\n")
	r, vs = importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 1 || vs[0].Status != "skipped" || vs[0].Error == nil || !strings.Contains(*vs[0].Error, "published: left alone") {
		t.Fatalf("import of a published post's changed file: %+v", r)
	}
	if got := tweetTexts(showPost(t, vars, id)); got[0] != "second version" {
		t.Fatalf("published post changed: %q", got)
	}
}

// TestImportTenThousand: a large CSV goes through the real local API in
// batches, each stored in one transaction, and a second import skips all.
func TestImportTenThousand(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	const n = 10000
	var b strings.Builder
	b.WriteString("text,draft\n")
	for i := range n {
		fmt.Fprintf(&b, "\"post %d, ünïcode ✓\",true\n", i)
	}
	f := filepath.Join(t.TempDir(), "big.csv")
	writeTestFile(t, f, b.String())
	// On a terminal, stderr shows the progress of both passes.
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] },
		GOOS: "linux", Version: "test", StderrIsTerminal: true}
	r := result{Main(context.Background(), []string{"import", f}, env), out.String(), errb.String()}
	if !strings.Contains(r.stderr, "checking 500/10000") || !strings.Contains(r.stderr, "importing 10000/10000") {
		t.Errorf("no progress on a terminal: %q", r.stderr[:min(len(r.stderr), 300)])
	}
	if r.code != 0 || !strings.HasSuffix(r.stdout, fmt.Sprintf("%d created\n", n)) {
		t.Fatalf("import: exit %d, stderr %q, tail %q", r.code, r.stderr, r.stdout[max(0, len(r.stdout)-200):])
	}
	r = run(t, vars, "", "import", f)
	if r.code != 0 || !strings.HasSuffix(r.stdout, fmt.Sprintf("%d skipped\n", n)) {
		t.Fatalf("re-import: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestImportReplacedMediaUpdates: a picture replaced under the same name is
// a change of the item; a file named twice (itself and in its directory)
// is imported once.
func TestImportReplacedMediaUpdates(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "pic.png"), 1)
	f := filepath.Join(dir, "p.md")
	writeTestFile(t, f, "---\ndraft: true\nmedia: pic.png\n---\nwith a picture\n")
	r, vs := importJSON(t, vars, f, dir)
	if r.code != 0 || len(vs) != 1 || vs[0].Status != "created" {
		t.Fatalf("import: %+v", r)
	}
	before := showPost(t, vars, *vs[0].ID).Tweets[0].Media[0].Path
	writePNG(t, filepath.Join(dir, "pic.png"), 7)
	r, vs = importJSON(t, vars, dir)
	if r.code != 0 || len(vs) != 1 || vs[0].Status != "updated" {
		t.Fatalf("import after replacing the picture: %+v", r)
	}
	if after := showPost(t, vars, *vs[0].ID).Tweets[0].Media[0].Path; after == before {
		t.Errorf("the post kept the old picture %s", after)
	}
}

// readOne reads the items of one file written with content.
func readOne(t *testing.T, name, content string) []importEntry {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	writeTestFile(t, f, content)
	es, err := readImports([]string{f})
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return es
}

// TestImportCSVQuoteErrorNoPanic: a stray quote in a CSV is that line's
// verdict; it used to panic in csv.Reader.FieldPos.
func TestImportCSVQuoteErrorNoPanic(t *testing.T) {
	es := readOne(t, "a.csv", "text,draft\nok,true\n\"bad \"quote\",true\n")
	if len(es) != 2 || es[0].err != "" || !strings.HasSuffix(es[1].source, "a.csv:3") || !strings.Contains(es[1].err, "quote") {
		t.Fatalf("entries: %+v", es)
	}
}

// TestImportCSVSpreadsheetExports: what spreadsheets write — rows of only
// commas, yes/no booleans, and ; between fields where the decimal mark is
// a comma — reads as the user meant.
func TestImportCSVSpreadsheetExports(t *testing.T) {
	es := readOne(t, "a.csv", "text,draft\r\nx,yes\r\n,\r\ny,No\r\n, \r\n")
	if len(es) != 2 || es[0].err != "" || !es[0].fields.Draft || es[1].err != "" || es[1].fields.Draft {
		t.Fatalf("entries: %+v", es)
	}
	// Columns once touched and left empty; a row written by hand without
	// its last empty fields.
	es = readOne(t, "c.csv", "text,draft,,\nx,true,,\ny,true\nz,true,,oops\n")
	if len(es) != 3 || es[0].err != "" || es[1].err != "" || !es[1].fields.Draft || !strings.Contains(es[2].err, `"oops" is in column 4`) {
		t.Fatalf("entries: %+v", es)
	}
	es = readOne(t, "d.csv", "text,draft\nHello, world,true\n")
	if len(es) != 1 || !strings.Contains(es[0].err, `3 fields, but the header names 2: put a text that holds "," in double quotes`) {
		t.Fatalf("unquoted comma: %+v", es)
	}
	es = readOne(t, "b.csv", "text;at;draft;media\nHello, world;;yes;\"a.png;b.png\"\n")
	if len(es) != 1 || es[0].err != "" || es[0].fields.Text != "Hello, world" || !es[0].fields.Draft || len(es[0].fields.Media) != 2 {
		t.Fatalf("entries: %+v", es)
	}
}

// TestImportMarkdownMarkers: front matter whose --- lines carry trailing
// blanks, or that is empty, is front matter, not text.
func TestImportMarkdownMarkers(t *testing.T) {
	for name, content := range map[string]string{
		"trailing.md": "--- \ndraft: true\n---\t\nHello\n",
		"crlf.md":     "\ufeff---  \r\ndraft: true\r\n--- \r\nHello\r\n",
	} {
		es := readOne(t, name, content)
		if len(es) != 1 || es[0].err != "" || !es[0].fields.Draft || es[0].fields.Text != "Hello" {
			t.Errorf("%s: %+v", name, es)
		}
	}
	es := readOne(t, "empty.md", "---\n---\nHello\n---\nagain\n")
	if len(es) != 1 || es[0].err != "" || es[0].fields.Text != "Hello\n---\nagain" {
		t.Errorf("empty front matter: %+v", es)
	}
}

// TestImportFrontMatterErrorOneLine: a typo in a front matter key is one
// verdict line naming the key, not yaml's lines with Go type names.
func TestImportFrontMatterErrorOneLine(t *testing.T) {
	es := readOne(t, "a.md", "---\ndraft: true\nacount: me\n---\nHello\n")
	if len(es) != 1 || strings.Contains(es[0].err, "\n") || strings.Contains(es[0].err, "cli.") || !strings.Contains(es[0].err, "line 3: unknown field acount") {
		t.Fatalf("error: %q", es[0].err)
	}
	es = readOne(t, "b.md", "---\n- draft\n---\nHello\n")
	if len(es) != 1 || strings.Contains(es[0].err, "cli.") || !strings.Contains(es[0].err, "line 2: cannot unmarshal !!seq as the fields") {
		t.Fatalf("error: %q", es[0].err)
	}
}

// TestImportDirectorySkipsHiddenFiles: a folder copied through macOS has
// ._NAME.md beside each file; those are not posts.
func TestImportDirectorySkipsHiddenFiles(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "one.md"), "---\ndraft: true\n---\nHello\n")
	writeTestFile(t, filepath.Join(dir, "._one.md"), "\x00\x05\x16\x07\xff\xfe")
	es, err := readImports([]string{dir})
	if err != nil || len(es) != 1 || !strings.HasSuffix(es[0].source, "one.md") || es[0].err != "" {
		t.Fatalf("entries: %+v, %v", es, err)
	}
}

// TestImportCSVRowsMove: a content calendar loses its posted row at the
// top and gains one: the rows below move up or down a line, and each is
// still its own post. Keyed by line alone, the row that took a published
// post's line was left out and each row below overwrote the post of the
// row above it, so one text went out twice and another never.
func TestImportCSVRowsMove(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	f := filepath.Join(t.TempDir(), "cal.csv")
	row := func(text, md string) string { return text + "," + nextYear(md) + "\n" }
	writeTestFile(t, f, "text,at\n"+row("Alpha", "01-01 10:00")+row("Bravo", "01-02 10:00")+row("Charlie", "01-03 10:00"))
	_, vs := importJSON(t, vars, f)
	if len(vs) != 3 {
		t.Fatalf("first import: %+v", vs)
	}
	ids := map[string]int64{"Alpha": *vs[0].ID, "Bravo": *vs[1].ID, "Charlie": *vs[2].ID}
	if r := run(t, vars, "", "edit", fmt.Sprint(ids["Alpha"]), "--now"); r.code != 0 {
		t.Fatalf("publish now: %+v", r)
	}

	// The posted row goes, the others move up, Charlie is edited, and a
	// new row comes last.
	writeTestFile(t, f, "text,at\n"+row("Bravo", "01-02 10:00")+row("Charlie!", "01-03 10:00")+row("Zulu", "01-04 10:00"))
	r, vs := importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 3 ||
		vs[0].Status != "skipped" || *vs[0].ID != ids["Bravo"] ||
		vs[1].Status != "updated" || *vs[1].ID != ids["Charlie"] ||
		vs[2].Status != "created" {
		t.Fatalf("re-import: %+v", r)
	}
	want := map[string]bool{"Alpha": true, "Bravo": true, "Charlie!": true, "Zulu": true}
	r = run(t, vars, "", "list", "--json")
	var ps []api.Post
	if err := json.Unmarshal([]byte(r.stdout), &ps); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range ps {
		got[tweetTexts(p)[0]] = true
	}
	if len(ps) != 4 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("posts %v, want one each of %v", got, want)
	}

	// The edit is reverted: Charlie's post takes its text back.
	writeTestFile(t, f, "text,at\n"+row("Bravo", "01-02 10:00")+row("Charlie", "01-03 10:00")+row("Zulu", "01-04 10:00"))
	r, vs = importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 3 || vs[0].Status != "skipped" || vs[1].Status != "updated" || *vs[1].ID != ids["Charlie"] || vs[2].Status != "skipped" {
		t.Fatalf("revert: %+v", r)
	}
	if got := tweetTexts(showPost(t, vars, ids["Charlie"])); got[0] != "Charlie" {
		t.Fatalf("reverted post: %q", got)
	}

	// A row comes first: it is new, and every other row is where it was.
	writeTestFile(t, f, "text,at\n"+row("Yankee", "01-05 10:00")+row("Bravo", "01-02 10:00")+row("Charlie", "01-03 10:00")+row("Zulu", "01-04 10:00"))
	r, vs = importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 4 || vs[0].Status != "created" || vs[1].Status != "skipped" || vs[2].Status != "skipped" || vs[3].Status != "skipped" {
		t.Fatalf("row inserted: %+v", r)
	}
	if n := listCount(t, vars); n != 5 {
		t.Fatalf("%d posts, want 5", n)
	}
	if r, vs = importJSON(t, vars, f); r.code != 0 || vs[0].Status != "skipped" || vs[1].Status != "skipped" || vs[2].Status != "skipped" || vs[3].Status != "skipped" {
		t.Fatalf("same again: %+v", r)
	}
}

// TestImportMessagesSpeakOfImport: a past time is shown in the user's
// zone (not UTC) without offering a "now" an import has not, and a text
// too long for one tweet names the thread field, not post --thread.
func TestImportMessagesSpeakOfImport(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "America/New_York"}
	f := filepath.Join(t.TempDir(), "a.jsonl")
	past := time.Now().AddDate(0, 0, -3).In(mustZone(t, "America/New_York")).Format("2006-01-02") + " 09:00"
	writeTestFile(t, f, `{"text":"late","at":"`+past+`"}`+"\n"+`{"text":"`+strings.Repeat("東", 150)+`","draft":true}`+"\n")
	r, vs := importJSON(t, vars, f)
	if r.code != 1 || len(vs) != 2 {
		t.Fatalf("import: %+v", r)
	}
	if e := *vs[0].Error; !strings.Contains(e, "09:00") || !strings.Contains(e, "in the past") || strings.Contains(e, "now") || strings.Contains(e, "Z ") {
		t.Errorf("past time: %q", e)
	}
	if e := *vs[1].Error; !strings.Contains(e, "300/280") || !strings.Contains(e, "thread: true") || strings.Contains(e, "psnd post") {
		t.Errorf("too long: %q", e)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestImportSameFileOtherName: a file named through a symbolic link, or
// with its name composed differently (macOS lists names decomposed; a
// shell passes them as typed), is the same item, not a new one.
func TestImportSameFileOtherName(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "real", "café.md"), "---\ndraft: true\n---\nHello\n")
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	es, err := readImports([]string{filepath.Join(dir, "real"), filepath.Join(dir, "link", "café.md")})
	if err != nil || len(es) != 1 {
		t.Fatalf("one file by two names: %+v, %v", es, err)
	}
	viaLink, err := importKey(filepath.Join(dir, "link", "café.md"))
	if err != nil || viaLink != es[0].key {
		t.Fatalf("key through the link %q, want %q (%v)", viaLink, es[0].key, err)
	}
	nfd, err := importKey(filepath.Join(dir, "nowhere", "cafe\u0301.md"))
	nfc, err2 := importKey(filepath.Join(dir, "nowhere", "café.md"))
	if err != nil || err2 != nil || nfd != nfc {
		t.Fatalf("NFD key %q, NFC key %q", nfd, nfc)
	}
}

// TestImportJSONLErrorsNameFields: a JSON Lines item of the wrong shape
// is told which field is wrong and what it wants, without Go type names.
func TestImportJSONLErrorsNameFields(t *testing.T) {
	es := readOne(t, "a.jsonl", `{"text":"a","draft":"yes"}`+"\n"+`"just text"`+"\n"+`{"text":5,"draft":true}`+"\n")
	want := []string{"draft: want true or false, not a string", "want an object of fields, not a string", "text: want a string, not a number"}
	if len(es) != len(want) {
		t.Fatalf("entries: %+v", es)
	}
	for i, e := range es {
		if !strings.Contains(e.err, want[i]) || strings.Contains(e.err, "Go ") || strings.Contains(e.err, "importFields") {
			t.Errorf("line %d: %q, want %q", i+1, e.err, want[i])
		}
	}
}

// TestImportCSVEditAfterRowsMove: rows move, one row is removed and
// another edited in the same change: the edited row updates its own
// post (the one whose text it most resembles), not the removed row's,
// which would leave the old version of the edited row to go out beside
// the new one.
func TestImportCSVEditAfterRowsMove(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	f := filepath.Join(t.TempDir(), "cal.csv")
	row := func(text, md string) string { return text + "," + nextYear(md) + "\n" }
	alpha, bravo := row("Alpha opens the week", "01-01 10:00"), row("Bravo is a note on İstanbul", "01-02 10:00")
	writeTestFile(t, f, "text,at\n"+alpha+bravo+row("Charlie goes out on Friday with a link", "01-03 10:00"))
	_, vs := importJSON(t, vars, f)
	if len(vs) != 3 {
		t.Fatalf("first import: %+v", vs)
	}
	charlie := *vs[2].ID

	// Charlie, edited, comes first; Bravo is removed; Alpha moves down.
	writeTestFile(t, f, "text,at\n"+row("Charlie goes out on Saturday with a link", "01-04 10:00")+alpha)
	r, vs := importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 2 || vs[0].Status != "updated" || *vs[0].ID != charlie || vs[1].Status != "skipped" {
		t.Fatalf("re-import: %+v", r)
	}
	if got := tweetTexts(showPost(t, vars, charlie)); got[0] != "Charlie goes out on Saturday with a link" {
		t.Fatalf("Charlie's post: %q", got)
	}
}

// TestImportMediaFromHome: a media path written ~/NAME in a file is in the
// home directory, as on the command line (it was taken as a folder named
// ~ beside the file).
func TestImportMediaFromHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	es := readOne(t, "a.md", "---\ndraft: true\nmedia: [~/Pictures/a.png, img/b.png, /srv/c.png]\n---\nHello\n")
	it := es[0].toItem(time.Now(), time.UTC)
	want := []string{filepath.Join(home, "Pictures", "a.png"), filepath.Join(es[0].dir, "img", "b.png"), "/srv/c.png"}
	if len(it.Media) != 3 {
		t.Fatalf("media: %+v (%s)", it.Media, es[0].err)
	}
	for i, m := range it.Media {
		if m.Path != want[i] {
			t.Errorf("media %d: %q, want %q", i, m.Path, want[i])
		}
	}
}

// TestImportNotUTF8SaysWhere: a CSV saved by Excel as plain "CSV"
// (Windows-1252) or "Unicode text" (UTF-16) is told apart from UTF-8
// with the line and what to do, not only "not valid UTF-8".
func TestImportNotUTF8SaysWhere(t *testing.T) {
	es := readOne(t, "a.csv", "text,draft\nplain,true\ncaf\xe9 \x93quoted\x94,true\n")
	if len(es) != 1 || !strings.Contains(es[0].err, "line 3") || !strings.Contains(es[0].err, "save it as UTF-8") {
		t.Errorf("Windows-1252: %+v", es)
	}
	es = readOne(t, "d.csv", "text,draft\nHello, world,true\n")
	if len(es) != 1 || !strings.Contains(es[0].err, `3 fields, but the header names 2: put a text that holds "," in double quotes`) {
		t.Fatalf("unquoted comma: %+v", es)
	}
	es = readOne(t, "b.csv", "\xff\xfet\x00e\x00x\x00t\x00")
	if len(es) != 1 || !strings.Contains(es[0].err, "UTF-16") {
		t.Errorf("UTF-16: %+v", es)
	}
}

// TestImportCSVTwoRowsAlike: two rows written alike are two posts, and
// each row stays its own post's: re-imported, each is skipped with its
// own id, and editing the first updates the first's post.
func TestImportCSVTwoRowsAlike(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	f := filepath.Join(t.TempDir(), "cal.csv")
	writeTestFile(t, f, "text,draft\nSame İ,true\nSame İ,true\n")
	_, vs := importJSON(t, vars, f)
	if len(vs) != 2 || vs[0].ID == nil || vs[1].ID == nil {
		t.Fatalf("first import: %+v", vs)
	}
	first, second := *vs[0].ID, *vs[1].ID
	r, vs := importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 2 || vs[0].Status != "skipped" || *vs[0].ID != first || vs[1].Status != "skipped" || *vs[1].ID != second {
		t.Fatalf("again: %+v", r)
	}
	writeTestFile(t, f, "text,draft\n\"Same İ, edited\",true\nSame İ,true\n")
	r, vs = importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 2 || vs[0].Status != "updated" || *vs[0].ID != first || vs[1].Status != "skipped" || *vs[1].ID != second {
		t.Fatalf("first edited: %+v", r)
	}
}

// TestImportDirectoryNaturalOrder: a folder's files are read in the order
// a file manager shows them, day2 before day10, since queued items take
// their slots in that order (day10 came before day2).
func TestImportDirectoryNaturalOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"day10.md", "day2.md", "day1.md", "Day3.md", "day02b.md"} {
		writeTestFile(t, filepath.Join(dir, n), "---\nqueue: true\n---\n"+n+"\n")
	}
	es, err := readImports([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, filepath.Base(e.source))
	}
	if want := "[day1.md day2.md day02b.md Day3.md day10.md]"; fmt.Sprint(got) != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

// TestImportUnchangedPastTimeSkipped: a file imported before whose time
// has passed since (its post long published) is skipped unchanged when
// the folder is imported again, not refused for a time in the past.
func TestImportUnchangedPastTimeSkipped(t *testing.T) {
	fake := clock.NewFake(time.Now())
	dvars := map[string]string{"PSN_HOME": shortHome(t), "PSN_TZ": "UTC"}
	cfg, err := config.Load(func(k string) string { return dvars[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, daemon.Config{Env: cfg, Version: "test", Sandbox: true, Clock: fake})
	vars := map[string]string{"PSN_HOME": dvars["PSN_HOME"], "PSN_TZ": "UTC"}
	f := filepath.Join(t.TempDir(), "post.md")
	writeTestFile(t, f, "---\nat: \""+fake.Now().UTC().Add(time.Hour).Format("2006-01-02 15:04")+"\"\n---\nİ soon\n")
	importAt := func() (int, string) {
		var out, errb bytes.Buffer
		env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, GOOS: "linux", Version: "test",
			Getenv: func(k string) string { return vars[k] }, Now: fake.Now}
		return Main(context.Background(), []string{"import", "--json", f}, env), out.String() + errb.String()
	}
	if code, out := importAt(); code != 0 || !strings.Contains(out, `"created"`) {
		t.Fatalf("import: %d %s", code, out)
	}
	fake.Advance(3 * time.Hour)
	if code, out := importAt(); code != 0 || !strings.Contains(out, `"skipped"`) {
		t.Fatalf("import again after its time: %d %s", code, out)
	}
	// A new item with its time past: refused, in the user's words.
	f = filepath.Join(filepath.Dir(f), "late.md")
	writeTestFile(t, f, "---\nat: \""+fake.Now().UTC().Add(-time.Hour).Format("2006-01-02 15:04")+"\"\n---\nİ late\n")
	if code, out := importAt(); code != 1 || !strings.Contains(out, "is in the past; give a future time\"") {
		t.Fatalf("changed, in the past: %d %s", code, out)
	}
}

// TestImportCSVRowMovesAcrossBatches: a row moves from the second batch
// of a large file (an import is sent 500 items at a time) to the top, and
// the row that took its line is an edit. The move used to leave its old
// line's record behind for the second batch, which took the edited row
// for an edit of the moved one and overwrote the moved row's post.
func TestImportCSVRowMovesAcrossBatches(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	f := filepath.Join(t.TempDir(), "big.csv")
	rowText := func(i int) string { return fmt.Sprintf("row %d of the plan for İstanbul", i) }
	var rows []string
	for i := range 600 {
		rows = append(rows, rowText(i))
	}
	write := func(rows []string) {
		writeTestFile(t, f, "text,draft\n"+strings.Join(rows, ",true\n")+",true\n")
	}
	write(rows)
	_, vs := importJSON(t, vars, f)
	if len(vs) != 600 {
		t.Fatalf("first import: %d verdicts", len(vs))
	}
	idOf := map[string]int64{}
	for i, v := range vs {
		idOf[rows[i]] = *v.ID
	}

	// Row 559 goes to the top; row 558, now on its line, is edited.
	moved, edited := rows[559], rows[558]
	next := append([]string{moved}, rows[:558]...)
	next = append(next, edited+" (edited)")
	next = append(next, rows[560:]...)
	write(next)
	r, vs := importJSON(t, vars, f)
	if r.code != 0 || len(vs) != 600 {
		t.Fatalf("re-import: %+v", r.stderr)
	}
	if v := vs[559]; v.Status != "updated" || *v.ID != idOf[edited] {
		t.Errorf("edited row: %+v, want updated post %d", v, idOf[edited])
	}
	if got := tweetTexts(showPost(t, vars, idOf[moved])); got[0] != moved {
		t.Errorf("moved row's post holds %q, want %q", got[0], moved)
	}
	if n := listCount(t, vars); n != 600 {
		t.Errorf("%d posts, want 600", n)
	}
}
