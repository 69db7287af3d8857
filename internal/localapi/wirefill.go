package localapi

import (
	"context"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// wireFillBatch is how many posts one write transaction of FillWire
// encodes: a batch holds the write lock for a millisecond or two, so a
// post due meanwhile is not held up.
const wireFillBatch = 128

// encodeWire is a post's stored wire form: what a list writes for it,
// less the upload progress, which lives in memory (handleListPosts adds
// it).
func encodeWire(p *post.Post) []byte {
	w := wirePost(p)
	return appendPostJSON(nil, &w)
}

// fillWire stores the wire form of every stale post (migration 00017), a
// batch per write transaction. It runs when the API goes quiet, so lists
// find the posts written since ready-made; a failure costs only speed (a
// list reads stale posts from their columns), so it is logged, not
// retried. Shutdown waits for the batch in progress and stops the rest.
func (s *Server) fillWire() {
	if !s.reqs.enter() {
		return
	}
	defer s.reqs.leave()
	if err := StoreWireForms(context.Background(), s.store, s.stopping.Load); err != nil {
		s.log.Warn("store the posts' list forms", "err", err)
	}
}

// StoreWireForms stores the wire form of every stale post, a batch per
// write transaction, until none is left or stop (if set) reports true.
func StoreWireForms(ctx context.Context, store *sqlstore.Store, stop func() bool) error {
	for stop == nil || !stop() {
		var left int
		if err := store.Update(ctx, func(tx *sqlstore.Tx) error {
			var err error
			left, err = tx.FillWire(wireFillBatch, encodeWire)
			return err
		}); err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
	}
	return nil
}
