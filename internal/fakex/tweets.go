package fakex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/textutil"
)

// Tweet is a post stored by the fake.
type Tweet struct {
	ID        string
	AuthorID  string
	Text      string // as X returns it (see Render): t.co links, HTML-escaped
	Posted    string // the text exactly as it was sent
	ReplyToID string
	QuoteID   string
	// ConversationID is the id of the thread's first post.
	ConversationID string
	MediaIDs       []string
	CreatedAt      time.Time
	Deleted        bool
	URLs           []URLEntity
}

// URLEntity is a link X found in a post's text.
type URLEntity struct {
	Start, End  int    // code point offsets in Text
	URL         string // the t.co link in Text
	ExpandedURL string // what was posted (http:// added without a scheme), or the media's page
	DisplayURL  string
}

// Tweets returns copies of the stored posts in creation order, deleted
// ones included (Deleted set).
func (s *Server) Tweets() []Tweet {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Tweet, 0, len(s.tweets))
	for _, t := range s.tweets {
		c := *t
		c.MediaIDs = append([]string(nil), t.MediaIDs...)
		c.URLs = append([]URLEntity(nil), t.URLs...)
		out = append(out, c)
	}
	return out
}

// createBody is POST /2/tweets' schema (TweetCreateRequest); unknown
// fields are refused as X does (additionalProperties: false).
type createBody struct {
	Text  *string `json:"text"`
	Reply *struct {
		InReplyToTweetID          string   `json:"in_reply_to_tweet_id"`
		ExcludeReplyUserIDs       []string `json:"exclude_reply_user_ids"`
		AutoPopulateReplyMetadata *bool    `json:"auto_populate_reply_metadata"`
	} `json:"reply"`
	Media *struct {
		MediaIDs      []string `json:"media_ids"`
		TaggedUserIDs []string `json:"tagged_user_ids"`
	} `json:"media"`
	QuoteTweetID          string          `json:"quote_tweet_id"`
	Poll                  json.RawMessage `json:"poll"`
	ReplySettings         string          `json:"reply_settings"`
	ForSuperFollowersOnly bool            `json:"for_super_followers_only"`
	Nullcast              bool            `json:"nullcast"`
	ShareWithFollowers    bool            `json:"share_with_followers"`
	CardURI               string          `json:"card_uri"`
	DirectMessageDeepLink string          `json:"direct_message_deep_link"`
	CommunityID           string          `json:"community_id"`
	Geo                   json.RawMessage `json:"geo"`
	EditOptions           json.RawMessage `json:"edit_options"`
}

// decodeStrict decodes JSON refusing unknown fields and trailing data; a
// failure is a violation answered like X's schema errors.
func (s *Server) decodeStrict(a *apiReq, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = fmt.Errorf("trailing data after the JSON object")
	}
	if err != nil {
		s.violation(a.r, fmt.Errorf("request body: %v", err))
		invalidRequest(a.w, nil, err.Error())
		return false
	}
	return true
}

const (
	msgDuplicate  = "You are not allowed to create a Tweet with duplicate content."
	msgReplyGone  = "You attempted to reply to a Tweet that is deleted or not visible to you."
	msgQuoteGone  = "You attempted to quote a Tweet that is deleted or not visible to you."
	msgBadMedia   = "Your media IDs are invalid."
	msgEmptyTweet = "Post text is required unless media is provided."
)

