package publishing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/tweettext"
	"github.com/psnd/psnd/internal/xapi"
)

// Reconciliation: after an ambiguous create (the connection dropped, the
// daemon crashed, or X answered "duplicate content"), psnd looks for the
// tweet in the account's own posts before posting it again.
//
// The lookup is bounded by time, never by count: the tweet was created
// after a known instant (its send mark, or the post's creation), so the
// account's timeline is read from just before that instant, newest first,
// however many posts came since, until the tweet is found or the window is
// exhausted.
const (
	// reconcileSlack widens the window to cover clock skew with X.
	reconcileSlack = 5 * time.Minute
	// Page sizes: X bills owned reads per post returned, and the window
	// holds only what came since the mark, so the bill is what lies between
	// the newest post and ours. The first page is X's smallest (5) because
	// a lookup right after a crash finds its tweet among the newest few
	// (a long thread's earlier tweets are in the window too); pages then
	// double up to X's maximum, so a long window (hundreds of posts since)
	// costs a few requests rather than dozens.
	reconcileFirstPage = 5
	reconcileMaxPage   = 100
	// lookupRetryBase and lookupRetryMax bound the wait before looking
	// again after a lookup failed (5xx, network): doubling per failure.
	lookupRetryBase = 20 * time.Second
	lookupRetryMax  = 10 * time.Minute
)

// lookupError marks a failed timeline read: psnd could not learn whether a
// tweet landed. It is not a failed create and does not count as a retry.
type lookupError struct{ err error }

func (e lookupError) Error() string {
	return "check whether an interrupted post reached X: " + e.err.Error()
}
func (e lookupError) Unwrap() error { return e.err }

