package sqlstore

import (
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/tweettext"
)

// PostUpdate is a user's change to a post. Nil fields are left alone.
type PostUpdate struct {
	Tweets      []NewTweet  // replaces the text (and media) of every tweet
	ScheduledAt *time.Time  // new time; schedules a draft or failed post
	Status      post.Status // "" (keep or infer), draft or scheduled
	// ExpectRunID, if set, refuses the change when the post has changed
	// since the client read it.
	ExpectRunID string
}

// notEditable explains why a post cannot be changed.
func notEditable(p *post.Post, what string) error {
	switch p.Status {
	case post.StatusPublishing:
		return Explain(ErrNotEditable, "post %d is being published right now and can no longer be %s", p.ID, what)
	case post.StatusPublished:
		return Explain(ErrNotEditable, "post %d is already published and cannot be %s (delete it with `psnd delete %d`)", p.ID, what, p.ID)
	}
	return Explain(ErrNotEditable, "post %d cannot be %s while %s", p.ID, what, p.Status)
}

func hasPublishedTweets(p *post.Post) bool { return len(p.PlatformPostIDs()) > 0 }

// checkNoPendingSend refuses a change that would lose track of a tweet
// whose create may have reached X unanswered: a retry must look it up first.
func (t *Tx) checkNoPendingSend(p *post.Post, what string) error {
	n, err := t.PendingSends(p.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		return Explain(ErrNotEditable, "psnd cannot tell yet whether post %d reached X (its last request went unanswered), so it cannot be %s; `psnd retry %d` checks X first",
			p.ID, what, p.ID)
	}
	return nil
}

// UpdatePost applies a user's edit under the run_id fence: it succeeds only
// if the post is not being published, and it gives the post a new run_id so
// that any publish attempt or timer holding the old one cannot act on it.
func (t *Tx) UpdatePost(id int64, u PostUpdate, now time.Time) (*post.Post, error) {
	p, err := t.GetPost(id)
	if err != nil {
		return nil, err
	}
	if u.ExpectRunID != "" && u.ExpectRunID != p.RunID {
		return nil, Explain(ErrStale, "post %d changed since it was read; read it again and retry the change", id)
	}
	if !p.Status.Editable() {
		return nil, notEditable(p, "edited")
	}
	if (u.Tweets != nil || u.Status == post.StatusDraft) && hasPublishedTweets(p) {
		return nil, Explain(ErrNotEditable, "post %d is partly published on X; its text can no longer change (retry it with `psnd retry %d`)", id, id)
	}
	if u.Tweets != nil || u.Status == post.StatusDraft {
		if err := t.checkNoPendingSend(p, "edited"); err != nil {
			return nil, err
		}
	}
	ts := fmtTime(now)
	status := p.Status
	sched := p.ScheduledAt
	if u.ScheduledAt != nil {
		sched = u.ScheduledAt
		if status != post.StatusScheduled {
			status = post.StatusScheduled
		}
	}
	if u.Status != "" {
		status = u.Status
	}
	// A failed or waiting post edited without a new time keeps its state:
	// nothing is published unexpectedly, and `psnd retry` sends the new text.
	if status == post.StatusScheduled && sched == nil {
		return nil, fmt.Errorf("post %d has no time to be scheduled at; give one", id)
	}
	if u.Tweets != nil {
		if len(u.Tweets) == 0 {
			return nil, fmt.Errorf("edit post %d: no text", id)
		}
		if _, err := t.exec(`DELETE FROM posts WHERE parent_post_id = ?`, id); err != nil {
			return nil, fmt.Errorf("replace thread: %w", mapErr(err))
		}
		if _, err := t.exec(`DELETE FROM media WHERE post_id = ?`, id); err != nil {
			return nil, fmt.Errorf("replace media: %w", mapErr(err))
		}
		if _, err := t.exec(`UPDATE posts SET content = ?, weighted_length = ? WHERE id = ?`,
			u.Tweets[0].Text, tweettext.WeightedLength(u.Tweets[0].Text), id); err != nil {
			return nil, fmt.Errorf("update text: %w", mapErr(err))
		}
		if err := t.insertMedia(id, u.Tweets[0].Media, ts); err != nil {
			return nil, err
		}
		// The new thread rows share the post's account, schedule and fence
		// (reset below gives all rows the new run_id).
		thread := &post.Post{AccountID: p.AccountID, ScheduledAt: sched, RunID: p.RunID, CreatedAt: now, UpdatedAt: now}
		for i, tw := range u.Tweets {
			thread.Tweets = append(thread.Tweets, post.Tweet{Position: i, Text: tw.Text, Status: status, Media: tw.Media})
		}
		for i := 1; i < len(thread.Tweets); i++ {
			if _, err := t.insertTweetRow(thread, id, i); err != nil {
				return nil, err
			}
		}
	}
	if err := t.reset(id, status, sched, ts); err != nil {
		return nil, err
	}
	return t.GetPost(id)
}

