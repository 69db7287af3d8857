// Package fakex is an in-memory X: the OAuth 2.0 authorization server and
// the parts of the API v2 psnd uses (posts, users, timelines, media upload),
// with X's rate-limit headers, X's error bodies, scripted faults and a
// request log.
//
// One fake serves three purposes: `psnd serve --sandbox` (in-process, via
// Transport; so this is production code that imports no test packages),
// httptest servers in tests (Server is an http.Handler), and fault injection
// (Inject). Requests can be checked against X's OpenAPI document through a
// Validator; internal/fakex/xspec provides one for tests.
package fakex

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/psnd/psnd/internal/clock"
)

// Validator checks a request against X's API contract. It is called for
// every /2/* API request the fake serves (the OAuth endpoints are checked by
// hand); a non-nil error is recorded as a violation and answered with 400.
// body is the full request body; r.Body must not be read.
type Validator interface {
	ValidateRequest(r *http.Request, body []byte) error
}

// ResponseValidator is optionally implemented by a Validator to check the
// fake's own answers; failures are recorded as violations too.
type ResponseValidator interface {
	ValidateResponse(r *http.Request, status int, header http.Header, body []byte) error
}

// Options configures a Server. Zero values take X's behaviour.
type Options struct {
	// Clock drives token, code, media and rate-limit expiry and post times.
	// Default: the system clock.
	Clock clock.Clock
	// Validator, if set, checks every API request (see Validator).
	Validator Validator
	// Logger gets one debug line per request (never tokens). Default: discard.
	Logger *slog.Logger

	// AccessTokenTTL is the access-token lifetime (expires_in), default 2h.
	AccessTokenTTL time.Duration
	// CodeTTL is how long an authorization code lives, default 30s.
	CodeTTL time.Duration
	// RevokeFamilyOnReuse makes presenting a spent refresh token (or a
	// spent authorization code) revoke every token of that grant, as X is
	// reported to do.
	RevokeFamilyOnReuse bool

	// DuplicateWindow is how long identical text from the same user is
	// refused as a duplicate, default 24h.
	DuplicateWindow time.Duration
	// MediaTTL is how long a media id stays attachable (expires_after_secs),
	// default 24h.
	MediaTTL time.Duration
	// Processing is how video and animated GIF uploads are processed.
	// Default: check_after_secs 1, two status polls (in_progress, then
	// succeeded).
	Processing Processing

	// RateLimits overrides the per-user 15-minute limit of endpoints, keyed
	// like "POST /2/tweets" (see Endpoints). Other endpoints keep X's
	// published defaults.
	RateLimits map[string]int
	// RateWindow is the length of those per-user windows, default X's
	// 15 minutes (a short one lets tests cross several resets).
	RateWindow time.Duration
	// UserDailyTweetLimit and AppDailyTweetLimit, when positive, add X's
	// 24-hour headers (x-user-limit-24hour-*, x-app-limit-24hour-*) to
	// POST /2/tweets and refuse creates beyond them with 429.
	UserDailyTweetLimit int
	AppDailyTweetLimit  int
}

// Server is the fake X. It is safe for concurrent use.
type Server struct {
	opts  Options
	clock clock.Clock
	log   *slog.Logger

	mu         sync.Mutex
	clients    map[string]*oauthClient
	users      map[string]*User
	userOrder  []string
	authUser   string
	deny       bool
	codes      map[string]*authCode
	access     map[string]*accessToken
	refresh    map[string]*refreshToken
	revoked    map[int64]bool // token families
	nextFamily int64
	stats      Stats

	tweets      []*Tweet
	tweetByID   map[string]*Tweet
	lastTweetID int64
	nextTco     int64

	media       map[string]*mediaItem
	lastMediaID int64
	processing  Processing

	limits  map[string]int
	windows map[windowKey]*window

	faults     []*faultState
	requests   []Request
	violations []error
}