// findLanded returns the id of the account's post that matches tw: created
// at or after from, the same text (as X renders it, see sameText) and,
// inside a thread, a reply to prevID. "" means not found in the whole
// window. Errors are wrapped in lookupError (or are a tokenError).
func (p *publisher) findLanded(ctx context.Context, xs *xsession, tw *post.Tweet, prevID string, from time.Time) (string, error) {
	pst := xs.pst
	// since_id would take precedence over start_time at X, so one lower
	// bound is sent, the tighter: inside a thread the tweet before (ours
	// is a reply to it, so newer) when it is newer than from — it leaves
	// out the thread's earlier tweets —, else the time. A thread resumed
	// days after its last tweet would read, and X bill, every post of the
	// days between from that tweet.
	params := xapi.UserTweetsParams{MaxResults: reconcileFirstPage, StartTime: from.UTC().Truncate(time.Second)}
	if at, ok := xapi.IDTime(prevID); ok && !at.Before(from) {
		params.SinceID, params.StartTime = prevID, time.Time{}
	}
	seen := map[string]bool{}
	for {
		var page xapi.UserTweetsPage
		err := xs.call(ctx, func(token string) error {
			var err error
			page, _, err = xs.x.UserTweets(ctx, token, pst.AccountID, params)
			return err
		})
		if err != nil {
			var te tokenError
			if errors.As(err, &te) {
				return "", err
			}
			return "", lookupError{err}
		}
		// A tweet another post (or another tweet of this one) already owns
		// is never ours: the same text may have been posted twice.
		ids := make([]string, len(page.Tweets))
		for i, t := range page.Tweets {
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
		// The first unclaimed match, newest first, is taken: X refuses the
		// same text twice, so a second candidate could only be an older
		// twin outside X's duplicate window, and reading on to find it
		// would bill the whole window on every lookup.
		for _, t := range page.Tweets {
			if !known[t.ID] && matchesReply(t, prevID) && sameText(tw.Text, len(tw.Media) > 0, t) && sameMedia(tw, t) {
				return t.ID, nil
			}
		}
		next := page.Meta.NextToken
		if next == "" {
			return "", nil
		}
		if seen[next] {
			return "", lookupError{fmt.Errorf("X repeated pagination token %q", next)}
		}
		seen[next] = true
		params.PaginationToken = next
		params.MaxResults = min(2*params.MaxResults, reconcileMaxPage)
	}
}

// sameMedia reports whether X's tweet carries the media psnd attached to
// tw. A post of media alone has no text to tell it from any other picture
// the account posted (from a phone, say), so there the media must match;
// with text, the text decides when X does not say what is attached. The ids
// compared are those of the last upload, which is the one the interrupted
// create sent: media are uploaded again only after a lookup found nothing.
func sameMedia(tw *post.Tweet, t xapi.Tweet) bool {
	if len(tw.Media) == 0 {
		return true
	}
	textDecides := strings.TrimSpace(tw.Text) != ""
	var keys []string
	if t.Attachments != nil {
		keys = t.Attachments.MediaKeys
	}
	ours := map[string]bool{}
	for _, m := range tw.Media {
		if m.XMediaID == "" {
			return textDecides // never uploaded, so never sent with these media
		}
		ours[m.XMediaID] = true
	}
	if len(keys) == 0 {
		return textDecides
	}
	if len(keys) != len(ours) {
		return false
	}
	for _, k := range keys {
		// A media key is "<kind>_<media id>" (3_ photo, 7_ video, 16_ GIF).
		_, id, ok := strings.Cut(k, "_")
		if !ok || !ours[id] {
			return false
		}
	}
	return true
}

// lookupFailure is the outcome when a lookup failed. A timeline that could
// not be read (5xx, network) is looked at again later with a backoff,
// without counting a failed create: nothing was refused, psnd only does not
// know yet, and the send mark stays so the next attempt looks before it
// posts. Rate limits and refusals are classified as for any request.
func (p *publisher) lookupFailure(ctx context.Context, pst *post.Post, tw *post.Tweet, xs *xsession, err error) outcome {
	if ctx.Err() != nil {
		return outcome{kind: outAbandoned}
	}
	var te tokenError
	if errors.As(err, &te) {
		return p.tokenFailure(pst, te.err)
	}
	var le lookupError
	if !errors.As(err, &le) {
		return p.storeFailure(ctx, err)
	}
	if _, limited := xapi.IsRateLimited(err); limited || !xapi.IsTransient(err) {
		return p.classify(pst, tw, xs.refreshed, err)
	}
	n := p.lookupFails.add(pst.ID)
	d := lookupRetryBase
	for i := 1; i < n && d < lookupRetryMax; i++ {
		d *= 2
	}
	d = min(d, lookupRetryMax)
	d -= time.Duration(float64(d) * 0.25 * p.rand())
	// The retry count and its sub-status stay as they were.
	sub := post.SubNone
	if pst.Retries > 0 {
		sub = post.RetrySub(pst.Retries)
	}
	return outcome{kind: outRetry, sub: sub, at: p.clock.Now().Add(d), retries: pst.Retries,
		reason: err.Error() + "; looking again before posting"}
}

// reconcileIfSent looks up a tweet whose create may already have reached X
// (its send mark is set). It returns the id found, or "" to post it.
func (p *publisher) reconcileIfSent(ctx context.Context, xs *xsession, tw *post.Tweet, prevID string, log *slog.Logger) (string, outcome, bool) {
	pst := xs.pst
	var sent *time.Time
	err := p.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		sent, err = tx.SendStartedAt(tw.RowID)
		return err
	})
	if err != nil {
		return "", p.storeFailure(ctx, err), false
	}
	if sent == nil {
		return "", outcome{}, true
	}
	// The tweet cannot be older than its first send.
	id, err := p.findLanded(ctx, xs, tw, prevID, sent.Add(-reconcileSlack))
	if err != nil {
		// Without the lookup we cannot know whether the tweet landed;
		// posting blindly could duplicate it.
		return "", p.lookupFailure(ctx, pst, tw, xs, err), false
	}
	p.lookupFails.reset(pst.ID)
	if id == "" {
		log.Info("interrupted tweet not found on X; posting it", "position", tw.Position)
		return "", outcome{}, true
	}
	if _, err := p.record(ctx, pst.ID, tw, id, false); err != nil {
		return "", p.recordFailure(ctx, pst, err), false
	}
	log.Info("interrupted tweet found on X; recorded its id", "position", tw.Position, "x_id", id)
	return id, outcome{}, true
}

