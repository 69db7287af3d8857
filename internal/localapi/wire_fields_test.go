package localapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/post/posttest"
)

// TestWireCarriesEveryPostField takes a post with every domain field set
// (by reflection), converts it as the server does (wirePost), encodes it
// both ways the server writes posts (encoding/json for one post, the
// append encoder for lists), decodes it as the client does (into api.Post)
// and compares every field the wire carries with the domain's value.
//
// Every field of post.Post, post.Tweet and post.Media must be either
// compared below or named in notOnWire with the reason: a field added to
// the domain and forgotten on the wire fails here by name. With
// internal/sqlstore's TestPostFieldsRoundTrip (store ↔ domain), this
// holds a field from the database to the client.
func TestWireCarriesEveryPostField(t *testing.T) {
	p := posttest.Filled(t)
	p.SubStatus = post.SubRetry2
	for i := range p.Tweets {
		p.Tweets[i].Position = i
	}

	utc := func(t *time.Time) any {
		if t == nil {
			return (*time.Time)(nil)
		}
		u := t.UTC()
		return &u
	}
	str := func(s string) any { return &s }
	type pair struct{ domain, wire any }
	postF := map[string]func(api.Post) pair{
		"ID":          func(w api.Post) pair { return pair{p.ID, w.ID} },
		"AccountID":   func(w api.Post) pair { return pair{p.AccountID, w.AccountID} },
		"Account":     func(w api.Post) pair { return pair{p.Account, w.Account} },
		"Status":      func(w api.Post) pair { return pair{string(p.Status), w.Status} },
		"SubStatus":   func(w api.Post) pair { return pair{str(string(p.SubStatus)), w.SubStatus} },
		"ScheduledAt": func(w api.Post) pair { return pair{utc(p.ScheduledAt), w.ScheduledAt} },
		"PublishedAt": func(w api.Post) pair { return pair{utc(p.PublishedAt), w.PublishedAt} },
		"FailReason":  func(w api.Post) pair { return pair{str(p.FailReason), w.FailReason} },
		"RunID":       func(w api.Post) pair { return pair{p.RunID, w.RunID} },
		"Attempts":    func(w api.Post) pair { return pair{p.Attempts, w.Attempts} },
		"NextRetryAt": func(w api.Post) pair { return pair{utc(p.NextRetryAt), w.NextRetryAt} },
		"CreatedAt":   func(w api.Post) pair { return pair{p.CreatedAt.UTC(), w.CreatedAt} },
		"UpdatedAt":   func(w api.Post) pair { return pair{p.UpdatedAt.UTC(), w.UpdatedAt} },
		"Tweets":      func(w api.Post) pair { return pair{len(p.Tweets), len(w.Tweets)} },
	}
	tweetF := map[string]func(d post.Tweet, w api.Tweet) pair{
		"Position":       func(d post.Tweet, w api.Tweet) pair { return pair{d.Position, w.Position} },
		"Text":           func(d post.Tweet, w api.Tweet) pair { return pair{d.Text, w.Text} },
		"WeightedLength": func(d post.Tweet, w api.Tweet) pair { return pair{d.WeightedLength, w.WeightedLength} },
		"Status":         func(d post.Tweet, w api.Tweet) pair { return pair{string(d.Status), w.Status} },
		"PlatformPostID": func(d post.Tweet, w api.Tweet) pair { return pair{str(d.PlatformPostID), w.PlatformPostID} },
		"PublishedAt":    func(d post.Tweet, w api.Tweet) pair { return pair{utc(d.PublishedAt), w.PublishedAt} },
		"Media":          func(d post.Tweet, w api.Tweet) pair { return pair{len(d.Media), len(w.Media)} },
	}
	mediaF := map[string]func(d post.Media, w api.Media) pair{
		"Path":     func(d post.Media, w api.Media) pair { return pair{d.Path, w.Path} },
		"MimeType": func(d post.Media, w api.Media) pair { return pair{d.MimeType, w.MimeType} },
		"Size":     func(d post.Media, w api.Media) pair { return pair{d.Size, w.Size} },
		"AltText":  func(d post.Media, w api.Media) pair { return pair{d.AltText, w.AltText} },
	}
	notOnWire := map[string]string{
		"Post.Retries":         "the retry counter behind sub_status retry_N; sub_status is what clients see",
		"Tweet.RowID":          "the database row of a thread's tweet; clients address the post by its id",
		"Media.ID":             "a database row id",
		"Media.SHA256":         "the name of psnd's own copy; clients name the file by path",
		"Media.XMediaID":       "X's upload id, which expires: the publisher's business",
		"Media.MediaExpiresAt": "when that upload id expires",
	}
	for typ, fields := range map[reflect.Type][]string{
		reflect.TypeFor[post.Post]():  keys(postF),
		reflect.TypeFor[post.Tweet](): keys(tweetF),
		reflect.TypeFor[post.Media](): keys(mediaF),
	} {
		for i := range typ.NumField() {
			name := typ.Name() + "." + typ.Field(i).Name
			compared := false
			for _, f := range fields {
				compared = compared || f == typ.Field(i).Name
			}
			if !compared && notOnWire[name] == "" {
				t.Errorf("%s is neither carried by the wire (compared here) nor listed in notOnWire with a reason", name)
			}
		}
	}

	one, err := json.Marshal(wirePost(p))
	if err != nil {
		t.Fatal(err)
	}
	wp := wirePost(p)
	list := appendPostJSON(nil, &wp)
	for enc, body := range map[string][]byte{"encoding/json": one, "list encoder": list} {
		var w api.Post
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatalf("%s: decode as the client does: %v", enc, err)
		}
		check := func(field string, pr pair) {
			if !reflect.DeepEqual(pr.domain, pr.wire) {
				t.Errorf("%s: %s: wire %s, domain %s", enc, field, show(pr.wire), show(pr.domain))
			}
		}
		for name, f := range postF {
			check("Post."+name, f(w))
		}
		for i := range min(len(p.Tweets), len(w.Tweets)) {
			for name, f := range tweetF {
				check(fmt.Sprintf("Tweets[%d].%s", i, name), f(p.Tweets[i], w.Tweets[i]))
			}
			for j := range min(len(p.Tweets[i].Media), len(w.Tweets[i].Media)) {
				for name, f := range mediaF {
					check(fmt.Sprintf("Tweets[%d].Media[%d].%s", i, j, name), f(p.Tweets[i].Media[j], w.Tweets[i].Media[j]))
				}
			}
		}
		if want := p.PlatformPostIDs(); !reflect.DeepEqual(w.PlatformPostIDs, want) {
			t.Errorf("%s: platform_post_ids %v, want %v (built from the tweets)", enc, w.PlatformPostIDs, want)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return fmt.Sprintf("&%v", rv.Elem())
	}
	return strings.TrimSpace(fmt.Sprintf("%v", v))
}
