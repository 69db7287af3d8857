package api_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

func ptr[T any](v T) *T { return &v }

// fullPost has every field of Post, Tweet and Media set, with non-ASCII
// text, so a field whose tag is lost or misspelt shows in the tests below.
func fullPost() api.Post {
	at := time.Date(2026, 3, 28, 9, 30, 15, 123000000, time.UTC)
	return api.Post{
		ID: 7, Account: "alice", AccountID: "11", Status: api.StatusFailed, SubStatus: ptr(api.SubThreadPartial),
		ScheduledAt: ptr(at), PublishedAt: ptr(at.Add(time.Second)), FailReason: ptr("X refused tweet 2/2 (403)"),
		Attempts: 2, NextRetryAt: ptr(at.Add(time.Minute)), PlatformPostIDs: []string{"1900000000000000001"},
		CreatedAt: at.Add(-time.Hour), UpdatedAt: at, RunID: "r-1",
		Tweets: []api.Tweet{
			{Position: 0, Text: "東京 🪁 İstanbul", WeightedLength: 21, Status: api.StatusPublished,
				PlatformPostID: ptr("1900000000000000001"), PublishedAt: ptr(at.Add(time.Second)),
				Media: []api.Media{{Path: "/m/a.jpg", MimeType: "image/jpeg", Size: 48213, AltText: "a red kite"}}},
			{Position: 1, Text: "عربي ✓", WeightedLength: 6, Status: api.StatusFailed},
		},
		Warnings: []string{"a URL counts as 23"},
		Upload:   &api.Upload{Sent: 10, Total: 20},
	}
}

