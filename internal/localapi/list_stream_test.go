package localapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// The streamed list is byte for byte what encoding the whole slice gives.
func TestWriteJSONArrayMatchesEncoder(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	sub := "retry_1"
	all := []api.Post{
		{ID: 1, Account: "alice", Status: "scheduled", ScheduledAt: &at, Tweets: []api.Tweet{{Text: "a <b> & \"c\"\n", WeightedLength: 13}}},
		{ID: 2, Status: "retry", SubStatus: &sub, Tweets: []api.Tweet{{Text: "x"}, {Position: 1, Text: "y"}}},
		{ID: 3, Status: "draft", Tweets: []api.Tweet{}},
	}
	for n := range len(all) + 1 {
		posts := all[:n]
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(posts); err != nil {
			t.Fatal(err)
		}
		// In pieces, as a streamed list sends its chunks.
		rec := httptest.NewRecorder()
		var aw postArrayWriter
		for i, p := range posts {
			aw.add(p)
			if i%2 == 1 {
				if err := aw.flush(rec); err != nil {
					t.Fatal(err)
				}
			}
		}
		aw.finish()
		if err := aw.flush(rec); err != nil {
			t.Fatal(err)
		}
		if got := rec.Body.String(); got != want.String() {
			t.Errorf("%d posts:\n got %s\nwant %s", n, got, want.String())
		}
	}
}
