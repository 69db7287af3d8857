package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
)

// TestBadInputOneLine: input the daemon refuses reaches the user as one
// line and a non-zero exit, and nothing is stored.
func TestBadInputOneLine(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=UTC"}
	d := startDaemonArgs(t, environ, "serve", "--sandbox")
	defer d.stop(t)

	parts := make([]string, 30)
	for i := range parts {
		parts[i] = "Ⱥ part " + strings.Repeat("I", i+1)
	}
	for _, tc := range []struct {
		name, stdin string
		code        int
		msg         string
	}{
		{"30 tweets", strings.Join(parts, "\n---\n"), 4, "psnd: the thread has 30 tweets; psnd posts at most 25 in one thread"},
		{"5 MB", strings.Repeat("İ", 5<<20/2), 1, "psnd: request body is too large: the limit is 4 MiB"},
	} {
		out, errs, code := run(t, environ, tc.stdin, "post", "--draft", "-")
		if code != tc.code || !strings.HasPrefix(errs, tc.msg) || strings.Count(errs, "\n") != 1 || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and one line %q", tc.name, code, out, errs, tc.code, tc.msg)
		}
	}
	var posts []api.Post
	runJSON(t, environ, &posts, "list", "--json")
	if len(posts) != 0 {
		t.Fatalf("refused posts were stored: %d", len(posts))
	}
}
