package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// TestAPIRefusesTimesBeyondHorizon: the local API, not only the CLI,
// refuses a time more than two years ahead (a client sending year 2300),
// for creates, drafts and edits, with a 400 and the CLI's sentence, and
// changes nothing.
func TestAPIRefusesTimesBeyondHorizon(t *testing.T) {
	h := newHarness(t)
	h.start()
	far := time.Date(2300, 1, 1, 9, 0, 0, 0, time.UTC)
	const want = "2300-01-01 09:00 UTC is more than 2 years ahead; psnd schedules up to 2 years ahead"
	refused := func(what string, err error) {
		t.Helper()
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != api.CodeBadRequest || ae.Message != want {
			t.Errorf("%s: err = %#v, want 400 %q", what, err, want)
		}
	}
	refused("create", h.call(http.MethodPost, "/v1/posts", api.CreatePost{Text: "far", At: &far}, nil))
	refused("create draft", h.call(http.MethodPost, "/v1/posts", api.CreatePost{Text: "far", At: &far, Draft: true}, nil))
	var all []api.Post
	if err := h.call(http.MethodGet, "/v1/posts", nil, &all); err != nil || len(all) != 0 {
		t.Fatalf("posts after refusals: %v %v", all, err)
	}

	edge := t0.AddDate(2, 0, 0) // exactly two years ahead is allowed
	p := h.create(api.CreatePost{Text: "at the horizon", At: &edge})
	refused("edit", h.call(http.MethodPatch, fmt.Sprintf("/v1/posts/%d", p.ID), api.EditPost{At: &far}, nil))
	var got api.Post
	if err := h.call(http.MethodGet, fmt.Sprintf("/v1/posts/%d", p.ID), nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.ScheduledAt == nil || !got.ScheduledAt.Equal(edge) {
		t.Errorf("scheduled_at after a refused edit = %v, want %v", got.ScheduledAt, edge)
	}
}
