package fakex

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Endpoints names the rate-limited endpoints, as keys of
// Options.RateLimits and SetRateLimit.
const (
	EndpointCreateTweet    = "POST /2/tweets"
	EndpointDeleteTweet    = "DELETE /2/tweets/:id"
	EndpointMe             = "GET /2/users/me"
	EndpointUserTweets     = "GET /2/users/:id/tweets"
	EndpointMediaUpload    = "POST /2/media/upload"
	EndpointMediaStatus    = "GET /2/media/upload"
	EndpointMediaInit      = "POST /2/media/upload/initialize"
	EndpointMediaAppend    = "POST /2/media/upload/:id/append"
	EndpointMediaFinalize  = "POST /2/media/upload/:id/finalize"
	EndpointMediaMetadata  = "POST /2/media/metadata"
	rateWindow             = 15 * time.Minute
	dailyWindow            = 24 * time.Hour
	maxTimelineResults     = 100
	minTimelineResults     = 5
	defaultTimelineResults = 10
)

// defaultRateLimits is X's published per-user 15-minute table.
var defaultRateLimits = map[string]int{
	EndpointCreateTweet:   100,
	EndpointDeleteTweet:   50,
	EndpointMe:            75,
	EndpointUserTweets:    900,
	EndpointMediaUpload:   500,
	EndpointMediaStatus:   1000,
	EndpointMediaInit:     1875,
	EndpointMediaAppend:   1875,
	EndpointMediaFinalize: 1875,
	EndpointMediaMetadata: 500,
}

// SetRateLimit changes an endpoint's per-user 15-minute limit. It panics
// on an unknown endpoint key, which is a bug in the caller.
func (s *Server) SetRateLimit(endpoint string, limit int) {
	if _, ok := defaultRateLimits[endpoint]; !ok {
		panic("fakex: unknown endpoint " + endpoint)
	}
	s.mu.Lock()
	s.limits[endpoint] = limit
	s.mu.Unlock()
}

var (
	scopesTweetWrite = []string{"tweet.read", "tweet.write", "users.read"}
	scopesRead       = []string{"tweet.read", "users.read"}
	scopesMedia      = []string{"media.write"}
	timelineQuery    = []string{"since_id", "until_id", "max_results", "pagination_token", "exclude",
		"start_time", "end_time", "tweet.fields", "expansions", "media.fields", "poll.fields", "user.fields", "place.fields"}
)

type route struct {
	method   string
	segs     []string // ":id" is a numeric id parameter
	endpoint string
	scopes   []string
	query    []string // declared query parameters
	handler  func(*Server, *apiReq)
}

var routes = []route{
	{"POST", segs("/2/tweets"), EndpointCreateTweet, scopesTweetWrite, nil, (*Server).createTweet},
	{"DELETE", segs("/2/tweets/:id"), EndpointDeleteTweet, scopesTweetWrite, nil, (*Server).deleteTweet},
	{"GET", segs("/2/users/me"), EndpointMe, scopesRead, []string{"user.fields", "expansions", "tweet.fields"}, (*Server).me},
	{"GET", segs("/2/users/:id/tweets"), EndpointUserTweets, scopesRead, timelineQuery, (*Server).userTweets},
	{"POST", segs("/2/media/upload"), EndpointMediaUpload, scopesMedia, nil, (*Server).mediaUpload},
	{"GET", segs("/2/media/upload"), EndpointMediaStatus, scopesMedia, []string{"media_id", "command"}, (*Server).mediaStatus},
	{"POST", segs("/2/media/upload/initialize"), EndpointMediaInit, scopesMedia, nil, (*Server).mediaInit},
	{"POST", segs("/2/media/upload/:id/append"), EndpointMediaAppend, scopesMedia, nil, (*Server).mediaAppend},
	{"POST", segs("/2/media/upload/:id/finalize"), EndpointMediaFinalize, scopesMedia, nil, (*Server).mediaFinalize},
	{"POST", segs("/2/media/metadata"), EndpointMediaMetadata, scopesMedia, nil, (*Server).mediaMetadata},
}

