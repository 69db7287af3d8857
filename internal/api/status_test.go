package api_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/sqlstore/sqlstoretest"
)

// TestStatusNamesMatchDomain: the wire names are the domain's, in the same
// order, sub-statuses included. A status added to post.Statuses and not
// here fails this test.
func TestStatusNamesMatchDomain(t *testing.T) {
	var want []string
	for _, s := range post.Statuses {
		want = append(want, string(s))
	}
	if !slices.Equal(api.Statuses, want) {
		t.Errorf("api.Statuses = %q, post.Statuses = %q", api.Statuses, want)
	}
	want = nil
	for _, s := range post.SubStatuses {
		want = append(want, string(s))
	}
	if !slices.Equal(api.SubStatuses, want) {
		t.Errorf("api.SubStatuses = %q, post.SubStatuses = %q", api.SubStatuses, want)
	}
}

// errRollback undoes a probe transaction.
var errRollback = errors.New("rollback")

// TestStatusRulesMatchDomain: api's rules, which the CLI uses to offer
// post IDs to complete, agree for every status with what the domain and the
// store actually allow: Editable with post.Status.Editable, Cancellable and
// Retryable with whether the store's CancelPost and RetryPost change a post
// in that status (probed on a real database, each change rolled back).
func TestStatusRulesMatchDomain(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstoretest.Open(ctx, filepath.Join(t.TempDir(), "psnd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ids, err := sqlstoretest.SeedPosts(ctx, s, sqlstoretest.Spec{
		Posts:  len(post.Statuses),
		Status: func(i int) post.Status { return post.Statuses[i] },
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	accepts := func(op func(tx *sqlstore.Tx, id int64) (*post.Post, error), id int64) bool {
		err := s.Update(ctx, func(tx *sqlstore.Tx) error {
			before, err := tx.GetPost(id)
			if err != nil {
				return err
			}
			after, err := op(tx, id)
			if err != nil {
				return err
			}
			if after.RunID == before.RunID { // accepted as a no-op (cancel of a draft)
				return sqlstore.ErrNotEditable
			}
			return errRollback
		})
		switch {
		case errors.Is(err, errRollback):
			return true
		case errors.Is(err, sqlstore.ErrNotEditable):
			return false
		}
		t.Fatalf("post %d: %v", id, err)
		return false
	}
	for i, st := range post.Statuses {
		name := string(st)
		if got, want := api.Editable(name), st.Editable(); got != want {
			t.Errorf("api.Editable(%q) = %v, post says %v", name, got, want)
		}
		cancel := func(tx *sqlstore.Tx, id int64) (*post.Post, error) { return tx.CancelPost(id, now) }
		if got, want := api.Cancellable(name), accepts(cancel, ids[i]); got != want {
			t.Errorf("api.Cancellable(%q) = %v, the store's CancelPost says %v", name, got, want)
		}
		retry := func(tx *sqlstore.Tx, id int64) (*post.Post, error) { return tx.RetryPost(id, now) }
		if got, want := api.Retryable(name), accepts(retry, ids[i]); got != want {
			t.Errorf("api.Retryable(%q) = %v, the store's RetryPost says %v", name, got, want)
		}
	}
	if got := api.StatusesWhere(api.Retryable); !slices.Equal(got, []string{api.StatusFailed, api.StatusRetry}) {
		t.Errorf("StatusesWhere(Retryable) = %q", got)
	}
}
