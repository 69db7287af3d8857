package xapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// CreateTweetRequest is one post. Empty fields are omitted from the request.
type CreateTweetRequest struct {
	Text         string
	ReplyToID    string   // sent as reply.in_reply_to_tweet_id
	MediaIDs     []string // 1–4 finalized media ids; excludes QuoteTweetID
	QuoteTweetID string   // Enterprise-only on self-serve access
}

// Tweet is a post as X returns it. Fields beyond ID and Text are filled only
// by calls that ask for them (UserTweets does).
type Tweet struct {
	ID                  string            `json:"id"`
	Text                string            `json:"text"`
	AuthorID            string            `json:"author_id,omitempty"`
	ConversationID      string            `json:"conversation_id,omitempty"`
	CreatedAt           time.Time         `json:"created_at,omitzero"`
	ReferencedTweets    []ReferencedTweet `json:"referenced_tweets,omitempty"`
	Entities            *Entities         `json:"entities,omitempty"`
	Attachments         *Attachments      `json:"attachments,omitempty"`
	EditHistoryTweetIDs []string          `json:"edit_history_tweet_ids,omitempty"`
	// NoteTweet holds the full text of a long (Premium) post, whose Text
	// is cut at 280 characters.
	NoteTweet *NoteTweet `json:"note_tweet,omitempty"`
}

// NoteTweet is the full content of a post longer than 280 characters.
type NoteTweet struct {
	Text     string    `json:"text"`
	Entities *Entities `json:"entities,omitempty"`
}

// ReferencedTweet links a post to the one it replies to, quotes or reposts.
type ReferencedTweet struct {
	Type string `json:"type"` // replied_to, quoted, retweeted
	ID   string `json:"id"`
}

// Entities are the parsed parts of a post's text that psnd needs.
type Entities struct {
	URLs []URLEntity `json:"urls,omitempty"`
}

// URLEntity maps a t.co link in the returned text back to what was posted.
type URLEntity struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url,omitempty"`
	DisplayURL  string `json:"display_url,omitempty"`
}

// Attachments lists the media keys attached to a post.
type Attachments struct {
	MediaKeys []string `json:"media_keys,omitempty"`
}

// InReplyTo returns the id of the post this one replies to, or "".
func (t Tweet) InReplyTo() string {
	for _, r := range t.ReferencedTweets {
		if r.Type == "replied_to" {
			return r.ID
		}
	}
	return ""
}

// ExpandedText returns the text with each t.co link replaced by the URL that
// was posted, so it can be compared with psnd's own copy of the text.
func (t Tweet) ExpandedText() string {
	if t.Entities == nil || len(t.Entities.URLs) == 0 {
		return t.Text
	}
	s := t.Text
	for _, u := range t.Entities.URLs {
		if u.URL != "" && u.ExpandedURL != "" {
			s = strings.Replace(s, u.URL, u.ExpandedURL, 1)
		}
	}
	return s
}

// createTweetBody is POST /2/tweets' body: only spec fields, empty ones
// omitted, reply id only inside reply.
type createTweetBody struct {
	Text         string           `json:"text"`
	Reply        *createReplyBody `json:"reply,omitempty"`
	Media        *createMediaBody `json:"media,omitempty"`
	QuoteTweetID string           `json:"quote_tweet_id,omitempty"`
}

type createReplyBody struct {
	InReplyToTweetID string `json:"in_reply_to_tweet_id"`
}

type createMediaBody struct {
	MediaIDs []string `json:"media_ids"`
}

