package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/post/posttest"
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
	want := posttest.Filled(t)

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
		exp := posttest.Clone(want)
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
		for _, d := range posttest.Diff("Post", reflect.ValueOf(*exp), reflect.ValueOf(*got)) {
			t.Errorf("%s: %s", name, d)
		}
	}
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