// createTweet is POST /2/tweets.
func (s *Server) createTweet(a *apiReq) {
	var b createBody
	if !s.decodeStrict(a, &b) {
		return
	}
	if b.Reply != nil && !validID(b.Reply.InReplyToTweetID) {
		s.violation(a.r, fmt.Errorf("reply.in_reply_to_tweet_id %q missing or not an id", b.Reply.InReplyToTweetID))
		invalidRequest(a.w, map[string][]string{"reply.in_reply_to_tweet_id": {b.Reply.InReplyToTweetID}}, "$.reply.in_reply_to_tweet_id: does not match the pattern ^[0-9]{1,19}$")
		return
	}
	if b.Media != nil && (len(b.Media.MediaIDs) < 1 || len(b.Media.MediaIDs) > 4) {
		s.violation(a.r, fmt.Errorf("media.media_ids has %d items, want 1–4", len(b.Media.MediaIDs)))
		invalidRequest(a.w, nil, "$.media.media_ids: must have between 1 and 4 items")
		return
	}
	text := ""
	if b.Text != nil {
		text = *b.Text
	}
	var mediaIDs []string
	if b.Media != nil {
		mediaIDs = b.Media.MediaIDs
	}
	if text == "" && len(mediaIDs) == 0 {
		invalidRequest(a.w, map[string][]string{"text": {""}}, msgEmptyTweet)
		return
	}
	if b.Media != nil && (b.QuoteTweetID != "" || len(b.Poll) > 0 || b.CardURI != "") {
		invalidRequest(a.w, nil, "media, poll, quote_tweet_id and card_uri are mutually exclusive")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var parent *Tweet
	if b.Reply != nil {
		parent = s.tweetByID[b.Reply.InReplyToTweetID]
		if parent == nil || parent.Deleted {
			writeProblem(a.w, http.StatusForbidden, "Forbidden", msgReplyGone, "about:blank")
			return
		}
	}
	if b.QuoteTweetID != "" {
		if q := s.tweetByID[b.QuoteTweetID]; q == nil || q.Deleted {
			writeProblem(a.w, http.StatusForbidden, "Forbidden", msgQuoteGone, "about:blank")
			return
		}
	}
	var videos int
	for _, id := range mediaIDs {
		m := s.media[id]
		if m == nil || m.owner != a.user.ID || m.state != StateSucceeded || !now.Before(m.expires) {
			invalidRequest(a.w, map[string][]string{"media.media_ids": mediaIDs}, msgBadMedia)
			return
		}
		if m.category != "tweet_image" {
			videos++
		}
	}
	if videos > 0 && len(mediaIDs) > 1 {
		invalidRequest(a.w, map[string][]string{"media.media_ids": mediaIDs}, msgBadMedia)
		return
	}
	if text != "" {
		for _, t := range s.tweets {
			if t.AuthorID == a.user.ID && !t.Deleted && t.Posted == text && now.Sub(t.CreatedAt) < s.opts.DuplicateWindow {
				writeProblem(a.w, http.StatusForbidden, "Forbidden", msgDuplicate, "about:blank")
				return
			}
		}
	}

	id := s.snowflakeLocked(&s.lastTweetID)
	t := &Tweet{ID: id, AuthorID: a.user.ID, Posted: text, QuoteID: b.QuoteTweetID,
		MediaIDs: append([]string(nil), mediaIDs...), CreatedAt: now, ConversationID: id}
	if parent != nil {
		t.ReplyToID = parent.ID
		t.ConversationID = parent.ConversationID
	}
	t.Text, t.URLs = Render(text, s.mediaPageLocked(a.user, id, mediaIDs), func() string {
		s.nextTco++
		return tcoLink(s.nextTco)
	})
	s.tweets = append(s.tweets, t)
	s.tweetByID[id] = t
	a.entry.TweetID, a.entry.ReplyTo = id, t.ReplyToID
	writeJSON(a.w, http.StatusCreated, map[string]any{"data": map[string]any{"id": id, "text": t.Text}})
}

// mediaPageLocked is where X's appended media link points: the post's
// first photo or video.
func (s *Server) mediaPageLocked(user *User, id string, mediaIDs []string) string {
	if len(mediaIDs) == 0 {
		return ""
	}
	kind := "photo"
	if m := s.media[mediaIDs[0]]; m != nil && m.category != "tweet_image" {
		kind = "video"
	}
	return "https://x.com/" + user.Username + "/status/" + id + "/" + kind + "/1"
}

// deleteTweet is DELETE /2/tweets/{id}.
func (s *Server) deleteTweet(a *apiReq) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tweetByID[a.id]
	if t == nil || t.Deleted {
		writeJSON(a.w, http.StatusOK, map[string]any{"errors": []any{notFound(a.id, "tweet", "id")}})
		return
	}
	if t.AuthorID != a.user.ID {
		writeProblem(a.w, http.StatusForbidden, "Forbidden", "You are not allowed to delete this Tweet.", "about:blank")
		return
	}
	t.Deleted = true
	writeJSON(a.w, http.StatusOK, map[string]any{"data": map[string]bool{"deleted": true}})
}

func notFound(id, kind, param string) map[string]any {
	return map[string]any{
		"value":         id,
		"detail":        fmt.Sprintf("Could not find %s with %s: [%s].", kind, param, id),
		"title":         "Not Found Error",
		"resource_type": kind,
		"parameter":     param,
		"resource_id":   id,
		"type":          problemNotFound,
	}
}

