package publishing

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// publishSafely is the publish goroutine's boundary: a panic while
// publishing one post (a bug, say in comparing X's rendering of a text)
// fails that post with the reason and leaves the daemon running. Letting
// it crash the daemon would crash it again at every start, since the
// post is resumed first.
func (p *publisher) publishSafely(ctx context.Context, pst *post.Post, due time.Time) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		reason := fmt.Sprintf("internal error while publishing (please report it): %v", r)
		p.log.Error("publish panicked", "post", pst.ID, "panic", r, "stack", string(debug.Stack()))
		// The send mark stays: a retry looks the tweet up before posting.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		err := p.store.Update(rctx, func(tx *sqlstore.Tx) error {
			return tx.FailPost(pst.ID, p.owner, reason, p.clock.Now())
		})
		if err != nil {
			p.log.Error("record publish failure after panic", "post", pst.ID, "err", err)
		} else {
			p.notifyFailed(pst, reason)
		}
		p.changed(pst.ID)
	}()
	p.publish(ctx, pst, due)
}
