package localapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

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

// wireFormatVersion is bumped when the stored wire form changes in a way
// wireFormatSample cannot show (a rule that applies only to some values).
// Any change the sample shows — a field added, renamed, reordered or
// encoded otherwise — changes the format by itself.
const wireFormatVersion = 1

// wireFormatSample is a post with every field of the wire form set, and
// text that needs escaping.
func wireFormatSample() *post.Post {
	at := time.Date(2026, 3, 29, 0, 30, 0, 123e6, time.UTC)
	return &post.Post{ID: 7, AccountID: "42", Account: "alice", Status: post.StatusFailed, SubStatus: post.SubAtRisk,
		ScheduledAt: &at, PublishedAt: &at, FailReason: "x said \"no\" <&>", RunID: "r", Attempts: 2, Retries: 1,
		NextRetryAt: &at, CreatedAt: at, UpdatedAt: at, Tweets: []post.Tweet{
			{Position: 0, Text: "İ 👩‍👩‍👧 \u2028 https://t.co/x", WeightedLength: 9, Status: post.StatusPublished,
				PlatformPostID: "1", PublishedAt: &at, Media: []post.Media{{Path: "/m/a b.png", MimeType: "image/png", Size: 3, AltText: "a\tcat"}}},
			// No stored length: counted here, so a change of the counting
			// rules changes the format too.
			{Position: 1, Text: "two https://example.com/a?b=c 👩‍👩‍👧 İ #x @y", Status: post.StatusFailed},
		}}
}

// wireFormat names the encoding of encodeWire: the store drops the forms
// stored in any other (sqlstore.UseWireFormat), so that a psnd never
// serves a list as another version of psnd wrote it.
var wireFormat = sync.OnceValue(func() string {
	sum := sha256.Sum256(encodeWire(wireFormatSample()))
	return fmt.Sprintf("%d:%s", wireFormatVersion, hex.EncodeToString(sum[:8]))
})

// useWireFormat drops the stored wire forms when another encoding made
// them. The daemon runs it at start, before the API serves a list.
func (s *Server) useWireFormat(ctx context.Context) {
	var reset bool
	if err := s.store.Update(ctx, func(tx *sqlstore.Tx) error {
		var err error
		reset, err = tx.UseWireFormat(wireFormat())
		return err
	}); err != nil {
		s.log.Warn("check the format of the posts' list forms", "err", err)
		return
	}
	if reset {
		s.log.Info("the posts' list forms were stored by another psnd; encoding them again")
	}
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
	err := StoreWireForms(context.Background(), s.store, s.stopping.Load)
	// A database file gone is logged once, by CheckDB; this runs after
	// every request.
	if err != nil && !errors.Is(err, sqlstore.ErrDatabaseGone) {
		s.log.Warn("store the posts' list forms", "err", err)
	}
}

// StoreWireForms stores the wire form of every stale post, then the runs
// of forms that writes deleted, a batch per write transaction, until none
// is left or stop (if set) reports true.
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
			return storeWireRuns(ctx, store, stop)
		}
	}
	return nil
}

// wireRunsBatch is how many runs one write transaction of BuildWireRuns
// builds: at most 2,048 posts' forms (about 1.3 MB), a few milliseconds
// of the write lock.
const wireRunsBatch = 32

// storeWireRuns builds the runs of stored forms that writes deleted (and
// all of them the first time), a batch per write transaction.
func storeWireRuns(ctx context.Context, store *sqlstore.Store, stop func() bool) error {
	for stop == nil || !stop() {
		var done bool
		if err := store.Update(ctx, func(tx *sqlstore.Tx) error {
			var err error
			done, err = tx.BuildWireRuns(wireRunsBatch)
			return err
		}); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
	return nil
}
