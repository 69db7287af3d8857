package xapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/textutil"
)

// Error is an HTTP error answer from X. Both of X's error shapes are folded
// into it: the problem+json object (type, title, detail, status, errors[])
// and the legacy/OAuth-style bodies ({"errors":[{code,message}]},
// {"error","error_description"}).
type Error struct {
	// Op is the request that failed, as "METHOD /path" (no query, no host).
	Op         string
	StatusCode int
	Type       string // problem type URI, "about:blank", or "" for legacy bodies
	Title      string
	Detail     string
	Errors     []ErrorItem
	// RateLimit holds the rate-limit headers of the failed response.
	RateLimit RateLimit
	// RetryAt is when a rate-limited request may be retried: the larger of
	// the exhausted windows' resets (see RateLimit.RetryAt). Zero unless
	// StatusCode is 429.
	RetryAt time.Time
}

// ErrorItem is one entry of an error's errors[] array (either shape).
type ErrorItem struct {
	Code       int                 `json:"code,omitempty"` // legacy shape
	Message    string              `json:"message,omitempty"`
	Type       string              `json:"type,omitempty"` // problem shape
	Title      string              `json:"title,omitempty"`
	Detail     string              `json:"detail,omitempty"`
	Parameters map[string][]string `json:"parameters,omitempty"`
}

// Error returns X's own message on one line, prefixed with the status.
func (e *Error) Error() string {
	msg := e.Message()
	if e.Op != "" {
		return fmt.Sprintf("x api %s: %d %s", e.Op, e.StatusCode, msg)
	}
	return fmt.Sprintf("x api: %d %s", e.StatusCode, msg)
}

// Message is the most specific human-readable text X gave, on one line:
// the messages of errors[] (after the detail, unless the detail is X's
// generic "One or more parameters to your request was invalid."), else the
// title, else the HTTP status text.
func (e *Error) Message() string {
	var parts []string
	for _, it := range e.Errors {
		m := it.Message
		if m == "" {
			m = it.Detail
		}
		if m == "" {
			m = it.Title
		}
		if m != "" && m != e.Detail && !slices.Contains(parts, m) {
			parts = append(parts, m)
		}
	}
	if e.Detail != "" && (len(parts) == 0 || e.Detail != genericInvalidDetail) {
		parts = append([]string{e.Detail}, parts...)
	}
	if len(parts) == 0 && e.Title != "" {
		parts = append(parts, e.Title)
	}
	if len(parts) == 0 {
		parts = append(parts, http.StatusText(e.StatusCode))
	}
	return shortLine(strings.Join(parts, "; "))
}

// genericInvalidDetail is the detail of X's invalid-request problems; the
// useful text is in errors[].
const genericInvalidDetail = "One or more parameters to your request was invalid."

// shortLine puts s on one line of at most 300 characters and "…": X's
// messages end up in one-line reports and fail reasons. The cut is
// between characters, never inside one.
func shortLine(s string) string { return textutil.Truncate(textutil.Squash(s), 301) }

// duplicateDetail is the text of X's answer to a post whose text repeats a
// recent post of the same account (403, type about:blank).
const duplicateDetail = "duplicate content"

// IsDuplicate reports whether err is X refusing a post as a duplicate of a
// recent post by the same account (403 "…duplicate content."). After an
// ambiguous create it means the first attempt probably landed.
func IsDuplicate(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusForbidden {
		return false
	}
	if strings.Contains(strings.ToLower(e.Detail), duplicateDetail) {
		return true
	}
	for _, it := range e.Errors {
		if it.Code == 187 || strings.Contains(strings.ToLower(it.Message+" "+it.Detail), duplicateDetail) {
			return true
		}
	}
	return false
}

// IsBadMedia reports whether err is X refusing a create's media ids (400,
// naming the parameter media.media_ids, or "Your media IDs are invalid."):
// expired, unknown, or not the account's.
func IsBadMedia(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest {
		return false
	}
	for _, it := range e.Errors {
		if _, ok := it.Parameters["media.media_ids"]; ok {
			return true
		}
		if strings.Contains(strings.ToLower(it.Message+" "+it.Detail), "media ids are invalid") {
			return true
		}
	}
	return false
}

