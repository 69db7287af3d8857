package api

import "time"

// MaxThreadTweets is the most tweets one post (a thread) may have, after
// splitting. X's own composer stops at 25 posts in a thread; psnd posts a
// thread one create at a time, so 25 also stays well inside X's 100 creates
// per 15 minutes per user, and a thread cannot exhaust that window alone.
const MaxThreadTweets = 25

// CreatePost is the body of POST /v1/posts.
type CreatePost struct {
	// Text is the whole post. Lines holding only "---" split it into a
	// thread; with Thread set, parts too long for one tweet are split
	// automatically at paragraph, sentence and word boundaries.
	Text string `json:"text,omitempty"`
	// Tweets gives the thread's tweets explicitly instead of Text.
	Tweets []string `json:"tweets,omitempty"`
	Thread bool     `json:"thread,omitempty"`
	Number bool     `json:"number,omitempty"` // append " i/n" to each tweet of a thread
	// Media are attached to the first tweet: up to 4 images, or 1 GIF, or
	// 1 video. Paths must be absolute; the daemon keeps its own copy.
	Media []MediaInput `json:"media,omitempty"`
	// At is when to publish (RFC 3339). Now publishes at once. Draft keeps
	// the post unscheduled (At may still record a planned time).
	At    *time.Time `json:"at,omitempty"`
	Now   bool       `json:"now,omitempty"`
	Draft bool       `json:"draft,omitempty"`
	// Queue schedules the post into the account's next free queue slot
	// (SPEC §8); it goes alone, without At, Now or Draft.
	Queue   bool   `json:"queue,omitempty"`
	Account string `json:"account,omitempty"` // username or X id; default account when empty
}

// MediaInput is one file to attach.
type MediaInput struct {
	Path    string `json:"path"`
	AltText string `json:"alt_text,omitempty"`
}

// EditPost is the body of PATCH /v1/posts/{id}. Absent fields are kept.
type EditPost struct {
	Text   *string    `json:"text,omitempty"`
	Thread bool       `json:"thread,omitempty"`
	Number bool       `json:"number,omitempty"`
	At     *time.Time `json:"at,omitempty"`
	Now    bool       `json:"now,omitempty"`
	Draft  bool       `json:"draft,omitempty"` // unschedule (like cancel) while editing
	// Queue moves the post into its account's earliest free queue slot
	// (its own current slot counts as free); it goes alone, without At,
	// Now or Draft.
	Queue bool `json:"queue,omitempty"`
	// RunID, if set, makes the edit fail with a conflict when the post
	// changed since the client read it.
	RunID string `json:"run_id,omitempty"`
}

// More post routes.
const (
	PathPostCancel = "/v1/posts/{id}/cancel" // POST
	PathPostRetry  = "/v1/posts/{id}/retry"  // POST
	// DELETE /v1/posts/{id}[?remote=true]: remote deletes published tweets
	// at X first.
)

// Upload reports a media upload in progress.
type Upload struct {
	Sent  int64 `json:"sent"`
	Total int64 `json:"total"`
}

// DeleteResult is the answer to DELETE /v1/posts/{id}.
type DeleteResult struct {
	ID          int64    `json:"id"`
	Deleted     bool     `json:"deleted"`
	DeletedOnX  []string `json:"deleted_on_x,omitempty"`
	AlreadyGone []string `json:"already_gone,omitempty"`
}
