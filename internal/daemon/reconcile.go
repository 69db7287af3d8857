package daemon

import (
	"context"
	"html"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// Reconciliation: after an ambiguous create (the connection dropped, the
// daemon crashed, or X answered "duplicate content"), psnd looks for the
// tweet in the account's own recent posts before posting it again.
const (
	reconcilePageSize = 20
	reconcileMaxPages = 5
	// reconcileSlack widens the time window for a thread's first tweet
	// (no earlier id to search after) to cover clock skew with X.
	reconcileSlack = 5 * time.Minute
)

// findLanded returns the id of the account's post that matches tw: the
// same text (as X renders it: URLs as t.co links, & as &amp;) and, inside a
// thread, a reply to prevID. "" means not found.
func (p *publisher) findLanded(ctx context.Context, xs *xsession, tw *post.Tweet, prevID string) (string, error) {
	pst := xs.pst
	params := xapi.UserTweetsParams{MaxResults: reconcilePageSize}
	if prevID != "" {
		params.SinceID = prevID
	} else {
		var since *time.Time
		err := p.store.View(ctx, func(tx *sqlstore.Tx) error {
			var err error
			since, err = tx.SendStartedAt(tw.RowID)
			return err
		})
		if err != nil {
			return "", err
		}
		from := p.clock.Now().Add(-24 * time.Hour)
		if since != nil {
			from = since.Add(-reconcileSlack)
		}
		params.StartTime = from.UTC().Truncate(time.Second)
	}
	for range reconcileMaxPages {
		var page xapi.UserTweetsPage
		err := xs.call(ctx, func(token string) error {
			var err error
			page, _, err = p.x.UserTweets(ctx, token, pst.AccountID, params)
			return err
		})
		if err != nil {
			return "", err
		}
		// Oldest first: if the same text was posted twice, the earlier one
		// is ours.
		tweets := page.Tweets
		sort.SliceStable(tweets, func(i, j int) bool { return idLess(tweets[i].ID, tweets[j].ID) })
		// A tweet another post (or another tweet of this one) already owns
		// is never ours: the same text may have been posted twice.
		ids := make([]string, len(tweets))
		for i, t := range tweets {
			ids[i] = t.ID
		}
		var known map[string]bool
		if err := p.store.View(ctx, func(tx *sqlstore.Tx) error {
			var err error
			known, err = tx.KnownPlatformIDs(ids)
			return err
		}); err != nil {
			return "", err
		}
		for _, t := range tweets {
			if !known[t.ID] && matchesReply(t, prevID) && sameText(tw.Text, len(tw.Media) > 0, t) {
				return t.ID, nil
			}
		}
		if page.Meta.NextToken == "" {
			break
		}
		params.PaginationToken = page.Meta.NextToken
	}
	return "", nil
}

// idLess orders X's numeric string ids.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func matchesReply(t xapi.Tweet, prevID string) bool {
	replyTo := ""
	for _, r := range t.ReferencedTweets {
		if r.Type == "replied_to" {
			replyTo = r.ID
		}
	}
	return replyTo == prevID
}

// placeholder stands for a URL on both sides of the comparison: X rewrites
// every link to t.co, so links are compared by what they expand to, not by
// their text.
const placeholder = "\uFFFCurl\uFFFC"

// sameText reports whether X's rendering of a post is the text psnd sent
// (withMedia: psnd attached media, for which X appends a link). A long post's
// full text is in note_tweet; its text field is cut short.
func sameText(ours string, withMedia bool, t xapi.Tweet) bool {
	theirs := t.Text
	var urls []xapi.URLEntity
	if t.Entities != nil {
		urls = t.Entities.URLs
	}
	if t.NoteTweet != nil && t.NoteTweet.Text != "" {
		theirs, urls = t.NoteTweet.Text, nil
		if t.NoteTweet.Entities != nil {
			urls = t.NoteTweet.Entities.URLs
		}
	}
	// Only a post that carries media can have X's media link appended.
	mediaLink := withMedia && t.Attachments != nil && len(t.Attachments.MediaKeys) > 0
	// Replace t.co links in X's text, last first so offsets stay valid.
	// Entity offsets count code points.
	rs := []rune(theirs)
	ents := append([]xapi.URLEntity(nil), urls...)
	sort.Slice(ents, func(i, j int) bool { return ents[i].Start > ents[j].Start })
	oursRest := ours
	for _, e := range ents {
		if e.Start < 0 || e.End > len(rs) || e.Start >= e.End {
			continue
		}
		repl := placeholder
		if !replaceURL(&oursRest, e.ExpandedURL) {
			trailing := e.End == len(rs) || strings.TrimSpace(string(rs[e.End:])) == ""
			if !mediaLink || !trailing {
				return false
			}
			repl = "" // the link X appends for attached media
			mediaLink = false
		}
		rs = append(rs[:e.Start], append([]rune(repl), rs[e.End:]...)...)
	}
	theirs = html.UnescapeString(string(rs))
	return normText(theirs) == normText(oursRest)
}

// replaceURL replaces the first occurrence of u (or u without its scheme,
// as a user may type it) in *s with the placeholder.
func replaceURL(s *string, u string) bool {
	if u == "" {
		return false
	}
	lower := strings.ToLower(*s)
	for _, cand := range []string{u, strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")} {
		if i := strings.Index(lower, strings.ToLower(cand)); i >= 0 {
			*s = (*s)[:i] + placeholder + (*s)[i+len(cand):]
			return true
		}
		// X may add a trailing slash to a bare host.
		if c := strings.TrimSuffix(cand, "/"); c != cand {
			if i := strings.Index(lower, strings.ToLower(c)); i >= 0 {
				*s = (*s)[:i] + placeholder + (*s)[i+len(c):]
				return true
			}
		}
	}
	return false
}

// normText folds the differences X introduces that do not change a post:
// normalisation form and runs of white space at the ends.
func normText(s string) string {
	s = norm.NFC.String(s)
	return strings.Join(strings.Fields(s), " ")
}
