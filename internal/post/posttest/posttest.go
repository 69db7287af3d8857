// Package posttest fills every field of psnd's domain types by reflection
// and compares them field by field, for the tests that hold each layer
// (store, wire, client) to carry every field: a field added to post.Post
// and forgotten somewhere fails there by name. Imported only by tests.
package posttest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// Filled returns a post with every field set to a distinct non-zero value:
// two tweets, each with two media, non-ASCII text throughout.
func Filled(t testing.TB) *post.Post {
	t.Helper()
	var f Filler
	p := &post.Post{}
	f.Fill(t, reflect.ValueOf(p).Elem(), "Post")
	return p
}

// Filler gives every field a distinct non-zero value of its type, and
// fails on a kind it does not know, so a new kind of field extends it.
type Filler struct{ n int }

// Fill sets v and everything inside it, naming path in its failures.
func (f *Filler) Fill(t testing.TB, v reflect.Value, path string) {
	t.Helper()
	f.n++
	switch v.Type() {
	case reflect.TypeFor[post.Status]():
		// Cycle through the real statuses (the schema checks them).
		v.Set(reflect.ValueOf(post.Statuses[f.n%len(post.Statuses)]))
		return
	case reflect.TypeFor[post.SubStatus]():
		v.Set(reflect.ValueOf(post.SubStatuses[f.n%len(post.SubStatuses)]))
		return
	case reflect.TypeFor[time.Time]():
		base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		v.Set(reflect.ValueOf(base.Add(time.Duration(f.n) * time.Hour).Add(time.Duration(f.n) * time.Millisecond)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		// Non-ASCII on purpose: the store must keep text as given.
		v.SetString(fmt.Sprintf("%s İ日🙂 %d", path, f.n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(1000 + f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.Fill(t, v.Elem(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			f.Fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		// Two of each: a thread, two media; the second element of a slice
		// is where a field lost on child rows shows.
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.Fill(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		t.Fatalf("%s: no filler for kind %s; extend the filler", path, v.Kind())
	}
}

// Clone copies p deeply enough to change its tweets and media.
func Clone(p *post.Post) *post.Post {
	c := *p
	c.Tweets = make([]post.Tweet, len(p.Tweets))
	for i, tw := range p.Tweets {
		tw.Media = append([]post.Media(nil), tw.Media...)
		c.Tweets[i] = tw
	}
	return &c
}

// Diff lists the paths at which want and got differ (times by instant).
func Diff(path string, want, got reflect.Value) []string {
	if want.Type() == reflect.TypeFor[time.Time]() {
		if !want.Interface().(time.Time).Equal(got.Interface().(time.Time)) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
		}
		return nil
	}
	switch want.Kind() {
	case reflect.Struct:
		var out []string
		for i := range want.NumField() {
			out = append(out, Diff(path+"."+want.Type().Field(i).Name, want.Field(i), got.Field(i))...)
		}
		return out
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
			}
			return nil
		}
		return Diff(path, want.Elem(), got.Elem())
	case reflect.Slice:
		if want.Len() != got.Len() {
			return []string{fmt.Sprintf("%s: got %d elements, want %d", path, got.Len(), want.Len())}
		}
		var out []string
		for i := range want.Len() {
			out = append(out, Diff(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))...)
		}
		return out
	}
	if !reflect.DeepEqual(want.Interface(), got.Interface()) {
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got, want)}
	}
	return nil
}