// reset gives a post a new status and run_id. Moving to draft or scheduled
// clears the retry state of an earlier attempt; a failed or waiting post
// keeps its reason and retry time.
func (t *Tx) reset(id int64, status post.Status, sched *time.Time, ts string) error {
	runID := NewRunID()
	fresh := status == post.StatusDraft || status == post.StatusScheduled
	if _, err := t.exec(`UPDATE posts SET status = ?1, scheduled_at = ?2, run_id = ?3,
			sub_status = CASE WHEN NOT ?4 OR sub_status = 'thread_partial' THEN sub_status ELSE '' END,
			fail_reason = CASE WHEN ?4 THEN '' ELSE fail_reason END,
			retries = CASE WHEN ?4 THEN 0 ELSE retries END,
			next_retry_at = CASE WHEN ?4 THEN NULL ELSE next_retry_at END,
			lease_owner = NULL, lease_expires_at = NULL, updated_at = ?5
		WHERE id = ?6`, string(status), fmtTimePtr(sched), runID, fresh, ts, id); err != nil {
		return fmt.Errorf("update post: %w", mapErr(err))
	}
	if _, err := t.exec(`UPDATE posts SET status = ?, scheduled_at = ?, run_id = ?, updated_at = ?
		WHERE parent_post_id = ? AND platform_post_id IS NULL`, string(status), fmtTimePtr(sched), runID, ts, id); err != nil {
		return fmt.Errorf("update thread: %w", mapErr(err))
	}
	return nil
}

// CancelPost returns a scheduled (or waiting, or failed) post to draft,
// keeping its content.
func (t *Tx) CancelPost(id int64, now time.Time) (*post.Post, error) {
	p, err := t.GetPost(id)
	if err != nil {
		return nil, err
	}
	switch p.Status {
	case post.StatusScheduled, post.StatusRetry, post.StatusFailed:
	case post.StatusDraft:
		return p, nil // already cancelled: idempotent
	default:
		return nil, notEditable(p, "cancelled")
	}
	if hasPublishedTweets(p) {
		return nil, Explain(ErrNotEditable, "post %d is partly published on X; retry it (`psnd retry %d`) or delete it (`psnd delete %d`)", id, id, id)
	}
	if err := t.checkNoPendingSend(p, "cancelled"); err != nil {
		return nil, err
	}
	if err := t.reset(id, post.StatusDraft, p.ScheduledAt, fmtTime(now)); err != nil {
		return nil, err
	}
	return t.GetPost(id)
}

// RetryPost schedules a failed (or waiting) post for now; a thread resumes
// after its last recorded tweet.
func (t *Tx) RetryPost(id int64, now time.Time) (*post.Post, error) {
	p, err := t.GetPost(id)
	if err != nil {
		return nil, err
	}
	switch p.Status {
	case post.StatusFailed, post.StatusRetry:
	case post.StatusScheduled:
		if p.SubStatus == post.SubOverBudget {
			// Held by the budget: look at it again now.
			break
		}
		return nil, Explain(ErrNotEditable, "post %d is scheduled and has not failed, so there is nothing to retry; to publish it now, run `psnd edit %d --now`", id, id)
	case post.StatusDraft:
		return nil, Explain(ErrNotEditable, "post %d is a draft, so there is nothing to retry; to publish it, run `psnd edit %d --now` (or --at WHEN)", id, id)
	default:
		return nil, notEditable(p, "retried")
	}
	if err := t.reset(id, post.StatusScheduled, &now, fmtTime(now)); err != nil {
		return nil, err
	}
	return t.GetPost(id)
}

// PrepareDelete takes a post out of the schedule before its tweets are
// deleted on X, under the run_id fence: a new run_id, and a scheduled or
// waiting post becomes a draft, so no publish attempt can start (or resume
// a thread) while the deletions are under way. It refuses a post being
// published or one whose last create went unanswered. The caller deletes
// the tweets on X, then the rows with DeletePrepared and the returned
// post's run_id.
func (t *Tx) PrepareDelete(id int64, now time.Time) (*post.Post, error) {
	p, err := t.GetPost(id)
	if err != nil {
		return nil, err
	}
	if p.Status == post.StatusPublishing {
		return nil, notEditable(p, "deleted")
	}
	if err := t.checkNoPendingSend(p, "deleted"); err != nil {
		return nil, err
	}
	// A post with tweets on X becomes failed (if the deletion stops half
	// way, `psnd retry` or `psnd delete` again are both still possible);
	// one with nothing on X becomes a draft.
	status := p.Status
	switch {
	case hasPublishedTweets(p) && status != post.StatusPublished:
		status = post.StatusFailed
	case status == post.StatusScheduled || status == post.StatusRetry:
		status = post.StatusDraft
	}
	runID := NewRunID()
	ts := fmtTime(now)
	if _, err := t.exec(`UPDATE posts SET status = ?, run_id = ?, next_retry_at = NULL,
			lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
		WHERE id = ?`, string(status), runID, ts, id); err != nil {
		return nil, fmt.Errorf("prepare delete: %w", mapErr(err))
	}
	if _, err := t.exec(`UPDATE posts SET run_id = ?, updated_at = ? WHERE parent_post_id = ?`, runID, ts, id); err != nil {
		return nil, fmt.Errorf("prepare delete: %w", mapErr(err))
	}
	return t.GetPost(id)
}

// DeletePrepared removes the rows of a post prepared for deletion, unless
// it changed since (its run_id is no longer runID).
func (t *Tx) DeletePrepared(id int64, runID string) error {
	p, err := t.GetPost(id)
	if err != nil {
		return err
	}
	if p.RunID != runID {
		return fmt.Errorf("post %d changed while it was being deleted: %w", id, ErrStale)
	}
	return t.deleteRows(id)
}

func (t *Tx) deleteRows(id int64) error {
	// Children and media go by ON DELETE CASCADE.
	if _, err := t.exec(`DELETE FROM posts WHERE id = ? AND parent_post_id IS NULL`, id); err != nil {
		return fmt.Errorf("delete post %d: %w", id, mapErr(err))
	}
	return nil
}
