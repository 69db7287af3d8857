package localapi

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/testutil"
)

// docRow is a row of the route table in docs/api.md: "| `GET /v1/posts/{id}[?wait=D]` | …".
var docRow = regexp.MustCompile("^\\| `([A-Z]+ /[^`\\[ ]*)(\\[[^`]*\\])?` \\|")

// docHeading is a route's section: "### GET /v1/app and PUT /v1/app".
var docHeading = regexp.MustCompile(`\b(GET|POST|PUT|PATCH|DELETE) (/v1/[^ ]*)`)

// TestAPIDocMatchesRoutes holds docs/api.md to the server: every route the
// server registers is in the doc's route table and has a section, and the
// table lists nothing the server does not serve.
func TestAPIDocMatchesRoutes(t *testing.T) {
	root, err := testutil.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	sections := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := docRow.FindStringSubmatch(line); m != nil {
			table = append(table, m[1])
		}
		if strings.HasPrefix(line, "### ") {
			for _, m := range docHeading.FindAllStringSubmatch(line, -1) {
				sections[m[1]+" "+m[2]] = true
			}
		}
	}
	served := New(Config{}).routeList
	if len(served) == 0 || len(table) == 0 {
		t.Fatalf("served %d routes, the doc's table lists %d: the test reads nothing", len(served), len(table))
	}
	for _, r := range served {
		if !slices.Contains(table, r) {
			t.Errorf("%s is served but missing from the route table in docs/api.md", r)
		}
		if !sections[r] {
			t.Errorf("%s is served but has no ### section in docs/api.md", r)
		}
	}
	for _, r := range table {
		if !slices.Contains(served, r) {
			t.Errorf("docs/api.md lists %s, which the server does not serve", r)
		}
	}
	for r := range sections {
		if !slices.Contains(served, r) {
			t.Errorf("docs/api.md has a section for %s, which the server does not serve", r)
		}
	}
	if dup := len(table) - len(slices.Compact(slices.Sorted(slices.Values(table)))); dup != 0 {
		t.Errorf("the route table in docs/api.md lists %d routes twice", dup)
	}
}