func segs(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// match finds the route for a path. No two routes' patterns overlap (the
// literal /2/media/upload/initialize is one segment shorter than append),
// so the first match is the only one.
func match(method, p string) (rt *route, id string, pathKnown bool) {
	parts := segs(p)
	for i := range routes {
		r := &routes[i]
		if len(r.segs) != len(parts) {
			continue
		}
		ok, pid := true, ""
		for j, sg := range r.segs {
			if sg == ":id" {
				pid = parts[j]
			} else if sg != parts[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathKnown = true
		if r.method == method {
			return r, pid, true
		}
	}
	return nil, "", pathKnown
}

// apiReq is one authenticated API request.
type apiReq struct {
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	id     string // the :id path parameter
	user   *User
	client string
	entry  *Request
}

// api serves /2/* API routes: declared query parameters, bearer auth,
// rate limits, scopes, then the handler.
func (s *Server) api(w http.ResponseWriter, r *http.Request, body []byte, entry *Request) {
	rt, id, known := match(r.Method, r.URL.Path)
	if rt == nil {
		if known {
			s.violation(r, fmt.Errorf("method %s not allowed on %s", r.Method, r.URL.Path))
		} else {
			s.violation(r, fmt.Errorf("no such API path %s", r.URL.Path))
		}
		s.rateHeaders(w, "", "unknown", false)
		writeProblem(w, http.StatusNotFound, "Not Found Error", "The requested resource could not be found.", "about:blank")
		return
	}
	for k := range r.URL.Query() {
		if !slices.Contains(rt.query, k) {
			s.violation(r, fmt.Errorf("undeclared query parameter %q", k))
			s.rateHeaders(w, "", rt.endpoint, false)
			invalidRequest(w, map[string][]string{k: r.URL.Query()[k]}, fmt.Sprintf("The query parameter [%s] is not one of [%s]", k, strings.Join(rt.query, ",")))
			return
		}
	}
	if id != "" && !validID(id) {
		s.violation(r, fmt.Errorf("path id %q does not match ^[0-9]{1,19}$", id))
		s.rateHeaders(w, "", rt.endpoint, false)
		invalidRequest(w, map[string][]string{"id": {id}}, fmt.Sprintf("The `id` query parameter value [%s] does not match ^[0-9]{1,19}$", id))
		return
	}

	s.mu.Lock()
	tok, _ := s.bearerLocked(r)
	var user *User
	if tok != nil {
		user = s.users[tok.userID]
	}
	s.mu.Unlock()
	if tok == nil || user == nil {
		s.rateHeaders(w, "", rt.endpoint, true)
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized", "about:blank")
		return
	}
	entry.UserID = user.ID
	if !s.rateHeaders(w, user.ID+"\x00"+tok.clientID, rt.endpoint, true) {
		writeProblem(w, http.StatusTooManyRequests, "Too Many Requests", "Too Many Requests", "about:blank")
		return
	}
	for _, sc := range rt.scopes {
		if !slices.Contains(tok.scopes, sc) {
			writeProblem(w, http.StatusForbidden, "Forbidden", "Forbidden", "about:blank")
			return
		}
	}
	rt.handler(s, &apiReq{w: w, r: r, body: body, id: id, user: user, client: tok.clientID, entry: entry})
}

type windowKey struct{ who, endpoint string }

type window struct {
	start time.Time
	count int
}

// take counts one request in the window starting at its first use and
// reports whether it is allowed.
func (wd *window) take(now time.Time, length time.Duration, limit int) (remaining int, reset time.Time, ok bool) {
	if wd.start.IsZero() || !now.Before(wd.start.Add(length)) {
		wd.start, wd.count = now, 0
	}
	reset = wd.start.Add(length)
	if wd.count >= limit {
		return 0, reset, false
	}
	wd.count++
	return limit - wd.count, reset, true
}

// rateHeaders counts the request in its windows, sets X's headers and
// reports whether every window still had room. who is "user\x00client"
// ("" for unauthenticated requests).
func (s *Server) rateHeaders(w http.ResponseWriter, who, endpoint string, count bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	limit, ok := s.limits[endpoint]
	if !ok {
		limit = 15
	}
	key := windowKey{who, endpoint}
	wd := s.windows[key]
	if wd == nil {
		wd = &window{}
		s.windows[key] = wd
	}
	allowed := true
	set := func(prefix string, limit, remaining int, reset time.Time) {
		w.Header().Set(prefix+"-limit", strconv.Itoa(limit))
		w.Header().Set(prefix+"-remaining", strconv.Itoa(remaining))
		w.Header().Set(prefix+"-reset", strconv.FormatInt(reset.Unix(), 10))
	}
	if !count {
		rem, reset := limit-wd.count, wd.start.Add(s.opts.RateWindow)
		if wd.start.IsZero() || !now.Before(reset) {
			rem, reset = limit, now.Add(s.opts.RateWindow)
		}
		set("x-rate-limit", limit, rem, reset)
		return true
	}
	rem, reset, ok1 := wd.take(now, s.opts.RateWindow, limit)
	set("x-rate-limit", limit, rem, reset)
	allowed = ok1
	if endpoint == EndpointCreateTweet && who != "" && allowed {
		user, client, _ := strings.Cut(who, "\x00")
		if l := s.opts.UserDailyTweetLimit; l > 0 {
			k := windowKey{"user24:" + user, endpoint}
			if s.windows[k] == nil {
				s.windows[k] = &window{}
			}
			rem, reset, ok := s.windows[k].take(now, dailyWindow, l)
			set("x-user-limit-24hour", l, rem, reset)
			allowed = allowed && ok
		}
		if l := s.opts.AppDailyTweetLimit; l > 0 {
			k := windowKey{"app24:" + client, endpoint}
			if s.windows[k] == nil {
				s.windows[k] = &window{}
			}
			rem, reset, ok := s.windows[k].take(now, dailyWindow, l)
			set("x-app-limit-24hour", l, rem, reset)
			allowed = allowed && ok
		}
	}
	return allowed
}

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

// fields parses a comma-separated *.fields parameter against its allowed
// values, reporting a violation and answering 400 on an unknown one.
func (s *Server) fields(a *apiReq, name string, allowed []string) (map[string]bool, bool) {
	out := map[string]bool{}
	raw := a.r.URL.Query().Get(name)
	if raw == "" {
		return out, true
	}
	for _, f := range strings.Split(raw, ",") {
		if !slices.Contains(allowed, f) {
			s.violation(a.r, fmt.Errorf("%s value %q not allowed", name, f))
			invalidRequest(a.w, map[string][]string{name: {raw}},
				fmt.Sprintf("The `%s` query parameter value [%s] is not one of [%s]", name, f, strings.Join(allowed, ",")))
			return nil, false
		}
		out[f] = true
	}
	return out, true
}

var userFields = []string{"affiliation", "confirmed_email", "connection_status", "created_at", "description",
	"entities", "id", "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody",
	"pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected", "public_metrics",
	"receives_your_dm", "subscription", "subscription_type", "url", "username", "verified",
	"verified_followers_count", "verified_type", "withheld"}

var tweetFields = []string{"article", "attachments", "author_id", "card_uri", "community_id",
	"context_annotations", "conversation_id", "created_at", "display_text_range", "edit_controls",
	"edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang", "media_metadata",
	"non_public_metrics", "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics",
	"public_metrics", "referenced_tweets", "reply_settings", "scopes", "source",
	"suggested_source_links", "suggested_source_links_with_counts", "text", "withheld"}

// me is GET /2/users/me.
func (s *Server) me(a *apiReq) {
	f, ok := s.fields(a, "user.fields", userFields)
	if !ok {
		return
	}
	if _, ok := s.fields(a, "tweet.fields", tweetFields); !ok {
		return
	}
	if _, ok := s.fields(a, "expansions", []string{"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"}); !ok {
		return
	}
	s.mu.Lock()
	u := *a.user
	recent := ""
	for i := len(s.tweets) - 1; i >= 0; i-- {
		if t := s.tweets[i]; t.AuthorID == u.ID && !t.Deleted {
			recent = t.ID
			break
		}
	}
	s.mu.Unlock()
	d := map[string]any{"id": u.ID, "name": u.Name, "username": u.Username}
	if f["subscription_type"] {
		d["subscription_type"] = u.SubscriptionType
	}
	if f["most_recent_tweet_id"] && recent != "" {
		d["most_recent_tweet_id"] = recent
	}
	if f["created_at"] {
		d["created_at"] = xTime(u.CreatedAt)
	}
	if f["protected"] {
		d["protected"] = false
	}
	if f["verified"] {
		d["verified"] = u.SubscriptionType != "None"
	}
	writeJSON(a.w, http.StatusOK, map[string]any{"data": d})
}

// xTime formats times as X does: UTC with milliseconds.
func xTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
