// Package post holds psnd's domain types: posts (a single tweet or a thread),
// their statuses and which of them may be edited, accounts and media. It
// imports only the standard library, so every other package can depend on it
// without creating cycles.
package post

import (
	"fmt"
	"time"
)

// Status is the lifecycle state of a post (and of each tweet row of a thread).
// The values are stored verbatim in SQLite, where a CHECK constraint mirrors
// this list; keep the two in step.
type Status string

const (
	StatusDraft      Status = "draft"
	StatusScheduled  Status = "scheduled"
	StatusPublishing Status = "publishing"
	StatusPublished  Status = "published"
	StatusFailed     Status = "failed"
	// StatusRetry is a post waiting for its next automatic attempt
	// (next_retry_at); the sub-status says why.
	StatusRetry Status = "retry"
)

// Statuses lists every status in display order.
var Statuses = []Status{StatusDraft, StatusScheduled, StatusPublishing, StatusPublished, StatusFailed, StatusRetry}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	for _, k := range Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// ParseStatus turns user input into a Status, with an error naming the
// accepted values.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !st.Valid() {
		return "", fmt.Errorf("unknown status %q (want one of draft, scheduled, publishing, published, failed, retry)", s)
	}
	return st, nil
}

// SubStatus refines a status: which retry is pending, why a post waits, or how
// far a thread got. The empty value means "nothing to add".
type SubStatus string

const (
	SubNone           SubStatus = ""
	SubRetry1         SubStatus = "retry_1"
	SubRetry2         SubStatus = "retry_2"
	SubRetry3         SubStatus = "retry_3"
	SubRateLimited    SubStatus = "rate_limited"
	SubMediaUploading SubStatus = "media_uploading"
	SubMediaUploaded  SubStatus = "media_uploaded"
	SubThreadPartial  SubStatus = "thread_partial"
	// SubAtRisk: pre-flight (SPEC §6) found something that will make the
	// post fail at its due time (a revoked login, a missing media file);
	// FailReason says what.
	SubAtRisk SubStatus = "at_risk"
	// SubOverBudget: held because sending would take the month's estimated
	// X cost past PSN_MONTHLY_BUDGET (SPEC §9).
	SubOverBudget SubStatus = "over_budget"
)

// SubStatuses lists every non-empty sub-status.
var SubStatuses = []SubStatus{SubRetry1, SubRetry2, SubRetry3, SubRateLimited, SubMediaUploading, SubMediaUploaded, SubThreadPartial, SubAtRisk, SubOverBudget}

// Valid reports whether s is empty or one of the known sub-statuses.
func (s SubStatus) Valid() bool {
	if s == SubNone {
		return true
	}
	for _, k := range SubStatuses {
		if s == k {
			return true
		}
	}
	return false
}

// RetrySub returns the sub-status for the n-th automatic retry (1-based).
func RetrySub(n int) SubStatus {
	switch n {
	case 1:
		return SubRetry1
	case 2:
		return SubRetry2
	default:
		return SubRetry3
	}
}

// MaxAutoRetries is how many times a transient failure (network, 5xx) is
// retried automatically before the post fails (SPEC §6).
const MaxAutoRetries = 3

// Editable reports whether a post in status s may have its text or time
// changed. Posts being published or already published may not.
func (s Status) Editable() bool {
	switch s {
	case StatusDraft, StatusScheduled, StatusFailed, StatusRetry:
		return true
	}
	return false
}

// Post is what a user schedules: one tweet, or a thread of tweets posted as a
// reply chain. Its ID is the ID of the thread's root row.
type Post struct {
	ID          int64
	AccountID   string // X user id of the posting account
	Account     string // username, for display
	Status      Status
	SubStatus   SubStatus
	ScheduledAt *time.Time // UTC; nil for a draft without a time
	PublishedAt *time.Time // UTC; set when the last tweet is published
	FailReason  string
	RunID       string // changes on every schedule/edit/cancel: the fence
	Attempts    int    // publish attempts (claims)
	Retries     int    // consecutive transient failures, for the retry limit
	NextRetryAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Tweets      []Tweet // ordered by Position; a single post has one
}

// IsThread reports whether the post has more than one tweet.
func (p *Post) IsThread() bool { return len(p.Tweets) > 1 }

// PlatformPostIDs returns the X ids recorded so far, in thread order, stopping
// at the first tweet without one.
func (p *Post) PlatformPostIDs() []string {
	ids := make([]string, 0, len(p.Tweets))
	for _, t := range p.Tweets {
		if t.PlatformPostID == "" {
			break
		}
		ids = append(ids, t.PlatformPostID)
	}
	return ids
}

// Tweet is one row of the posts table: a single tweet, alone or at a position
// of a thread.
type Tweet struct {
	RowID    int64
	Position int // 0-based position in the thread
	Text     string
	// WeightedLength is Text's length as X counts it, as the store counted
	// it when the text was written, so a list need not count every tweet
	// again; 0 when not known (then count Text: an empty text is 0 anyway).
	WeightedLength int
	Status         Status
	PlatformPostID string // X id once published
	PublishedAt    *time.Time
	Media          []Media
}

// Media is a file attached to a tweet. The X media id is only valid until
// MediaExpiresAt, so media are uploaded at publish time.
type Media struct {
	ID             int64
	Path           string
	SHA256         string
	MimeType       string
	Size           int64
	AltText        string
	XMediaID       string
	MediaExpiresAt *time.Time
}

// Account is a connected X account.
type Account struct {
	ID               string // X user id
	Username         string
	DisplayName      string
	SubscriptionType string // "None", "Basic", "Premium", "PremiumPlus"; decides the length limit
	IsDefault        bool
	CreatedAt        time.Time
}

// MaxWeightedLength returns the post length limit for the account: 25,000 for
// Premium and PremiumPlus, 280 otherwise (SPEC §5).
func (a Account) MaxWeightedLength() int {
	switch a.SubscriptionType {
	case "Premium", "PremiumPlus":
		return PremiumMaxWeightedLength
	}
	return DefaultMaxWeightedLength
}

const (
	DefaultMaxWeightedLength = 280
	PremiumMaxWeightedLength = 25000
)