// IsRateLimited reports whether err is a 429 and, if so, when to retry: the
// later of the 15-minute window reset and any exhausted 24-hour user or app
// window reset. The time is never zero: without headers it falls back to 15
// minutes after the answer.
func IsRateLimited(err error) (time.Time, bool) {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusTooManyRequests {
		return time.Time{}, false
	}
	return e.RetryAt, true
}

// IsUnauthorized reports a 401: the access token is expired, revoked or
// unknown. The caller refreshes once and retries.
func IsUnauthorized(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized
}

// IsTransient reports errors worth retrying with backoff: network errors,
// timeouts and 5xx answers.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode >= 500
	}
	var ne *NetError
	if errors.As(err, &ne) {
		return true
	}
	var nerr net.Error
	return errors.As(err, &nerr) || errors.Is(err, context.DeadlineExceeded)
}

// IsPermanent reports a 4xx answer other than 401 and 429 (content and
// policy refusals that retrying will not fix; X's message is in err), and
// requests the client refused to send (ErrInvalidArgument).
func IsPermanent(err error) bool {
	if errors.Is(err, ErrInvalidArgument) {
		return true
	}
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.StatusCode >= 400 && e.StatusCode < 500 &&
		e.StatusCode != http.StatusUnauthorized && e.StatusCode != http.StatusTooManyRequests
}

// NetError is a request that got no HTTP answer. Sent says whether the
// request may have reached X: false only when it certainly did not (the
// connection was never established, or the context ended before dialing
// finished). A create whose NetError has Sent set is ambiguous: the post may
// exist, so the caller reconciles before posting again.
type NetError struct {
	Op   string // "METHOD /path"
	Sent bool
	Err  error
}

func (e *NetError) Error() string {
	state := "request may have reached X"
	if !e.Sent {
		state = "request not sent"
	}
	return fmt.Sprintf("x api %s: %s (%s)", e.Op, describeNetErr(e.Err), state)
}

func (e *NetError) Unwrap() error { return e.Err }

// Timeout reports whether the failure was a timeout.
func (e *NetError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &t) && t.Timeout())
}

// MaybeSent reports whether err is a network failure after which the request
// may have been processed by X (the ambiguous case). It is false for HTTP
// answers (X answered, so nothing is ambiguous) and for requests that were
// certainly never sent.
func MaybeSent(err error) bool {
	var ne *NetError
	return errors.As(err, &ne) && ne.Sent
}

// NotSent reports whether err is a network failure that certainly happened
// before the request left this host, so retrying cannot duplicate anything.
func NotSent(err error) bool {
	var ne *NetError
	return errors.As(err, &ne) && !ne.Sent
}

// describeNetErr drops the url.Error wrapper, which repeats the method and
// full URL already named by Op, and keeps the cause.
func describeNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return shortLine(err.Error())
}

// problemBody is the union of X's error bodies.
type problemBody struct {
	Type   string      `json:"type"`
	Title  string      `json:"title"`
	Detail string      `json:"detail"`
	Status int         `json:"status"`
	Errors []ErrorItem `json:"errors"`
	// legacy single error
	Code    int    `json:"code"`
	Message string `json:"message"`
	// OAuth-style
	OAuthError       string `json:"error"`
	OAuthDescription string `json:"error_description"`
}

// parseError builds an *Error from a non-2xx answer. Bodies that are not
// JSON keep a trimmed copy of the text as the detail.
func parseError(op string, status int, body []byte, rl RateLimit) *Error {
	e := &Error{Op: op, StatusCode: status, RateLimit: rl}
	var p problemBody
	if err := json.Unmarshal(body, &p); err != nil {
		if t := strings.TrimSpace(string(body)); t != "" && !strings.HasPrefix(t, "<") {
			e.Detail = t
		}
		return e
	}
	e.Type, e.Title, e.Detail, e.Errors = p.Type, p.Title, p.Detail, p.Errors
	if p.Message != "" {
		e.Errors = append(e.Errors, ErrorItem{Code: p.Code, Message: p.Message})
	}
	if p.OAuthError != "" {
		if e.Title == "" {
			e.Title = p.OAuthError
		}
		if e.Detail == "" {
			e.Detail = p.OAuthDescription
		}
		if e.Detail == "" {
			e.Detail = p.OAuthError
		}
	}
	return e
}
