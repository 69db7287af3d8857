package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/tweettext"
)

// TestPostFieldsRoundTrip fills every field of post.Post, post.Tweet and
// post.Media by reflection, writes the post through the store and reads it
// back through each read path. A field added to the domain types but not
// to the store's INSERT, SELECT list or scan comes back zero, and fails
// here by name.
//
// Fields the store derives instead of storing as given (each listed with
// why) are set to what the store must answer before comparing:
//   - Post.ID, Tweet.RowID, Media.ID: assigned by the database.
//   - Tweet.Position: the row's thread_position, which is its index.
//   - Tweets[0].Status: the root row's status is the post's; its tweet
//     reads as published once it has an X id.
//   - Tweets[0].PublishedAt: the root row's published_at, the same column
//     as Post.PublishedAt.
//   - Post.Account: the username, read from the accounts table.
//   - Tweet.WeightedLength: counted from the text when it is written.
func TestPostFieldsRoundTrip(t *testing.T) {
	var f filler
	want := &post.Post{}
	f.fill(t, reflect.ValueOf(want).Elem(), "Post")

	for i := range want.Tweets {
		want.Tweets[i].Position = i
	}

	want.Tweets[0].Status = post.StatusPublished
	want.Tweets[0].PublishedAt = want.PublishedAt

	s := openTemp(t)
	ctx := context.Background()
	var id int64
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: want.AccountID, Username: want.Account}, want.CreatedAt); err != nil {
			return err
		}
		var err error
		id, err = tx.InsertPost(want)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Tweets {
		want.Tweets[i].WeightedLength = tweettext.WeightedLength(want.Tweets[i].Text)
	}

	reads := map[string]func(*Tx) (*post.Post, error){
		"GetPost": func(tx *Tx) (*post.Post, error) { return tx.GetPost(id) },
		"ListPosts": func(tx *Tx) (*post.Post, error) {
			ps, err := tx.ListPosts(ListFilter{})
			if err != nil || len(ps) != 1 {
				return nil, fmt.Errorf("%d posts, err %v", len(ps), err)
			}
			return ps[0], nil
		},
		"ListPage": func(tx *Tx) (*post.Post, error) {
			ps, _, _, err := tx.ListPage(ListQuery{}, nil, 10)
			if err != nil || len(ps) != 1 {
				return nil, fmt.Errorf("%d posts, err %v", len(ps), err)
			}
			return ps[0], nil
		},
	}
	for name, read := range reads {
		var got *post.Post
		if err := s.View(ctx, func(tx *Tx) (err error) { got, err = read(tx); return err }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The ids are the database's: present, then set aside.
		exp := clonePost(want)
		exp.ID = id
		if len(got.Tweets) == len(exp.Tweets) {
			for i := range got.Tweets {
				if got.Tweets[i].RowID == 0 {
					t.Errorf("%s: tweet %d has no row id", name, i)
				}
				exp.Tweets[i].RowID = got.Tweets[i].RowID
				for j := range min(len(got.Tweets[i].Media), len(exp.Tweets[i].Media)) {
					if got.Tweets[i].Media[j].ID == 0 {
						t.Errorf("%s: tweet %d media %d has no id", name, i, j)
					}
					exp.Tweets[i].Media[j].ID = got.Tweets[i].Media[j].ID
				}
			}
		}
		for _, d := range diff("Post", reflect.ValueOf(*exp), reflect.ValueOf(*got)) {
			t.Errorf("%s: %s", name, d)
		}
	}
}

// filler gives every field a distinct non-zero value of its type, and
// fails on a kind it does not know, so a new kind of field extends it.
type filler struct{ n int }

func (f *filler) fill(t *testing.T, v reflect.Value, path string) {
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
		f.fill(t, v.Elem(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			f.fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		// Two of each: a thread, two media; the second element of a slice
		// is where a field lost on child rows shows.
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.fill(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		t.Fatalf("%s: no filler for kind %s; extend the filler", path, v.Kind())
	}
}

func clonePost(p *post.Post) *post.Post {
	c := *p
	c.Tweets = make([]post.Tweet, len(p.Tweets))
	for i, tw := range p.Tweets {
		tw.Media = append([]post.Media(nil), tw.Media...)
		c.Tweets[i] = tw
	}
	return &c
}

// diff lists the paths at which want and got differ.
func diff(path string, want, got reflect.Value) []string {
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
			out = append(out, diff(path+"."+want.Type().Field(i).Name, want.Field(i), got.Field(i))...)
		}
		return out
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
			}
			return nil
		}
		return diff(path, want.Elem(), got.Elem())
	case reflect.Slice:
		if want.Len() != got.Len() {
			return []string{fmt.Sprintf("%s: got %d elements, want %d", path, got.Len(), want.Len())}
		}
		var out []string
		for i := range want.Len() {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))...)
		}
		return out
	}
	if !reflect.DeepEqual(want.Interface(), got.Interface()) {
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got, want)}
	}
	return nil
}

// TestPlatformPostIDsColumnDropped: the id list lives in the tweets' own
// platform_post_id; migration 00008 removed the unread copy.
func TestPlatformPostIDsColumnDropped(t *testing.T) {
	s := openTemp(t)
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM pragma_table_xinfo('posts') WHERE name = 'platform_post_ids'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("posts still has platform_post_ids")
	}
}