// CreateTweet publishes a post. On a *NetError with Sent set the post may
// exist: reconcile (Me's MostRecentTweetID, then UserTweets) before retrying.
// A duplicate refusal (IsDuplicate) after such an error means it landed.
func (c *Client) CreateTweet(ctx context.Context, token string, r CreateTweetRequest) (Tweet, RateLimit, error) {
	if r.Text == "" && len(r.MediaIDs) == 0 {
		return Tweet{}, RateLimit{}, invalidf("post has neither text nor media")
	}
	if len(r.MediaIDs) > maxMediaPerTweet {
		return Tweet{}, RateLimit{}, invalidf("%d media ids; X allows at most %d per post", len(r.MediaIDs), maxMediaPerTweet)
	}
	if len(r.MediaIDs) > 0 && r.QuoteTweetID != "" {
		return Tweet{}, RateLimit{}, invalidf("a post cannot carry both media and a quoted post")
	}
	for _, id := range r.MediaIDs {
		if !validID(id) {
			return Tweet{}, RateLimit{}, invalidf("media id %q is not an X id", id)
		}
	}
	if r.ReplyToID != "" && !validID(r.ReplyToID) {
		return Tweet{}, RateLimit{}, invalidf("reply-to id %q is not an X id", r.ReplyToID)
	}
	if r.QuoteTweetID != "" && !validID(r.QuoteTweetID) {
		return Tweet{}, RateLimit{}, invalidf("quoted post id %q is not an X id", r.QuoteTweetID)
	}
	b := createTweetBody{Text: r.Text, QuoteTweetID: r.QuoteTweetID}
	if r.ReplyToID != "" {
		b.Reply = &createReplyBody{InReplyToTweetID: r.ReplyToID}
	}
	if len(r.MediaIDs) > 0 {
		b.Media = &createMediaBody{MediaIDs: append([]string(nil), r.MediaIDs...)}
	}
	body, err := json.Marshal(b)
	if err != nil {
		return Tweet{}, RateLimit{}, err
	}
	var out struct {
		Data *Tweet `json:"data"`
	}
	k := call{method: http.MethodPost, path: "/2/tweets", contentType: "application/json", body: body}
	rl, err := c.send(ctx, token, k, &out)
	if err != nil {
		return Tweet{}, rl, err
	}
	if out.Data == nil || out.Data.ID == "" {
		// 2xx without an id: the post may exist, we cannot know its id.
		return Tweet{}, rl, &NetError{Op: k.op(), Sent: true, Err: errors.New("answer carries no post id")}
	}
	return *out.Data, rl, nil
}

// DeleteTweet deletes one of the user's posts.
func (c *Client) DeleteTweet(ctx context.Context, token, id string) (RateLimit, error) {
	if !validID(id) {
		return RateLimit{}, invalidf("post id %q is not an X id", id)
	}
	var out struct {
		Data *struct {
			Deleted bool `json:"deleted"`
		} `json:"data"`
		Errors []ErrorItem `json:"errors"`
	}
	k := call{method: http.MethodDelete, path: "/2/tweets/" + id}
	rl, err := c.send(ctx, token, k, &out)
	if err != nil {
		return rl, err
	}
	if out.Data == nil || !out.Data.Deleted {
		return rl, partialError(k.op(), out.Errors, rl, "X did not delete the post")
	}
	return rl, nil
}

// User is the authenticated account.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
	// SubscriptionType is Basic, Premium, PremiumPlus or None; Premium and
	// PremiumPlus may post long text.
	SubscriptionType string `json:"subscription_type,omitempty"`
	// MostRecentTweetID is the account's newest post: a cheap "did my post
	// land?" probe after an ambiguous create. Empty for an account without posts.
	MostRecentTweetID string `json:"most_recent_tweet_id,omitempty"`
}

// meUserFields are requested from GET /2/users/me; both values are in the
// spec's user.fields enum.
const meUserFields = "most_recent_tweet_id,subscription_type"

// Me identifies the token's account.
func (c *Client) Me(ctx context.Context, token string) (User, RateLimit, error) {
	var out struct {
		Data   *User       `json:"data"`
		Errors []ErrorItem `json:"errors"`
	}
	k := call{method: http.MethodGet, path: "/2/users/me", query: url.Values{"user.fields": {meUserFields}}}
	rl, err := c.send(ctx, token, k, &out)
	if err != nil {
		return User{}, rl, err
	}
	if out.Data == nil || out.Data.ID == "" {
		return User{}, rl, partialError(k.op(), out.Errors, rl, "X returned no user")
	}
	return *out.Data, rl, nil
}

// UserTweetsParams selects a page of a user's timeline. Zero fields are
// omitted. SinceID and UntilID are exclusive and take precedence over the
// times.
type UserTweetsParams struct {
	SinceID         string
	UntilID         string
	MaxResults      int // 5–100; 0 lets X choose (10)
	PaginationToken string
	StartTime       time.Time
	EndTime         time.Time
	ExcludeReplies  bool // leave false when looking for thread tweets
	ExcludeRetweets bool
}

// UserTweetsPage is one page of a timeline, newest first.
type UserTweetsPage struct {
	Tweets []Tweet
	Meta   TimelineMeta
}