// findDuplicate handles X's "duplicate content" answer to a create: the
// text is on X already, perhaps from an attempt whose answer was lost —
// even one whose send mark an older psnd cleared, so the window starts at
// the post's creation (no tweet of a post is older than the post). It
// returns the id found and recorded, "" if the account holds no such tweet
// of ours (X refused a genuine duplicate), or ok false with the outcome
// when the lookup failed.
func (p *publisher) findDuplicate(ctx context.Context, xs *xsession, tw *post.Tweet, prevID string, log *slog.Logger) (string, outcome, bool) {
	pst := xs.pst
	id, err := p.findLanded(ctx, xs, tw, prevID, pst.CreatedAt.Add(-reconcileSlack))
	if err != nil {
		return "", p.lookupFailure(ctx, pst, tw, xs, err), false
	}
	p.lookupFails.reset(pst.ID)
	if id == "" {
		return "", outcome{}, true
	}
	if _, err := p.record(ctx, pst.ID, tw, id, false); err != nil {
		return "", p.recordFailure(ctx, pst, err), false
	}
	log.Info("duplicate answer: found the tweet on X and recorded it", "position", tw.Position, "x_id", id)
	return id, outcome{}, true
}

// failCounter counts consecutive failed lookups per post, for their
// backoff. It lives in memory: after a restart the backoff starts afresh,
// which costs at most a few early requests. The zero value is ready.
type failCounter struct {
	mu sync.Mutex
	n  map[int64]int
}

func (c *failCounter) add(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[int64]int{}
	}
	c.n[id]++
	return c.n[id]
}

func (c *failCounter) reset(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.n, id)
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

// sameText reports whether X's rendering of a post is the text psnd sent
// (withMedia: psnd attached media, for which X appends a link). A long
// post's full text is in note_tweet; its text field is cut short.
//
// X rewrites every URL that twitter-text detects to a t.co link (entities
// give back expanded_url), appends a t.co link for attached media and
// HTML-escapes &, < and >. Both sides are therefore cut at their links —
// X's at its entities, psnd's where twitter-text finds URLs — and compared
// piece by piece: the text between links after undoing the escaping,
// normalising to NFC and collapsing white space, and the links by what
// they point to. Nothing is searched or sliced across a case change, so
// every script compares correctly.
//
// X counts a text in NFC and may store it so, and where a text is not in
// NFC a link may end elsewhere (a combining mark after it) or hold other
// code points: psnd's text as sent and its NFC form are both tried.
func sameText(ours string, withMedia bool, t xapi.Tweet) bool {
	if sameForm(ours, withMedia, t) {
		return true
	}
	nfc := norm.NFC.String(ours)
	return nfc != ours && sameForm(nfc, withMedia, t)
}

// sameForm is sameText for one form of psnd's text.
func sameForm(ours string, withMedia bool, t xapi.Tweet) bool {
	theirs := t.Text
	var ents []xapi.URLEntity
	if t.Entities != nil {
		ents = t.Entities.URLs
	}
	if t.NoteTweet != nil && t.NoteTweet.Text != "" {
		theirs, ents = t.NoteTweet.Text, nil
		if t.NoteTweet.Entities != nil {
			ents = t.NoteTweet.Entities.URLs
		}
	}
	tSegs, tLinks, ok := cutAtEntities(theirs, ents)
	if !ok {
		return false
	}
	oSegs, oLinks := cutAtLinks(ours)
	// Only a post that carries media can have X's media link appended, and
	// only at the end.
	if len(tLinks) == len(oLinks)+1 && withMedia && t.Attachments != nil && len(t.Attachments.MediaKeys) > 0 &&
		strings.TrimSpace(tSegs[len(tSegs)-1]) == "" {
		tLinks = tLinks[:len(tLinks)-1]
		tSegs = tSegs[:len(tSegs)-1]
	}
	if len(tLinks) != len(oLinks) {
		return false
	}
	for i := range tSegs {
		if normText(unescapeX(tSegs[i])) != normText(oSegs[i]) {
			return false
		}
	}
	for i := range tLinks {
		if canonURL(tLinks[i]) != canonURL(oLinks[i]) {
			return false
		}
	}
	return true
}