// New returns an empty fake X: register clients and users before use.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = 2 * time.Hour
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = 30 * time.Second
	}
	if opts.DuplicateWindow <= 0 {
		opts.DuplicateWindow = 24 * time.Hour
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = rateWindow
	}
	if opts.MediaTTL <= 0 {
		opts.MediaTTL = 24 * time.Hour
	}
	s := &Server{
		opts:        opts,
		clock:       opts.Clock,
		log:         opts.Logger,
		clients:     map[string]*oauthClient{},
		users:       map[string]*User{},
		codes:       map[string]*authCode{},
		access:      map[string]*accessToken{},
		refresh:     map[string]*refreshToken{},
		revoked:     map[int64]bool{},
		tweetByID:   map[string]*Tweet{},
		lastTweetID: minID,
		media:       map[string]*mediaItem{},
		lastMediaID: minID,
		processing:  opts.Processing.withDefaults(),
		limits:      map[string]int{},
		windows:     map[windowKey]*window{},
	}
	for k, v := range defaultRateLimits {
		s.limits[k] = v
	}
	for k, v := range opts.RateLimits {
		s.SetRateLimit(k, v)
	}
	return s
}

// Request is one entry of the request log.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Query  string
	// Status is the HTTP status the fake produced; when Dropped, the client
	// never saw it.
	Status  int
	UserID  string // the authenticated user, if any
	TweetID string // the post this request created, if any
	ReplyTo string // in_reply_to_tweet_id of a create
	MediaID string // the media id this request created or addressed
	// Fault names the injected fault that shaped this request, if any.
	Fault   FaultKind
	Dropped bool // the connection was dropped: no answer reached the client
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Violations returns the requests found not to conform to X's contract.
func (s *Server) Violations() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.violations...)
}

// ClearViolations forgets recorded violations, for tests that send
// non-conforming requests on purpose.
func (s *Server) ClearViolations() {
	s.mu.Lock()
	s.violations = nil
	s.mu.Unlock()
}

func (s *Server) violation(r *http.Request, err error) {
	s.mu.Lock()
	s.violations = append(s.violations, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, err))
	s.mu.Unlock()
}

// ServeHTTP serves the fake over real HTTP. A drop fault hijacks and closes
// the connection, so the client sees the connection die with no answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		abort(w)
		return
	}
	rec, out := s.serve(r, body)
	if out != outcomeRespond {
		abort(w)
		return
	}
	rec.copyTo(w)
}

// abort ends the exchange without an answer.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Transport returns a RoundTripper that serves every request in process,
// whatever its host, without touching the network. Drop faults become
// errors as a real connection loss would (FaultRefuse a dial error). An
// http.Client using it follows redirects into the fake as well: clients
// that drive the authorize endpoint should stop at the 302
// (CheckRedirect returning http.ErrUseLastResponse).
func (s *Server) Transport() http.RoundTripper { return roundTripper{s} }

type roundTripper struct{ s *Server }

// ErrDropped is what the in-process transport returns when a fault drops
// the connection after the request was received.
var ErrDropped = fmt.Errorf("fakex: connection dropped before an answer: %w", io.ErrUnexpectedEOF)

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, maxRequestBody+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	sr := req.Clone(req.Context())
	sr.Body = io.NopCloser(bytes.NewReader(body))
	sr.ContentLength = int64(len(body))
	sr.RequestURI = req.URL.RequestURI()
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	rec, out := t.s.serve(sr, body)
	if err := req.Context().Err(); err != nil {
		return nil, err // the caller gave up (e.g. during a fault's Delay)
	}
	switch out {
	case outcomeDrop:
		return nil, ErrDropped
	case outcomeRefuse:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return rec.response(req), nil
}

type outcome int

const (
	outcomeRespond outcome = iota
	outcomeDrop
	outcomeRefuse
)

const maxRequestBody = 32 << 20

