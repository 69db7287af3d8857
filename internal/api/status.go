package api

// Post and tweet statuses on the wire (Post.Status, Tweet.Status and the
// ?status= filter of GET /v1/posts). They are the domain's names
// (post.Status) spelled once for clients, which do not import the domain;
// a test keeps the two lists and the rules below in step.
//
// They are untyped so that they compare with the string fields of Post and
// Tweet without conversions.
const (
	StatusDraft      = "draft"
	StatusScheduled  = "scheduled"
	StatusPublishing = "publishing"
	StatusPublished  = "published"
	StatusFailed     = "failed"
	// StatusRetry: waiting for the next automatic attempt (NextRetryAt);
	// the sub-status says why.
	StatusRetry = "retry"
)

// Statuses lists every post status in display order.
var Statuses = []string{StatusDraft, StatusScheduled, StatusPublishing, StatusPublished, StatusFailed, StatusRetry}

// Sub-statuses on the wire (Post.SubStatus): which retry is next, why a post
// waits, or how far a thread got.
const (
	SubRetry1         = "retry_1"
	SubRetry2         = "retry_2"
	SubRetry3         = "retry_3"
	SubRateLimited    = "rate_limited"
	SubMediaUploading = "media_uploading"
	SubMediaUploaded  = "media_uploaded"
	SubThreadPartial  = "thread_partial"
	SubAtRisk         = "at_risk"     // pre-flight found a problem; fail_reason says which
	SubOverBudget     = "over_budget" // held by PSN_MONTHLY_BUDGET
)

// SubStatuses lists every sub-status.
var SubStatuses = []string{SubRetry1, SubRetry2, SubRetry3, SubRateLimited, SubMediaUploading, SubMediaUploaded, SubThreadPartial, SubAtRisk, SubOverBudget}

// Editable reports whether a post in status s may have its text or time
// changed (PATCH /v1/posts/{id}): not once publishing has started.
func Editable(s string) bool {
	switch s {
	case StatusDraft, StatusScheduled, StatusFailed, StatusRetry:
		return true
	}
	return false
}

// Cancellable reports whether a post in status s may be unscheduled back to
// a draft (POST /v1/posts/{id}/cancel).
func Cancellable(s string) bool {
	switch s {
	case StatusScheduled, StatusRetry, StatusFailed:
		return true
	}
	return false
}

// Retryable reports whether a post in status s may be published again now
// (POST /v1/posts/{id}/retry).
func Retryable(s string) bool {
	return s == StatusFailed || s == StatusRetry
}

// StatusesWhere lists the statuses for which rule holds, in display order.
func StatusesWhere(rule func(string) bool) []string {
	var out []string
	for _, s := range Statuses {
		if rule(s) {
			out = append(out, s)
		}
	}
	return out
}

// HeldByBudget reports whether PSN_MONTHLY_BUDGET holds the post: it was
// not sent and will not be until the budget is raised or the month turns;
// FailReason says by how much.
func (p Post) HeldByBudget() bool {
	return p.Status == StatusScheduled && p.SubStatus != nil && *p.SubStatus == SubOverBudget
}
