// Package xapi is psnd's client for the X API v2: posts, the authenticated
// user, the user's timeline (for reconciliation after an ambiguous create),
// and media upload. It sends only requests that conform to X's OpenAPI
// document and turns X's answers into typed results and errors.
//
// The client holds no credentials: every method takes the bearer access
// token as an argument, because refreshing (single-use refresh tokens that
// must be persisted before use) belongs to the caller.
package xapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/psnd/psnd/internal/clock"
)

// DefaultBaseURL is X's API host.
const DefaultBaseURL = "https://api.x.com"

// Config holds the client's dependencies.
type Config struct {
	// BaseURL is the API root, default https://api.x.com (psnd passes
	// PSN_X_API_URL). A path prefix is kept: "http://127.0.0.1:9/x" sends
	// POST http://127.0.0.1:9/x/2/tweets.
	BaseURL string
	// HTTPClient is required; set its Timeout (or pass deadlines in ctx).
	HTTPClient *http.Client
	// Logger receives debug lines per request (operation, status, duration,
	// remaining rate limit). Never tokens or bodies. Default: discard.
	Logger *slog.Logger
	// Clock stamps media expiry and rate-limit fallbacks. Default: system.
	Clock clock.Clock
	// Sleep waits between media processing status polls. Default: a timer
	// that honours ctx. Tests pass a fake that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// ChunkSize is the chunked-upload segment size, default 4 MiB. It is
	// raised automatically so that no upload needs more than 1000 segments.
	ChunkSize int
	// MaxProcessingWait bounds the total of the waits X asks for while it
	// processes a video or GIF, default 15 minutes.
	MaxProcessingWait time.Duration
	// UserAgent is sent on every request, default "psnd".
	UserAgent string
}

// Client calls the X API v2. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	hc        *http.Client
	log       *slog.Logger
	clock     clock.Clock
	sleep     func(context.Context, time.Duration) error
	chunk     int
	maxWait   time.Duration
	userAgent string
}

const (
	defaultChunkSize = 4 << 20
	maxSegments      = 1000
	maxResponseBytes = 8 << 20
	defaultMaxWait   = 15 * time.Minute
	defaultPollWait  = time.Second
	maxAltTextLength = 1000
	maxMediaPerTweet = 4
	defaultUserAgent = "psnd"
)

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("xapi: Config.HTTPClient is required")
	}
	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("xapi: base URL %q is not an absolute http(s) URL", raw)
	}
	c := &Client{
		base:      u,
		hc:        cfg.HTTPClient,
		log:       cfg.Logger,
		clock:     cfg.Clock,
		sleep:     cfg.Sleep,
		chunk:     cfg.ChunkSize,
		maxWait:   cfg.MaxProcessingWait,
		userAgent: cfg.UserAgent,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.clock == nil {
		c.clock = clock.System{}
	}
	if c.sleep == nil {
		c.sleep = clock.Sleep
	}
	if c.chunk <= 0 {
		c.chunk = defaultChunkSize
	}
	if c.maxWait <= 0 {
		c.maxWait = defaultMaxWait
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	return c, nil
}

// ErrInvalidArgument marks a request refused by the client before sending,
// because X would refuse it too (bad id, too many media, alt text too long).
// IsPermanent reports true for it.
var ErrInvalidArgument = errors.New("invalid argument")

// argError is an ErrInvalidArgument whose message is only its own text.
type argError struct{ msg string }

func (e *argError) Error() string        { return e.msg }
func (e *argError) Is(target error) bool { return target == ErrInvalidArgument }

func invalidf(format string, args ...any) error {
	return &argError{msg: fmt.Sprintf(format, args...)}
}

// call is one request to X.
type call struct {
	method      string
	path        string // escaped path below the base, starting with /2/
	query       url.Values
	contentType string
	body        []byte
}

func (c call) op() string { return c.method + " " + c.path }

// send performs one request and decodes a 2xx JSON answer into out (if not
// nil). Non-2xx answers become *Error; failures without an answer become
// *NetError saying whether the request may have reached X.
func (c *Client) send(ctx context.Context, token string, k call, out any) (RateLimit, error) {
	if token == "" {
		return RateLimit{}, invalidf("x api %s: no access token", k.op())
	}
	// Paths are built from validated numeric ids: no escaping needed.
	u := *c.base
	u.Path = c.base.Path + k.path
	u.RawPath = ""
	if len(k.query) > 0 {
		u.RawQuery = k.query.Encode()
	}

	var tr trace
	ctx = httptrace.WithClientTrace(ctx, tr.clientTrace())
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u.String(), body)
	if err != nil {
		return RateLimit{}, fmt.Errorf("x api %s: build request: %w", k.op(), err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if k.contentType != "" {
		req.Header.Set("Content-Type", k.contentType)
	}

	start := c.clock.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		ne := &NetError{Op: k.op(), Sent: tr.maybeSent(err), Err: err}
		c.log.DebugContext(ctx, "x api request failed", "op", k.op(), "sent", ne.Sent, "err", describeNetErr(err))
		return RateLimit{}, ne
	}
	defer resp.Body.Close()
	rl := parseRateLimit(resp.Header)
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		// X answered but the body was cut off: for a create, the post exists.
		ne := &NetError{Op: k.op(), Sent: true, Err: fmt.Errorf("read %d response: %w", resp.StatusCode, err)}
		c.log.DebugContext(ctx, "x api response cut off", "op", k.op(), "status", resp.StatusCode)
		return rl, ne
	}
	c.log.DebugContext(ctx, "x api request", "op", k.op(), "status", resp.StatusCode,
		"duration", c.clock.Now().Sub(start), "rate_remaining", rl.Remaining)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := parseError(k.op(), resp.StatusCode, data, rl)
		if resp.StatusCode == http.StatusTooManyRequests {
			e.RetryAt = rl.RetryAt(c.clock.Now())
		}
		return rl, e
	}
	if out == nil {
		return rl, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		// A success we cannot read is as ambiguous as no answer at all.
		return rl, &NetError{Op: k.op(), Sent: true, Err: fmt.Errorf("decode %d response: %w", resp.StatusCode, err)}
	}
	return rl, nil
}

// trace records how far a request got, to tell "never sent" from "may
// have reached X" when it fails.
type trace struct {
	getConn    atomic.Bool // the standard transport started (hooks work)
	gotConn    atomic.Bool
	wroteErr   atomic.Bool
	wroteFully atomic.Bool
}

func (t *trace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { t.getConn.Store(true) },
		GotConn: func(httptrace.GotConnInfo) { t.gotConn.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err != nil {
				t.wroteErr.Store(true)
			} else {
				t.wroteFully.Store(true)
			}
		},
	}
}

// maybeSent decides, conservatively, whether a failed request may have been
// processed by X. Only a request that provably never got a connection, or
// whose bytes failed to go out, counts as not sent.
func (t *trace) maybeSent(err error) bool {
	if t.getConn.Load() {
		// The standard transport reports its progress.
		if !t.gotConn.Load() {
			return false
		}
		if t.wroteErr.Load() && !t.wroteFully.Load() {
			return false
		}
		return true
	}
	// A transport without trace hooks (tests, the sandbox): judge by error.
	return !isDialError(err)
}

// isDialError reports failures that happen before any byte is sent: DNS,
// refused or unreachable connections, TLS handshake failures.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return true
	}
	var cv *tls.CertificateVerificationError
	return errors.As(err, &cv)
}

// validID checks X's id format (TweetId, UserId, MediaId in the spec).
func validID(s string) bool {
	if len(s) == 0 || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
