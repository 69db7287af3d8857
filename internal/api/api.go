// Package api holds the wire types of psnd's local API (SPEC §7): the JSON
// the daemon serves under /v1 on its Unix socket and the CLI, editor
// integrations and tests read. They are a published contract — snake_case,
// times in RFC 3339 — kept apart from the domain types so that the contract
// changes only on purpose. It imports only the standard library.
package api

import "time"

// Routes of the local API, version 1.
const (
	PathHealth = "/v1/health"
	// PathKeyReset (POST) discards data sealed with a lost or wrong key and
	// binds the keyring's current key; the user logs in again after.
	PathKeyReset = "/v1/keys/reset"
	PathPosts    = "/v1/posts"      // GET list (filters and a page, see ListMaxLimit), POST create
	PathPost     = "/v1/posts/{id}" // GET show
)

// VersionHeader carries the daemon's version on every response, so a
// client can notice a daemon of another version.
const VersionHeader = "X-Psnd-Version"

// BudgetHeader carries, on every request of a command run with
// PSN_MONTHLY_BUDGET set, that value ("none" or US dollars): a running
// daemon's environment cannot change, so the command brings the user's
// new budget to it (SPEC §9). The daemon adopts a changed value, keeps it
// across restarts and looks at held posts again.
const BudgetHeader = "X-Psnd-Monthly-Budget"

// Paging of GET /v1/posts: ?limit=N (1..ListMaxLimit) answers one page
// and, when more posts follow, names the next page's ?cursor= in the
// NextCursorHeader response header. Without limit the whole list streams.
const (
	ListMaxLimit     = 1000
	NextCursorHeader = "X-Next-Cursor"
)

// MaxBodyBytes bounds a request body. The largest real request, a thread of
// MaxThreadTweets Premium-length tweets (25,000 weighted characters each,
// up to 3 bytes a character), is under 2 MiB; anything bigger is a mistake,
// and the daemon need not hold it in memory to say so.
const MaxBodyBytes = 4 << 20

// Post is a post as SPEC §7 defines it: one tweet or a thread.
type Post struct {
	ID              int64      `json:"id"`
	Account         string     `json:"account"`
	AccountID       string     `json:"account_id"`
	Status          string     `json:"status"`
	SubStatus       *string    `json:"sub_status"`
	ScheduledAt     *time.Time `json:"scheduled_at"`
	PublishedAt     *time.Time `json:"published_at"`
	FailReason      *string    `json:"fail_reason"`
	Attempts        int        `json:"attempts"`
	NextRetryAt     *time.Time `json:"next_retry_at"`
	PlatformPostIDs []string   `json:"platform_post_ids"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	RunID           string     `json:"run_id"`
	Tweets          []Tweet    `json:"tweets"`
	// Warnings are soft notices from validation (create and edit only).
	Warnings []string `json:"warnings,omitempty"`
	// Upload is set while media is being uploaded.
	Upload *Upload `json:"upload,omitempty"`
}

// Tweet is one tweet of a post.
type Tweet struct {
	Position       int        `json:"position"`
	Text           string     `json:"text"`
	WeightedLength int        `json:"weighted_length"`
	Status         string     `json:"status"`
	PlatformPostID *string    `json:"platform_post_id"`
	PublishedAt    *time.Time `json:"published_at,omitempty"`
	Media          []Media    `json:"media,omitempty"`
}

// Media is a file attached to a tweet.
type Media struct {
	Path     string `json:"path"`
	MimeType string `json:"mime_type"`
	Size     int64  `json:"size"`
	AltText  string `json:"alt_text,omitempty"`
}

// Health is the daemon's state, for `psnd doctor`, scripts and the CLI's
// version check.
type Health struct {
	Status  string `json:"status"` // "ok", or "waiting_for_keyring" etc.
	Version string `json:"version"`
	PID     int    `json:"pid"`
	Home    string `json:"home"`
	// DataDir holds the database and the key: Home, or Home/sandbox for
	// a sandbox daemon. Older daemons leave it empty (meaning Home).
	DataDir   string    `json:"data_dir"`
	StartedAt time.Time `json:"started_at"`
	Sandbox   bool      `json:"sandbox"`
	Keyring   Keyring   `json:"keyring"`
	// RecentFailures counts posts that failed in the last day, so any
	// client command can print a one-line notice.
	RecentFailures int `json:"recent_failures"`
	// HeldOverBudget counts posts PSN_MONTHLY_BUDGET holds (scheduled,
	// over_budget), for the same notice.
	HeldOverBudget int `json:"held_over_budget"`
	// BudgetUSD is the monthly budget in force; null when none.
	BudgetUSD *float64 `json:"budget_usd"`
	// AtRisk counts scheduled posts pre-flight found at risk (sub_status
	// at_risk), for the same notice.
	AtRisk int `json:"at_risk"`
	// Timezone is the configured IANA zone ("" = the system's), used by
	// clients to read and show times when PSN_TZ is unset.
	Timezone string `json:"timezone"`
	// Problem is one line on what is wrong when Status is not "ok" for a
	// reason other than the key (e.g. database_gone).
	Problem string `json:"problem,omitempty"`
}

// Keyring describes the data key's availability.
type Keyring struct {
	Mode      string     `json:"mode"`  // "system" or "file"
	State     string     `json:"state"` // "ready", "waiting_for_keyring", "error"
	LastError string     `json:"last_error,omitempty"`
	NextTry   *time.Time `json:"next_try,omitempty"`
}

// Health statuses.
const (
	HealthOK                = "ok"
	HealthWaitingForKeyring = "waiting_for_keyring"
	HealthKeyError          = "key_error"
	// HealthDatabaseGone: the database file was deleted or replaced under
	// the running daemon; it refuses every change until restarted.
	HealthDatabaseGone = "database_gone"
)

// ErrorBody is the body of every non-2xx response.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error is a typed API error: a stable code for programs and one line for
// people.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Error codes.
const (
	CodeBadRequest  = "bad_request"
	CodeNotFound    = "not_found"
	CodeConflict    = "conflict" // e.g. the run_id fence refused an edit
	CodeInvalidText = "invalid_text"
	CodeUnavailable = "unavailable" // e.g. waiting for the keyring
	CodeTooLarge    = "too_large"   // a request body over MaxBodyBytes (413)
	CodeInternal    = "internal"
	// CodeShuttingDown (503): the daemon stopped while the request ran, or
	// before it started; run it again once psnd is back.
	CodeShuttingDown = "shutting_down"
	// CodeDatabaseGone (503): the database file was deleted or replaced
	// under the running daemon; nothing was changed (see Health).
	CodeDatabaseGone = "database_gone"
)