// serve runs one request through faults and handlers into a recorder.
func (s *Server) serve(r *http.Request, body []byte) (*recorder, outcome) {
	entry := Request{Time: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	rec := newRecorder()
	defer func() {
		s.log.Debug("fakex request", "method", entry.Method, "path", entry.Path, "status", entry.Status, "dropped", entry.Dropped)
	}()
	if len(body) > maxRequestBody {
		writeProblem(rec, http.StatusRequestEntityTooLarge, "Payload Too Large", "Request body too large.", "about:blank")
		entry.Status = rec.status
		s.record(entry)
		return rec, outcomeRespond
	}

	// Conformance first: a violating request is answered 400 whatever
	// faults are scripted, and does not use one up.
	if isAPIPath(r.URL.Path) && s.opts.Validator != nil {
		if err := s.opts.Validator.ValidateRequest(r, body); err != nil {
			s.violation(r, err)
			invalidRequest(rec, nil, err.Error())
			entry.Status = rec.status
			s.record(entry)
			return rec, outcomeRespond
		}
	}

	f := s.takeFault(r.Method, r.URL.Path)
	kind := FaultNone
	if f != nil {
		kind = f.kind()
		entry.Fault = kind
		if f.Delay > 0 && clock.Sleep(r.Context(), f.Delay) != nil {
			entry.Dropped = true
			s.record(entry)
			return rec, outcomeDrop
		}
	}
	switch kind {
	case FaultStatus:
		f.write(rec)
		entry.Status = rec.status
		s.record(entry)
		return rec, outcomeRespond
	case FaultDropBeforeCommit:
		entry.Dropped = true
		s.record(entry)
		return rec, outcomeDrop
	case FaultRefuse:
		entry.Dropped = true
		s.record(entry)
		return rec, outcomeRefuse
	case FaultRevokeToken:
		s.revokeBearer(r)
	}

	s.handle(rec, r, body, &entry)
	entry.Status = rec.status
	if kind == FaultCommitThenDrop {
		entry.Dropped = true
		s.record(entry)
		return rec, outcomeDrop
	}
	if rv, ok := s.opts.Validator.(ResponseValidator); ok && isAPIPath(r.URL.Path) {
		if err := rv.ValidateResponse(r, rec.status, rec.header, rec.body.Bytes()); err != nil {
			s.violation(r, fmt.Errorf("fake's own %d answer: %w", rec.status, err))
		}
	}
	s.record(entry)
	return rec, outcomeRespond
}

func (s *Server) record(e Request) {
	s.mu.Lock()
	s.requests = append(s.requests, e)
	s.mu.Unlock()
}

// handle dispatches to the OAuth endpoints and the API.
func (s *Server) handle(w *recorder, r *http.Request, body []byte, entry *Request) {
	switch r.URL.Path {
	case "/i/oauth2/authorize":
		s.authorize(w, r)
	case "/2/oauth2/token":
		s.token(w, r, body)
	case "/2/oauth2/revoke":
		s.revokeEndpoint(w, r, body)
	default:
		if isAPIPath(r.URL.Path) {
			s.api(w, r, body, entry)
			return
		}
		writeProblem(w, http.StatusNotFound, "Not Found Error", "The requested resource could not be found.", "about:blank")
	}
}

func isAPIPath(p string) bool {
	return len(p) > 3 && p[:3] == "/2/" && !(len(p) >= 10 && p[:10] == "/2/oauth2/")
}

// recorder is a minimal http.ResponseWriter that keeps the answer, so the
// fake can drop it, validate it, or hand it to either transport.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(r.body.Len()))
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

func (r *recorder) response(req *http.Request) *http.Response {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	h := r.header.Clone()
	h.Set("Content-Length", strconv.Itoa(r.body.Len()))
	return &http.Response{
		Status:        strconv.Itoa(r.status) + " " + http.StatusText(r.status),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(r.body.Bytes())),
		ContentLength: int64(r.body.Len()),
		Request:       req,
	}
}

var errNoUser = errors.New("no such user")

// X's ids are snowflakes: milliseconds since X's epoch shifted left 22
// bits, so they grow with time. The fake issues them the same way (on its
// clock, strictly increasing), which keeps ids unique across sandbox
// restarts.
const (
	twitterEpochMs = 1288834974657
	minID          = 1_000_000_000_000_000_000 // 19 digits, like X's
)

func (s *Server) snowflakeLocked(last *int64) string {
	c := (s.clock.Now().UnixMilli() - twitterEpochMs) << 22
	if c <= *last {
		c = *last + 1
	}
	*last = c
	return strconv.FormatInt(c, 10)
}
