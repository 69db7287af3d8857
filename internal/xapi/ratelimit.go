package xapi

import (
	"net/http"
	"strconv"
	"time"
)

// Window is one rate-limit window as X reports it in response headers. The
// zero Window means the headers were absent.
type Window struct {
	Limit     int
	Remaining int
	Reset     time.Time // absolute; X sends Unix epoch seconds
}

// Known reports whether X sent this window's headers.
func (w Window) Known() bool { return w.Limit > 0 || !w.Reset.IsZero() }

// Exhausted reports whether the window is known and has no requests left.
func (w Window) Exhausted() bool { return w.Known() && w.Remaining <= 0 }

// RateLimit is what X said about rate limits on one response. X sends the
// per-endpoint window (x-rate-limit-*, 15 minutes per user) on every
// response; capped plans add 24-hour user and app windows on POST /2/tweets
// (x-user-limit-24hour-*, x-app-limit-24hour-*).
type RateLimit struct {
	Window         // x-rate-limit-limit / -remaining / -reset
	User24h Window // x-user-limit-24hour-*
	App24h  Window // x-app-limit-24hour-*
}

// fallbackWait is how long to wait after a 429 that carries no usable reset
// header: one full 15-minute window.
const fallbackWait = 15 * time.Minute

// RetryAt is when a request refused with 429 may be tried again: the latest
// reset among the exhausted windows (a spent 24-hour cap outlasts the
// 15-minute window), else the 15-minute reset, else now plus 15 minutes.
func (r RateLimit) RetryAt(now time.Time) time.Time {
	var t time.Time
	for _, w := range []Window{r.User24h, r.App24h, r.Window} {
		if w.Exhausted() && w.Reset.After(t) {
			t = w.Reset
		}
	}
	if t.IsZero() && !r.Reset.IsZero() {
		t = r.Reset
	}
	if t.IsZero() || !t.After(now) {
		// A reset already in the past (clock skew, or a stale header) would
		// make the caller spin; wait at least a little.
		if t.IsZero() {
			return now.Add(fallbackWait)
		}
		return now.Add(time.Second)
	}
	return t
}

func parseRateLimit(h http.Header) RateLimit {
	return RateLimit{
		Window:  parseWindow(h, "x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"),
		User24h: parseWindow(h, "x-user-limit-24hour-limit", "x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
		App24h:  parseWindow(h, "x-app-limit-24hour-limit", "x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),
	}
}

func parseWindow(h http.Header, limit, remaining, reset string) Window {
	var w Window
	w.Limit, _ = strconv.Atoi(h.Get(limit))
	if v := h.Get(remaining); v != "" {
		w.Remaining, _ = strconv.Atoi(v)
	} else {
		w.Remaining = w.Limit
	}
	if v, err := strconv.ParseInt(h.Get(reset), 10, 64); err == nil && v > 0 {
		w.Reset = time.Unix(v, 0).UTC()
	}
	return w
}
