package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

func (h *harness) importBatch(req api.ImportRequest) api.ImportResult {
	h.t.Helper()
	var res api.ImportResult
	if err := h.call(http.MethodPost, api.PathPostsImport, req, &res); err != nil {
		h.t.Fatalf("import: %v", err)
	}
	return res
}

func (h *harness) postCount() int {
	h.t.Helper()
	var all []api.Post
	if err := h.call(http.MethodGet, "/v1/posts", nil, &all); err != nil {
		h.t.Fatal(err)
	}
	return len(all)
}

// TestImportBatchAllOrNothing: the daemon checks every item of a batch
// before storing any; one invalid item (or a source twice) stores nothing
// even without dry_run, and a batch over the limit is refused whole.
func TestImportBatchAllOrNothing(t *testing.T) {
	h := newHarness(t)
	h.start()
	at := t0.Add(time.Hour)
	good := api.ImportItem{Source: "/a.csv:2", ContentHash: "h1", Text: "İstanbul 東京 🎉", At: &at}
	res := h.importBatch(api.ImportRequest{Items: []api.ImportItem{
		good,
		{Source: "/a.csv:3", ContentHash: "h2", Text: strings.Repeat("a", 281), At: &at},
		{Source: "/a.csv:2", ContentHash: "h3", Text: "again", Draft: true},
	}})
	if res.Invalid != 2 || res.Items[0].Status != api.ImportCreated || res.Items[1].Status != api.ImportInvalid ||
		!strings.Contains(res.Items[1].Error, "281/280") || !strings.Contains(res.Items[2].Error, "twice") {
		t.Fatalf("verdicts: %+v", res)
	}
	if n := h.postCount(); n != 0 {
		t.Fatalf("%d posts stored from a batch with invalid items", n)
	}

	var many []api.ImportItem
	for i := range api.ImportBatchMax + 1 {
		many = append(many, api.ImportItem{Source: fmt.Sprint(i), ContentHash: "h", Text: "x", Draft: true})
	}
	err := h.call(http.MethodPost, api.PathPostsImport, api.ImportRequest{Items: many}, nil)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
		t.Fatalf("%d items: %v, want bad_request", len(many), err)
	}
	if n := h.postCount(); n != 0 {
		t.Fatalf("%d posts stored from a refused batch", n)
	}
}

// TestImportUnchangedPastItemSkipped: an item imported before and unchanged
// is skipped even when its time has passed meanwhile (it is not checked
// again); the same item changed is checked, and its past time is invalid.
func TestImportUnchangedPastItemSkipped(t *testing.T) {
	h := newHarness(t)
	h.start()
	at := t0.Add(time.Hour)
	item := api.ImportItem{Source: "/p.md", ContentHash: "v1", Text: "planned", At: &at, Draft: true}
	res := h.importBatch(api.ImportRequest{Items: []api.ImportItem{item}})
	if res.Invalid != 0 || res.Items[0].Status != api.ImportCreated || res.Items[0].ID == 0 {
		t.Fatalf("first import: %+v", res)
	}
	id := res.Items[0].ID
	h.clock.Advance(2 * time.Hour)
	res = h.importBatch(api.ImportRequest{Items: []api.ImportItem{item}})
	if res.Invalid != 0 || res.Items[0].Status != api.ImportSkipped || res.Items[0].ID != id {
		t.Fatalf("unchanged re-import after its time: %+v", res)
	}
	item.ContentHash, item.Draft, item.Text = "v2", false, "planned, changed"
	res = h.importBatch(api.ImportRequest{Items: []api.ImportItem{item}})
	if res.Invalid != 1 || !strings.Contains(res.Items[0].Error, "in the past") {
		t.Fatalf("changed item with a past time: %+v", res)
	}
	if n := h.postCount(); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
}
