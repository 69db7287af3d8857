package publishing

// Notifier tells the user, outside psnd, about something that needs them
// (SPEC §8 "Notifications"): a post failed, is at risk, or is held, or an
// account must log in again. Notify must not block publishing: an
// implementation hands the notice off and returns.
type Notifier interface {
	Notify(n Notice)
}

// NoticeKind says what a Notice is about.
type NoticeKind string

const (
	NoticeFailed     NoticeKind = "failed"      // a post failed for good
	NoticeAtRisk     NoticeKind = "at_risk"     // pre-flight found a problem
	NoticeNeedsLogin NoticeKind = "needs_login" // an account's grant is gone
	NoticeOverBudget NoticeKind = "over_budget" // a post is held by the budget
)

// Notice is one thing to tell the user. Title and Body are the text shown;
// PostID is 0 when the notice is about an account.
type Notice struct {
	Kind    NoticeKind
	PostID  int64
	Account string
	Title   string
	Body    string
}

// noNotifier drops every notice: the default when the daemon has no
// desktop to show them on.
type noNotifier struct{}

func (noNotifier) Notify(Notice) {}
