package api

// PathUsage is X usage per account for a month (GET ?month=YYYY-MM; default
// the current UTC month), SPEC §7 and §9.
const PathUsage = "/v1/usage"

// Usage is the body of GET /v1/usage and the output of `psnd usage --json`.
type Usage struct {
	Month    string         `json:"month"` // YYYY-MM, UTC
	Accounts []AccountUsage `json:"accounts"`
	Prices   Prices         `json:"prices"`
	// BudgetUSD is the monthly budget in force (PSN_MONTHLY_BUDGET), for
	// all accounts together; null when none.
	BudgetUSD *float64 `json:"budget_usd"`
	// CostUSD is the month's estimated cost, all accounts together: what
	// the budget is measured against.
	CostUSD float64 `json:"cost_usd"`
	// HeldOverBudget counts the posts the budget holds now.
	HeldOverBudget int `json:"held_over_budget"`
}

// AccountUsage is one account's requests to X in the month. Reads are
// posts returned by X's timeline lookups (billed per post); ReadRequests
// the lookups themselves; OtherRequests what X does not price (alt texts).
type AccountUsage struct {
	Account       string  `json:"account"` // username, or the X user id of an account no longer connected
	Posts         int     `json:"posts"`
	PostsWithURL  int     `json:"posts_with_url"`
	MediaUploads  int     `json:"media_uploads"`
	Reads         int     `json:"reads"`
	ReadRequests  int     `json:"read_requests"`
	OtherRequests int     `json:"other_requests"`
	CostUSD       float64 `json:"cost_usd"`
	// The 24-hour user cap X reported last (x-user-limit-24hour-*); null
	// when X never sent it.
	User24hLimit     *int    `json:"user_24h_limit"`
	User24hRemaining *int    `json:"user_24h_remaining"`
	User24hReset     *string `json:"user_24h_reset"` // RFC 3339
}

// Prices is the price table the cost was estimated with, in US dollars.
type Prices struct {
	Post        float64 `json:"post_usd"`
	PostWithURL float64 `json:"post_with_url_usd"`
	MediaUpload float64 `json:"media_upload_usd"`
	Read        float64 `json:"read_usd"`
	AsOf        string  `json:"as_of"`
	Source      string  `json:"source"`
	Note        string  `json:"note,omitempty"`
}
