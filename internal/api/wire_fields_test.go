package api_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestPostWireNamesAreSnakeCase: SPEC §7's JSON is snake_case. Every
// exported field of the post shapes (and the shapes inside them) carries
// an explicit snake_case JSON name; one without a tag would be sent under
// its Go name.
func TestPostWireNamesAreSnakeCase(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[api.Post]().PkgPath() || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, ok := f.Tag.Lookup("json")
			name, _, _ := strings.Cut(tag, ",")
			switch {
			case !ok || name == "":
				t.Errorf("%s.%s has no JSON name", typ.Name(), f.Name)
			case name == "-":
			case !snakeCase.MatchString(name):
				t.Errorf("%s.%s: JSON name %q is not snake_case", typ.Name(), f.Name, name)
			}
			walk(f.Type)
		}
	}
	for _, v := range []any{api.Post{}, api.Tweet{}, api.CreatePost{}, api.EditPost{}, api.DeleteResult{}} {
		walk(reflect.TypeOf(v))
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[api.Tweet](), reflect.TypeFor[api.Media](), reflect.TypeFor[api.Upload]()} {
		if !seen[typ] {
			t.Errorf("%s not reached from api.Post", typ.Name())
		}
	}
}

// TestPostWireHasSpecFields: the fields SPEC §7 promises on a post (from
// post, show, edit and list) are always in its JSON, even when empty, so a
// script can read them without checking for their presence.
func TestPostWireHasSpecFields(t *testing.T) {
	postFields := []string{"id", "account", "status", "sub_status", "scheduled_at", "published_at", "fail_reason", "tweets"}
	tweetFields := []string{"position", "text", "status", "platform_post_id"}

	b, err := json.Marshal(api.Post{Tweets: []api.Tweet{{}}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range postFields {
		if _, ok := got[k]; !ok {
			t.Errorf("post JSON lacks %q: %s", k, b)
		}
	}
	var tweets []map[string]json.RawMessage
	if err := json.Unmarshal(got["tweets"], &tweets); err != nil || len(tweets) != 1 {
		t.Fatalf("tweets %s: %v", got["tweets"], err)
	}
	for _, k := range tweetFields {
		if _, ok := tweets[0][k]; !ok {
			t.Errorf("tweet JSON lacks %q: %s", k, got["tweets"])
		}
	}
}