// TimelineMeta is the page's meta object; NextToken is empty on the last page.
type TimelineMeta struct {
	ResultCount int    `json:"result_count"`
	NewestID    string `json:"newest_id,omitempty"`
	OldestID    string `json:"oldest_id,omitempty"`
	NextToken   string `json:"next_token,omitempty"`
}

// userTweetFields is what reconciliation needs: when, what it replies to,
// the full text of a long post, its media,
// and the expanded URLs to compare text.
const userTweetFields = "attachments,author_id,conversation_id,created_at,entities,note_tweet,referenced_tweets"

// UserTweets reads a page of the user's posts, newest first, for
// reconciliation after an ambiguous create. Ask for few results: owned reads
// are billed per post returned.
func (c *Client) UserTweets(ctx context.Context, token, userID string, p UserTweetsParams) (UserTweetsPage, RateLimit, error) {
	if !validID(userID) {
		return UserTweetsPage{}, RateLimit{}, invalidf("user id %q is not an X id", userID)
	}
	q := url.Values{"tweet.fields": {userTweetFields}}
	if p.SinceID != "" {
		if !validID(p.SinceID) {
			return UserTweetsPage{}, RateLimit{}, invalidf("since id %q is not an X id", p.SinceID)
		}
		q.Set("since_id", p.SinceID)
	}
	if p.UntilID != "" {
		if !validID(p.UntilID) {
			return UserTweetsPage{}, RateLimit{}, invalidf("until id %q is not an X id", p.UntilID)
		}
		q.Set("until_id", p.UntilID)
	}
	if p.MaxResults != 0 {
		if p.MaxResults < 5 || p.MaxResults > 100 {
			return UserTweetsPage{}, RateLimit{}, invalidf("max results %d outside X's 5–100", p.MaxResults)
		}
		q.Set("max_results", strconv.Itoa(p.MaxResults))
	}
	if p.PaginationToken != "" {
		q.Set("pagination_token", p.PaginationToken)
	}
	if !p.StartTime.IsZero() {
		q.Set("start_time", p.StartTime.UTC().Format(time.RFC3339))
	}
	if !p.EndTime.IsZero() {
		q.Set("end_time", p.EndTime.UTC().Format(time.RFC3339))
	}
	var exclude []string
	if p.ExcludeReplies {
		exclude = append(exclude, "replies")
	}
	if p.ExcludeRetweets {
		exclude = append(exclude, "retweets")
	}
	if len(exclude) > 0 {
		q.Set("exclude", strings.Join(exclude, ","))
	}
	var out struct {
		Data   []Tweet      `json:"data"`
		Meta   TimelineMeta `json:"meta"`
		Errors []ErrorItem  `json:"errors"`
	}
	k := call{method: http.MethodGet, path: "/2/users/" + userID + "/tweets", query: q}
	rl, err := c.send(ctx, token, k, &out)
	if err != nil {
		return UserTweetsPage{}, rl, err
	}
	if len(out.Data) == 0 && len(out.Errors) > 0 {
		return UserTweetsPage{}, rl, partialError(k.op(), out.Errors, rl, "")
	}
	return UserTweetsPage{Tweets: out.Data, Meta: out.Meta}, rl, nil
}

// partialError turns a 2xx answer that carries only errors[] (X reports a
// missing resource that way) into an *Error. Its StatusCode is 404 for
// resource-not-found and 400 otherwise, so the classifiers treat it as
// permanent.
func partialError(op string, items []ErrorItem, rl RateLimit, fallback string) error {
	e := &Error{Op: op, StatusCode: http.StatusBadRequest, Errors: items, RateLimit: rl}
	if len(items) > 0 {
		e.Type = items[0].Type
		e.Title = items[0].Title
		if strings.HasSuffix(e.Type, "/resource-not-found") {
			e.StatusCode = http.StatusNotFound
		}
	} else {
		e.Detail = fallback
	}
	return e
}

// snowflakeEpochMs is X's epoch: a post id's high bits count milliseconds
// since it (its "snowflake" layout: time, then 22 bits of machine and
// sequence).
const snowflakeEpochMs = 1288834974657

// IDTime is when X created the post with id, read from the id itself; ok
// is false for a string that is not such an id.
func IDTime(id string) (t time.Time, ok bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(n>>22 + snowflakeEpochMs).UTC(), true
}