// keys returns the JSON object's keys, sorted.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPostJSONFields: a post carries every field SPEC §7 names, in
// snake_case, and nothing unnamed.
func TestPostJSONFields(t *testing.T) {
	b := mustMarshal(t, fullPost())
	got := keys(t, b)
	want := []string{"account", "account_id", "attempts", "created_at", "fail_reason", "id", "next_retry_at",
		"platform_post_ids", "published_at", "run_id", "scheduled_at", "status", "sub_status", "tweets",
		"updated_at", "upload", "warnings"}
	if !slices.Equal(got, want) {
		t.Errorf("post keys = %q\nwant %q", got, want)
	}
	// SPEC §7's list, spelled out: these must never be renamed.
	for _, k := range []string{"id", "account", "status", "sub_status", "scheduled_at", "published_at", "fail_reason", "tweets"} {
		if !slices.Contains(got, k) {
			t.Errorf("SPEC §7 field %q missing", k)
		}
	}
	var p struct {
		Tweets []json.RawMessage `json:"tweets"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	tw := keys(t, p.Tweets[0])
	if want := []string{"media", "platform_post_id", "position", "published_at", "status", "text", "weighted_length"}; !slices.Equal(tw, want) {
		t.Errorf("tweet keys = %q\nwant %q", tw, want)
	}
	var tweet struct {
		Media []json.RawMessage `json:"media"`
	}
	if err := json.Unmarshal(p.Tweets[0], &tweet); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(t, tweet.Media[0]), []string{"alt_text", "mime_type", "path", "size"}; !slices.Equal(got, want) {
		t.Errorf("media keys = %q\nwant %q", got, want)
	}
}

// TestPostJSONRoundTrip: what the daemon writes the client reads back
// unchanged, every field and non-ASCII text included.
func TestPostJSONRoundTrip(t *testing.T) {
	in := fullPost()
	var out api.Post
	if err := json.Unmarshal(mustMarshal(t, in), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the post:\n in  %+v\n out %+v", in, out)
	}
	// Every field of fullPost is set, so a field the round trip dropped
	// would have shown above; guard against fullPost falling behind Post.
	v := reflect.ValueOf(in)
	for i := range v.NumField() {
		if v.Field(i).IsZero() && v.Type().Field(i).Name != "ID" {
			t.Errorf("fullPost leaves %s unset; set it so the tests cover it", v.Type().Field(i).Name)
		}
	}
}

// TestPostJSONNullsAndOmissions: SPEC §7's nullable fields are present as
// null on a fresh draft (programs test for null, not for a missing key);
// the optional extras (warnings, upload, a tweet's published_at and media,
// a medium's alt text) are left out when empty.
func TestPostJSONNullsAndOmissions(t *testing.T) {
	p := api.Post{ID: 1, Account: "alice", Status: api.StatusDraft,
		Tweets: []api.Tweet{{Text: "hi", Status: api.StatusDraft, Media: []api.Media{{Path: "/a.png"}}}}}
	var m map[string]any
	if err := json.Unmarshal(mustMarshal(t, p), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sub_status", "scheduled_at", "published_at", "fail_reason", "next_retry_at", "platform_post_ids"} {
		v, ok := m[k]
		if !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	for _, k := range []string{"warnings", "upload"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s present on a post without any", k)
		}
	}
	tw := m["tweets"].([]any)[0].(map[string]any)
	if v, ok := tw["platform_post_id"]; !ok || v != nil {
		t.Errorf("tweet platform_post_id = %v (present %v), want null", v, ok)
	}
	if _, ok := tw["published_at"]; ok {
		t.Error("tweet published_at present before it is published")
	}
	if _, ok := tw["media"].([]any)[0].(map[string]any)["alt_text"]; ok {
		t.Error("alt_text present without alt text")
	}
	// Without media the key goes too.
	p.Tweets[0].Media = nil
	if strings.Contains(string(mustMarshal(t, p)), `"media"`) {
		t.Error("media present on a tweet without any")
	}
}

var rfc3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)

// TestTimesAreRFC3339: every time on the wire is an RFC 3339 string, in
// UTC or with its offset, and reads back as the same instant.
func TestTimesAreRFC3339(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	local := time.Date(2026, 12, 1, 9, 0, 0, 0, tokyo)
	p := fullPost()
	p.ScheduledAt = &local
	var m map[string]any
	if err := json.Unmarshal(mustMarshal(t, p), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scheduled_at", "published_at", "next_retry_at", "created_at", "updated_at"} {
		s, ok := m[k].(string)
		if !ok || !rfc3339.MatchString(s) {
			t.Errorf("%s = %#v, want an RFC 3339 string", k, m[k])
			continue
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Errorf("%s = %q: %v", k, s, err)
		}
	}
	if m["scheduled_at"] != "2026-12-01T09:00:00+09:00" {
		t.Errorf("scheduled_at = %v, want the offset kept", m["scheduled_at"])
	}
	var back api.Post
	if err := json.Unmarshal(mustMarshal(t, p), &back); err != nil {
		t.Fatal(err)
	}
	if !back.ScheduledAt.Equal(local) {
		t.Errorf("scheduled_at read back as %v, want %v", back.ScheduledAt, local)
	}
	// Health and Keyring times too.
	h := mustMarshal(t, api.Health{StartedAt: local, Keyring: api.Keyring{NextTry: &local}})
	if !strings.Contains(string(h), `"started_at":"2026-12-01T09:00:00+09:00"`) || !strings.Contains(string(h), `"next_try":"2026-12-01T09:00:00+09:00"`) {
		t.Errorf("health times: %s", h)
	}
}

// TestRequestBodiesOmitEmpty: a request carries only what the client set,
// so the daemon can tell "not given" from a zero value. An edit with
// Text set to "" still sends it: that is a request to empty the text (which
// the daemon refuses), not a request to keep it.
func TestRequestBodiesOmitEmpty(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{api.CreatePost{}, `{}`},
		{api.EditPost{}, `{}`},
		{api.EditPost{Text: ptr("")}, `{"text":""}`},
		{api.CreatePost{Text: "hé", Media: []api.MediaInput{{Path: "/a.png"}}}, `{"text":"hé","media":[{"path":"/a.png"}]}`},
		{api.LoginRequest{}, `{}`},
		{api.SetAppRequest{ClientID: "id"}, `{"client_id":"id"}`},
	} {
		if got := string(mustMarshal(t, c.v)); got != c.want {
			t.Errorf("%T: %s, want %s", c.v, got, c.want)
		}
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if got := string(mustMarshal(t, api.CreatePost{At: &at, Account: "bob"})); got != `{"at":"2026-12-01T09:00:00Z","account":"bob"}` {
		t.Errorf("create with a time: %s", got)
	}
}

// TestErrorBody: errors travel as {"error":{"code","message"}}; the HTTP
// status is not part of the body.
func TestErrorBody(t *testing.T) {
	e := api.ErrorBody{Error: api.Error{Code: api.CodeNotFound, Message: "post 9 not found", Status: 404}}
	if got := string(mustMarshal(t, e)); got != `{"error":{"code":"not_found","message":"post 9 not found"}}` {
		t.Errorf("error body: %s", got)
	}
	if e.Error.Error() != "post 9 not found" {
		t.Errorf("Error() = %q", e.Error.Error())
	}
}