// cutAtEntities splits X's text into the pieces between its links and the
// links' expanded URLs (len(segs) == len(links)+1). Entity offsets count
// code points; an entity whose offsets do not point at its t.co link (X
// has been seen to count them on the unescaped text) is found by its link
// text after the previous one instead. ok is false if a link cannot be
// placed.
func cutAtEntities(text string, ents []xapi.URLEntity) (segs, links []string, ok bool) {
	rs := []rune(text)
	es := append([]xapi.URLEntity(nil), ents...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Start < es[j].Start })
	pos := 0 // in runes
	for _, e := range es {
		start, end := e.Start, e.End
		if start < pos || end > len(rs) || start >= end || (e.URL != "" && string(rs[start:end]) != e.URL) {
			if e.URL == "" {
				return nil, nil, false
			}
			i := strings.Index(string(rs[pos:]), e.URL)
			if i < 0 {
				return nil, nil, false
			}
			start = pos + utf8.RuneCountInString(string(rs[pos:])[:i])
			end = start + utf8.RuneCountInString(e.URL)
		}
		segs = append(segs, string(rs[pos:start]))
		u := e.ExpandedURL
		if u == "" {
			u = e.URL
		}
		links = append(links, u)
		pos = end
	}
	segs = append(segs, string(rs[pos:]))
	return segs, links, true
}

// cutAtLinks splits psnd's text where X would link it (twitter-text's URL
// extraction, the same rules X applies).
func cutAtLinks(text string) (segs, links []string) {
	last := 0
	for _, l := range tweettext.Links(text) {
		segs = append(segs, text[last:l.Start])
		links = append(links, l.URL)
		last = l.End
	}
	return append(segs, text[last:]), links
}

// unescapeX undoes X's escaping of exactly &, < and > (a text holding
// "&amp;" literally reaches X as "&amp;amp;").
var unescapeX = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace

// canonURL is the form in which a posted URL and X's expanded_url are
// compared: no scheme (X adds http:// to a bare domain), the host in lower
// case, no lone trailing slash, the rest percent-decoded except for the
// escapes of delimiters (see unescapeURL).
func canonURL(u string) string {
	// Only a real scheme is dropped: "://" may stand in a path too
	// ("x.co/://evil.com" is x.co's address, not evil.com's).
	if i := strings.Index(u, "://"); i >= 0 && (strings.EqualFold(u[:i], "http") || strings.EqualFold(u[:i], "https")) {
		u = u[i+3:]
	}
	host, rest := u, ""
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		host, rest = u[:i], u[i:]
	}
	if rest == "/" {
		rest = ""
	}
	return strings.ToLower(host) + unescapeURL(rest)
}

// unescapeURL decodes the percent escapes of u that do not change which
// address it is (X escapes non-ASCII, psnd's text may not; parentheses,
// quotes, ! $ * carry no structure), and writes the others with upper-case
// hex. An escaped delimiter of paths and queries stays escaped: "%26" in a
// query or "%2F" in a path is another address than "&" or "/", so another
// text.
func unescapeURL(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c == '%' && i+2 < len(u) && ishex(u[i+1]) && ishex(u[i+2]) {
			v := unhex(u[i+1])<<4 | unhex(u[i+2])
			if v == '%' || strings.IndexByte(":/?#[]@&+,;=", v) >= 0 {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(u[i+1 : i+3]))
			} else {
				b.WriteByte(v)
			}
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// normText folds the differences X introduces that do not change a post:
// normalisation form and runs of white space.
func normText(s string) string {
	s = norm.NFC.String(s)
	return strings.Join(strings.Fields(s), " ")
}