// userTweets is GET /2/users/{id}/tweets: the user's posts, newest first.
func (s *Server) userTweets(a *apiReq) {
	q := a.r.URL.Query()
	tf, ok := s.fields(a, "tweet.fields", tweetFields)
	if !ok {
		return
	}
	bad := func(param, msg string) {
		s.violation(a.r, fmt.Errorf("%s: %s", param, msg))
		invalidRequest(a.w, map[string][]string{param: q[param]}, msg)
	}
	max := defaultTimelineResults
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minTimelineResults || n > maxTimelineResults {
			bad("max_results", fmt.Sprintf("The `max_results` query parameter value [%s] is not between %d and %d", v, minTimelineResults, maxTimelineResults))
			return
		}
		max = n
	}
	idParam := func(name string) (int64, bool) {
		v := q.Get(name)
		if v == "" {
			return 0, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if !validID(v) || err != nil {
			bad(name, fmt.Sprintf("The `%s` query parameter value [%s] is not valid", name, v))
			return 0, false
		}
		return n, true
	}
	since, ok1 := idParam("since_id")
	until, ok2 := idParam("until_id")
	if !ok1 || !ok2 {
		return
	}
	timeParam := func(name string) (time.Time, bool) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, true
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			bad(name, fmt.Sprintf("The `%s` query parameter value [%s] is not a valid date-time", name, v))
			return time.Time{}, false
		}
		return t, true
	}
	start, ok1 := timeParam("start_time")
	end, ok2 := timeParam("end_time")
	if !ok1 || !ok2 {
		return
	}
	var pageBelow int64
	if v := q.Get("pagination_token"); v != "" {
		n, err := strconv.ParseInt(v, 36, 64)
		if err != nil || n <= 0 {
			invalidRequest(a.w, map[string][]string{"pagination_token": {v}}, "The `pagination_token` query parameter value ["+v+"] is not valid")
			return
		}
		pageBelow = n
	}
	excludeReplies := false
	if v := q.Get("exclude"); v != "" {
		for _, e := range strings.Split(v, ",") {
			switch e {
			case "replies":
				excludeReplies = true
			case "retweets":
			default:
				bad("exclude", "The `exclude` query parameter value ["+e+"] is not one of [replies,retweets]")
				return
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[a.id]; !ok {
		writeJSON(a.w, http.StatusOK, map[string]any{"errors": []any{notFound(a.id, "user", "id")}})
		return
	}
	var sel []*Tweet
	for _, t := range s.tweets {
		n, _ := strconv.ParseInt(t.ID, 10, 64)
		switch {
		case t.AuthorID != a.id || t.Deleted:
		case excludeReplies && t.ReplyToID != "":
		case since != 0 && n <= since:
		case until != 0 && n >= until:
		case since == 0 && !start.IsZero() && t.CreatedAt.Before(start):
		case until == 0 && !end.IsZero() && t.CreatedAt.After(end):
		case pageBelow != 0 && n >= pageBelow:
		default:
			sel = append(sel, t)
		}
	}
	sort.Slice(sel, func(i, j int) bool {
		return len(sel[i].ID) > len(sel[j].ID) || (len(sel[i].ID) == len(sel[j].ID) && sel[i].ID > sel[j].ID)
	})
	meta := map[string]any{"result_count": 0}
	more := len(sel) > max
	if more {
		sel = sel[:max]
	}
	data := make([]map[string]any, 0, len(sel))
	for _, t := range sel {
		data = append(data, s.tweetJSONLocked(t, tf))
	}
	out := map[string]any{"meta": meta}
	if len(sel) > 0 {
		out["data"] = data
		meta["result_count"] = len(sel)
		meta["newest_id"] = sel[0].ID
		meta["oldest_id"] = sel[len(sel)-1].ID
		if more {
			n, _ := strconv.ParseInt(sel[len(sel)-1].ID, 10, 64)
			meta["next_token"] = strconv.FormatInt(n, 36)
		}
	}
	writeJSON(a.w, http.StatusOK, out)
}

// tweetJSONLocked renders a post with the requested tweet.fields (id, text
// and edit_history_tweet_ids always, as X does).
func (s *Server) tweetJSONLocked(t *Tweet, f map[string]bool) map[string]any {
	d := map[string]any{"id": t.ID, "text": t.Text, "edit_history_tweet_ids": []string{t.ID}}
	if f["author_id"] {
		d["author_id"] = t.AuthorID
	}
	if f["created_at"] {
		d["created_at"] = xTime(t.CreatedAt)
	}
	if f["conversation_id"] {
		d["conversation_id"] = t.ConversationID
	}
	if f["in_reply_to_user_id"] && t.ReplyToID != "" {
		if p := s.tweetByID[t.ReplyToID]; p != nil {
			d["in_reply_to_user_id"] = p.AuthorID
		}
	}
	if f["referenced_tweets"] {
		var refs []map[string]string
		if t.ReplyToID != "" {
			refs = append(refs, map[string]string{"type": "replied_to", "id": t.ReplyToID})
		}
		if t.QuoteID != "" {
			refs = append(refs, map[string]string{"type": "quoted", "id": t.QuoteID})
		}
		if len(refs) > 0 {
			d["referenced_tweets"] = refs
		}
	}
	if f["entities"] && len(t.URLs) > 0 {
		var urls []map[string]any
		for _, u := range t.URLs {
			urls = append(urls, map[string]any{"start": u.Start, "end": u.End, "url": u.URL,
				"expanded_url": u.ExpandedURL, "display_url": u.DisplayURL})
		}
		d["entities"] = map[string]any{"urls": urls}
	}
	if f["attachments"] && len(t.MediaIDs) > 0 {
		var keys []string
		for _, id := range t.MediaIDs {
			if m := s.media[id]; m != nil {
				keys = append(keys, m.key)
			}
		}
		if len(keys) > 0 {
			d["attachments"] = map[string]any{"media_keys": keys}
		}
	}
	return d
}

func displayURL(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return textutil.Truncate(u, 26)
}
