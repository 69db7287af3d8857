package xapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func TestParseErrorShapes(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string // Error()
		typ    string
	}{
		{
			name:   "problem duplicate",
			status: 403,
			body:   `{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}`,
			want:   "x api POST /2/tweets: 403 You are not allowed to create a Tweet with duplicate content.",
			typ:    "about:blank",
		},
		{
			name:   "problem invalid request with errors",
			status: 400,
			body:   `{"errors":[{"parameters":{"media.media_ids":["123"]},"message":"Your media IDs are invalid."}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}`,
			want:   "x api POST /2/tweets: 400 Your media IDs are invalid.",
			typ:    "https://api.twitter.com/2/problems/invalid-request",
		},
		{
			name:   "legacy errors array",
			status: 429,
			body:   `{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`,
			want:   "x api POST /2/tweets: 429 Rate limit exceeded",
		},
		{
			name:   "legacy single",
			status: 400,
			body:   `{"code":214,"message":"Bad request\nsecond line"}`,
			want:   "x api POST /2/tweets: 400 Bad request second line",
		},
		{
			name:   "oauth style",
			status: 400,
			body:   `{"error":"invalid_request","error_description":"Value passed for the token was invalid."}`,
			want:   "x api POST /2/tweets: 400 Value passed for the token was invalid.",
		},
		{
			name:   "html",
			status: 502,
			body:   `<html><body>Bad gateway</body></html>`,
			want:   "x api POST /2/tweets: 502 Bad Gateway",
		},
		{
			name:   "title only",
			status: 401,
			body:   `{"title":"Unauthorized","type":"about:blank","status":401}`,
			want:   "x api POST /2/tweets: 401 Unauthorized",
			typ:    "about:blank",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := parseError("POST /2/tweets", tc.status, []byte(tc.body), RateLimit{})
			if got := e.Error(); got != tc.want {
				t.Errorf("Error() = %q\nwant      %q", got, tc.want)
			}
			if e.Type != tc.typ {
				t.Errorf("Type = %q, want %q", e.Type, tc.typ)
			}
		})
	}
}

func TestClassifiers(t *testing.T) {
	dup := parseError("POST /2/tweets", 403, []byte(`{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}`), RateLimit{})
	legacyDup := parseError("POST /2/tweets", 403, []byte(`{"errors":[{"code":187,"message":"Status is a duplicate."}]}`), RateLimit{})
	forbidden := parseError("POST /2/tweets", 403, []byte(`{"detail":"You attempted to reply to a Tweet that is deleted or not visible to you.","type":"about:blank","title":"Forbidden","status":403}`), RateLimit{})
	unauth := &Error{StatusCode: 401}
	server := &Error{StatusCode: 503}
	limited := &Error{StatusCode: 429, RetryAt: time.Unix(100, 0)}
	sentNet := &NetError{Op: "POST /2/tweets", Sent: true, Err: errors.New("EOF")}
	unsentNet := &NetError{Op: "POST /2/tweets", Sent: false, Err: errors.New("refused")}
	wrap := func(err error) error { return fmt.Errorf("publish: %w", err) }

	type want struct{ dup, unauth, transient, permanent, limited, maybeSent bool }
	cases := []struct {
		name string
		err  error
		want want
	}{
		{"duplicate", wrap(dup), want{dup: true, permanent: true}},
		{"legacy duplicate", legacyDup, want{dup: true, permanent: true}},
		{"other 403", forbidden, want{permanent: true}},
		{"401", wrap(unauth), want{unauth: true}},
		{"503", server, want{transient: true}},
		{"429", wrap(limited), want{limited: true}},
		{"net sent", wrap(sentNet), want{transient: true, maybeSent: true}},
		{"net unsent", unsentNet, want{transient: true}},
		{"invalid arg", invalidf("bad"), want{permanent: true}},
		{"nil", nil, want{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, lim := IsRateLimited(tc.err)
			got := want{IsDuplicate(tc.err), IsUnauthorized(tc.err), IsTransient(tc.err), IsPermanent(tc.err), lim, MaybeSent(tc.err)}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if at, ok := IsRateLimited(wrap(limited)); !ok || !at.Equal(time.Unix(100, 0)) {
		t.Errorf("IsRateLimited = %v, %v", at, ok)
	}
	if !NotSent(unsentNet) || NotSent(sentNet) {
		t.Error("NotSent wrong")
	}
}

func TestRateLimitRetryAt(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	h := func(kv ...string) http.Header {
		hh := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hh.Set(kv[i], kv[i+1])
		}
		return hh
	}
	cases := []struct {
		name string
		h    http.Header
		want time.Time
	}{
		{"15-minute window exhausted",
			h("x-rate-limit-limit", "100", "x-rate-limit-remaining", "0", "x-rate-limit-reset", "1000600"),
			time.Unix(1000600, 0)},
		{"24-hour user cap exhausted outlasts the window",
			h("x-rate-limit-limit", "100", "x-rate-limit-remaining", "57", "x-rate-limit-reset", "1000600",
				"x-user-limit-24hour-limit", "17", "x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", "1050000"),
			time.Unix(1050000, 0)},
		{"app cap exhausted, user not",
			h("x-rate-limit-remaining", "3", "x-rate-limit-limit", "100", "x-rate-limit-reset", "1000600",
				"x-user-limit-24hour-limit", "17", "x-user-limit-24hour-remaining", "4", "x-user-limit-24hour-reset", "1090000",
				"x-app-limit-24hour-limit", "1000", "x-app-limit-24hour-remaining", "0", "x-app-limit-24hour-reset", "1070000"),
			time.Unix(1070000, 0)},
		{"both exhausted: the larger",
			h("x-rate-limit-limit", "100", "x-rate-limit-remaining", "0", "x-rate-limit-reset", "1080000",
				"x-user-limit-24hour-limit", "17", "x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", "1050000"),
			time.Unix(1080000, 0)},
		{"no window exhausted: the window reset",
			h("x-rate-limit-limit", "100", "x-rate-limit-remaining", "5", "x-rate-limit-reset", "1000600"),
			time.Unix(1000600, 0)},
		{"no headers: 15 minutes", h(), now.Add(15 * time.Minute)},
		{"reset in the past", h("x-rate-limit-limit", "1", "x-rate-limit-remaining", "0", "x-rate-limit-reset", "999999"), now.Add(time.Second)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseRateLimit(tc.h).RetryAt(now); !got.Equal(tc.want) {
				t.Errorf("RetryAt = %v, want %v", got.Unix(), tc.want.Unix())
			}
		})
	}
	rl := parseRateLimit(h("x-rate-limit-limit", "100", "x-rate-limit-remaining", "57", "x-rate-limit-reset", "1000600"))
	if rl.Limit != 100 || rl.Remaining != 57 || rl.Reset.Unix() != 1000600 || rl.User24h.Known() {
		t.Errorf("parsed %+v", rl)
	}
}

func TestTraceMaybeSent(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	var tr trace
	if tr.maybeSent(dial) {
		t.Error("a dial error without trace hooks must count as not sent")
	}
	if !tr.maybeSent(errors.New("EOF")) {
		t.Error("an unknown error without trace hooks must count as maybe sent")
	}
	tr.getConn.Store(true)
	if tr.maybeSent(context.DeadlineExceeded) {
		t.Error("no connection yet: not sent")
	}
	tr.gotConn.Store(true)
	tr.wroteFully.Store(true)
	if !tr.maybeSent(context.DeadlineExceeded) {
		t.Error("written request then timeout: maybe sent")
	}
}
