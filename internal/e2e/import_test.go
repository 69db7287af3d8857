package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// TestImportMarkdownFolder: the real binary imports a folder of Markdown
// posts into the sandbox daemon, reports one verdict a line, and a second
// run skips them all.
func TestImportMarkdownFolder(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=Europe/Paris"}
	d := startDaemonArgs(t, environ, "serve", "--sandbox")
	defer d.stop(t)
	dir := filepath.Join(t.TempDir(), "posts")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	year := time.Now().Year() + 1
	for i, body := range []string{"Lundi : café ☕", "Mardi\n---\nsuite du fil 🧵"} {
		md := fmt.Sprintf("---\nat: %d-06-0%d 09:00\nnumber: true\n---\n%s\n", year, i+1, body)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.md", i+1)), []byte(md), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code := run(t, environ, "", "import", dir)
	if code != 0 || !strings.Contains(out, "created  "+filepath.Join(dir, "1.md")+"  post ") || !strings.HasSuffix(out, "2 created\n") {
		t.Fatalf("import: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	var posts []api.Post
	runJSON(t, environ, &posts, "list", "--json")
	if len(posts) != 2 {
		t.Fatalf("list: %+v", posts)
	}
	for _, p := range posts {
		// 09:00 in Paris in June is 07:00 UTC.
		if p.Status != "scheduled" || p.ScheduledAt == nil || p.ScheduledAt.UTC().Hour() != 7 {
			t.Errorf("post %d: %s at %v", p.ID, p.Status, p.ScheduledAt)
		}
	}
	out, errs, code = run(t, environ, "", "import", dir, "--json")
	if code != 0 || strings.Count(out, `"status":"skipped"`) != 2 {
		t.Fatalf("re-import: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}
