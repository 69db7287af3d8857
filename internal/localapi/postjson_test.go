package localapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
)

// pieces are what the random texts are made of: what users write
// (non-ASCII, RTL, emoji, URLs) and everything encoding/json escapes
// (quotes, backslashes, control bytes, HTML characters, U+2028/2029,
// invalid UTF-8).
var pieces = []string{
	"hello", " ", "İstanbul", "Ⱥ", "東京", "عربي", "שלום", "🪁", "👩‍👩‍👧", "🇯🇵", "é", "e\u0301",
	"https://example.com/a?b=1&c=2", "<b>", ">", "&amp;", `"`, `\`, "/", "\n", "\r", "\t", "\b", "\f",
	"\x00", "\x01", "\x1f", "\x7f", "\u2028", "\u2029", "\ufffd", "\xff", "\xe2\x82", "\xc3", "#tag", "@bob", "'",
}

func randText(r *rand.Rand) string {
	var sb strings.Builder
	for range r.IntN(12) {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

func randStrPtr(r *rand.Rand) *string {
	if r.IntN(3) == 0 {
		return nil
	}
	s := randText(r)
	return &s
}

func randTime(r *rand.Rand) time.Time {
	zones := []*time.Location{time.UTC, time.FixedZone("", 9*3600), time.FixedZone("", -(3*3600 + 30*60))}
	t := time.Unix(r.Int64N(4102444800), 0).In(zones[r.IntN(len(zones))])
	switch r.IntN(4) {
	case 1:
		t = t.Add(time.Duration(r.IntN(1e9)))
	case 2:
		t = t.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	case 3:
		t = t.Add(120 * time.Millisecond) // trailing zeros are trimmed
	}
	return t
}

func randTimePtr(r *rand.Rand) *time.Time {
	if r.IntN(3) == 0 {
		return nil
	}
	t := randTime(r)
	return &t
}

func randStrings(r *rand.Rand) []string {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	ss := make([]string, 1+r.IntN(3))
	for i := range ss {
		ss[i] = randText(r)
	}
	return ss
}

func randPost(r *rand.Rand) api.Post {
	p := api.Post{
		ID: r.Int64N(1 << 40), Account: randText(r), AccountID: randText(r), Status: randText(r),
		SubStatus: randStrPtr(r), ScheduledAt: randTimePtr(r), PublishedAt: randTimePtr(r), FailReason: randStrPtr(r),
		Attempts: r.IntN(20) - 2, NextRetryAt: randTimePtr(r), PlatformPostIDs: randStrings(r),
		CreatedAt: randTime(r), UpdatedAt: randTime(r), RunID: randText(r), Warnings: randStrings(r),
	}
	if r.IntN(10) > 0 {
		p.Tweets = []api.Tweet{}
	}
	for i := range r.IntN(4) {
		t := api.Tweet{Position: i, Text: randText(r), WeightedLength: r.IntN(300), Status: randText(r),
			PlatformPostID: randStrPtr(r), PublishedAt: randTimePtr(r)}
		if r.IntN(3) == 0 {
			t.Media = []api.Media{}
		}
		for range r.IntN(3) {
			t.Media = append(t.Media, api.Media{Path: randText(r), MimeType: randText(r), Size: r.Int64N(1 << 33), AltText: randText(r)})
		}
		p.Tweets = append(p.Tweets, t)
	}
	if r.IntN(4) == 0 {
		p.Upload = &api.Upload{Sent: r.Int64N(1 << 30), Total: r.Int64N(1 << 30)}
	}
	return p
}

// TestAppendPostJSONMatchesEncoder: the hand-written encoder writes, for
// every post, exactly the bytes json.Encoder writes (less its newline):
// thousands of random posts with every field nil, empty or set, and the
// wire form of domain posts as wirePost makes it.
func TestAppendPostJSONMatchesEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	var all []api.Post
	for range 5000 {
		all = append(all, randPost(r))
	}
	at := time.Date(2026, 11, 27, 9, 0, 0, 500, time.FixedZone("", 3600))
	all = append(all, api.Post{}, fullWirePost(),
		wirePost(&post.Post{ID: 1, Status: post.StatusScheduled, ScheduledAt: &at, CreatedAt: at, UpdatedAt: at,
			Tweets: []post.Tweet{{Text: "東京 🪁 https://x.com <&> \u2028"}, {Position: 1, Text: "عربي", PlatformPostID: "19"}}}),
		wirePost(&post.Post{ID: 2, Status: post.StatusDraft}))
	for i := range all {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(all[i]); err != nil {
			t.Fatal(err)
		}
		got := string(appendPostJSON(nil, &all[i])) + "\n"
		if got != want.String() {
			t.Fatalf("post %d:\n got %s\nwant %s", i, got, want.String())
		}
	}
}

func fullWirePost() api.Post {
	at := time.Date(2026, 3, 28, 9, 30, 15, 123000000, time.UTC)
	s := func(v string) *string { return &v }
	return api.Post{
		ID: 7, Account: "alice", AccountID: "11", Status: "failed", SubStatus: s("thread_partial"),
		ScheduledAt: &at, PublishedAt: &at, FailReason: s("X refused tweet 2/2 (403)"), Attempts: 2, NextRetryAt: &at,
		PlatformPostIDs: []string{"1900000000000000001"}, CreatedAt: at, UpdatedAt: at, RunID: "r-1",
		Tweets: []api.Tweet{{Position: 0, Text: "東京 🪁 İstanbul", WeightedLength: 21, Status: "published",
			PlatformPostID: s("1900000000000000001"), PublishedAt: &at,
			Media: []api.Media{{Path: "/m/a.jpg", MimeType: "image/jpeg", Size: 48213, AltText: "a red kite"}}}},
		Warnings: []string{"a URL counts as 23"}, Upload: &api.Upload{Sent: 10, Total: 20},
	}
}
