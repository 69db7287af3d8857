package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/tweettext"
	"github.com/psnd/psnd/internal/when"
)

// Shared wording of the tool descriptions, so that every tool says the
// same about times, statuses and the daemon.
const (
	timeFormats = `in the user's time zone: "2026-12-01 09:00", "09:30" (the next 09:30 to come), "+90m", "+2h", "+1d" (from now), or RFC 3339 with an offset ("2026-12-01T09:00:00+01:00"); at most 2 years ahead, not in the past`
	statusHelp  = `Post statuses: draft (saved, not scheduled), scheduled (will be published at scheduled_at), publishing (being sent to X now; cannot be changed), published (on X; platform_post_ids hold the tweet ids), failed (gave up; fail_reason says why; retry_post or edit_post), retry (failed for a passing reason and will be retried automatically at next_retry_at; sub_status says why).`
	postTimes   = ` Times (scheduled_at, published_at) are RFC 3339 in UTC; scheduled_at_local and published_at_local give them in the user's time zone: use those when telling the user.`
	needsDaemon = ` Needs the psnd daemon: if it is not running, the error says how to start it (psnd serve, or psnd service install).`
	textRules   = `X counts text by weighted length (twitter-text v3): a URL counts 23, emoji and CJK characters 2, most other characters 1; the limit is 280 per tweet (25000 for Premium accounts).`
)

// CheckTextInput is check_text's input.
type CheckTextInput struct {
	Text      string `json:"text" jsonschema:"the text of one tweet, exactly as it would be posted"`
	MaxLength int    `json:"max_length,omitempty" jsonschema:"the length limit; omit for 280 (use 25000 for a Premium account)"`
}

// SplitTextInput is split_text's input.
type SplitTextInput struct {
	Text      string `json:"text" jsonschema:"the whole text to split into a thread; a line holding only --- forces a split there"`
	Number    bool   `json:"number,omitempty" jsonschema:"append ' i/n' to every tweet of a thread of two or more (a single tweet gets no number)"`
	MaxLength int    `json:"max_length,omitempty" jsonschema:"the length limit per tweet; omit for 280 (use 25000 for a Premium account)"`
}

// MediaInput is one file to attach.
type MediaInput struct {
	Path    string `json:"path" jsonschema:"absolute path of an image (JPEG, PNG, WebP), GIF or video (MP4) on this machine"`
	AltText string `json:"alt_text,omitempty" jsonschema:"alt text describing the file for people who cannot see it (up to 1000 characters); strongly recommended for images"`
}

// CreatePostInput is create_post's input.
type CreatePostInput struct {
	Text    string       `json:"text,omitempty" jsonschema:"the post's text; a line holding only --- splits it into a thread's tweets. Give text or tweets, not both"`
	Tweets  []string     `json:"tweets,omitempty" jsonschema:"a thread given tweet by tweet, in order (at most 25); instead of text"`
	Thread  bool         `json:"thread,omitempty" jsonschema:"split parts too long for one tweet automatically at paragraph, sentence and word boundaries (as split_text previews); without it a part over the limit is refused"`
	Number  bool         `json:"number,omitempty" jsonschema:"append ' 1/3' etc. to each tweet of a thread of two or more tweets"`
	At      string       `json:"at,omitempty" jsonschema:"when to publish, in the user's time zone: '2026-12-01 09:00', '09:30' (the next one), '+90m', '+2h', '+1d', or RFC 3339. Exactly one of at, now, draft, queue (draft may also carry at as the planned time)"`
	Draft   bool         `json:"draft,omitempty" jsonschema:"save as a draft, not scheduled (schedule it later with edit_post and at)"`
	Queue   bool         `json:"queue,omitempty" jsonschema:"schedule into the account's next free queue slot (the user's weekly posting times; see the queue tool); instead of at, now or draft"`
	Now     bool         `json:"now,omitempty" jsonschema:"publish on X immediately and for real; waits for the result. Only when the user asked to publish now"`
	Media   []MediaInput `json:"media,omitempty" jsonschema:"files attached to the first tweet: up to 4 images, or 1 GIF, or 1 video; the first tweet may then have no text"`
	Account string       `json:"account,omitempty" jsonschema:"post as this connected X account (username or X id); omit for the default account"`
}

// ListPostsInput is list_posts's input.
type ListPostsInput struct {
	Status  []string `json:"status,omitempty" jsonschema:"only posts in these statuses: draft, scheduled, publishing, published, failed, retry; omit for all"`
	Account string   `json:"account,omitempty" jsonschema:"only this account's posts (username or X id)"`
	Limit   int      `json:"limit,omitempty" jsonschema:"how many posts at most (1..1000); omit for 50"`
	Cursor  string   `json:"cursor,omitempty" jsonschema:"continue after a previous answer: its next_cursor"`
}

// PostIDInput names one post.
type PostIDInput struct {
	ID int64 `json:"id" jsonschema:"the post's id (as create_post or list_posts returned it)"`
}

// EditPostInput is edit_post's input.
type EditPostInput struct {
	ID     int64   `json:"id" jsonschema:"the post's id"`
	Text   *string `json:"text,omitempty" jsonschema:"the new text (a line holding only --- splits a thread); omit to keep the text"`
	Thread bool    `json:"thread,omitempty" jsonschema:"with text: split parts too long for one tweet automatically"`
	Number bool    `json:"number,omitempty" jsonschema:"with text: number the thread's tweets ' i/n'"`
	At     string  `json:"at,omitempty" jsonschema:"the new time to publish, in the user's time zone (same formats as create_post's at); schedules a draft or failed post"`
	Now    bool    `json:"now,omitempty" jsonschema:"publish on X immediately and for real, and wait for the result; not with at"`
	Draft  bool    `json:"draft,omitempty" jsonschema:"unschedule the post back to a draft while editing"`
	Queue  bool    `json:"queue,omitempty" jsonschema:"move the post into its account's earliest free queue slot (its own current slot counts as free); schedules a draft; not with at, now or draft"`
}

// QueueInput is queue's input.
type QueueInput struct {
	Days    int    `json:"days,omitempty" jsonschema:"how many days ahead to look (1..366); omit for 7"`
	Account string `json:"account,omitempty" jsonschema:"only this account's slots (username or X id); omit for every account"`
}

// ListPostsOutput is list_posts's answer.
type ListPostsOutput struct {
	Posts []PostOutput `json:"posts"`
	// NextCursor continues the list; empty after the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

const defaultListLimit = 50

// listPostsSchema is ListPostsInput's schema with the statuses as an enum,
// so that a client can offer them and the SDK refuses any other, naming
// the valid ones.
func listPostsSchema() *jsonschema.Schema {
	s, err := jsonschema.For[ListPostsInput](nil)
	if err != nil {
		panic(fmt.Sprintf("list_posts schema: %v", err)) // a programming error, caught by every test
	}
	for _, st := range api.Statuses {
		s.Properties["status"].Items.Enum = append(s.Properties["status"].Items.Enum, st)
	}
	return s
}

func (s *server) addTools(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "check_text",
		Title: "Check a tweet's text",
		Description: `Check one tweet's text offline, exactly as 'psnd check' does: its weighted length as X counts it, whether it can be posted (valid), errors (why not, e.g. "Tweet is 312/280 characters") and warnings (many mentions or hashtags; never blocking), and what X charges to create it (cost_usd; a text with a URL costs more, and cost_notice then says so: tell the user). ` +
			textRules + ` Does not need the daemon and changes nothing.`,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(false)},
	}, s.checkText)
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "split_text",
		Title: "Preview a thread split",
		Description: `Split a long text into a thread's tweets offline, exactly as 'psnd split' does and as create_post with thread: true will store them: at paragraph, then sentence, then word boundaries, never inside a word, URL, mention, hashtag or emoji; a line holding only --- forces a split. A text that fits in one tweet stays one tweet. Also answers what X charges to create the tweets (cost_usd; when a tweet contains a URL it costs more, and cost_notice says so: tell the user). ` +
			textRules + ` Does not need the daemon and changes nothing.`,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(false)},
	}, s.splitText)
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "create_post",
		Title: "Create a post or thread",
		Description: `Create a post (one tweet) or a thread and schedule it, as 'psnd post' does. Give the text (a line of only --- splits a thread; thread: true also splits parts that are too long) or tweets (the thread tweet by tweet). Say when with exactly one of: at (a time ` + timeFormats + `), queue: true (the account's next free queue slot, see the queue tool), draft: true (saved unscheduled), or now: true (published on X immediately and for real; the tool waits for the result). The text is checked against X's rules before anything is stored: a text too long for one tweet is refused unless thread is true. Returns the post: its id, status and tweets, and cost_notice when a tweet contains a URL (X bills it at a dearer rate: tell the user); warnings never block. ` +
			statusHelp + postTimes + needsDaemon,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(true)},
	}, s.createPost)
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "list_posts",
		Title: "List posts",
		Description: `List posts, as 'psnd list' does, one page at a time: optionally only some statuses or one account. Answers {posts, next_cursor}: pass next_cursor back as cursor for the next page (none after the last). ` +
			statusHelp + postTimes + needsDaemon,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(false)},
		InputSchema: listPostsSchema(),
	}, s.listPosts)
	mcp.AddTool(srv, &mcp.Tool{
		Name:        "get_post",
		Title:       "Show one post",
		Description: `Show one post with its tweets, as 'psnd show' does. ` + statusHelp + postTimes + needsDaemon,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(false)},
	}, s.getPost)
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "edit_post",
		Title: "Change a post's text or time",
		Description: `Change a draft, scheduled, failed or retry post, as 'psnd edit' does: new text, a new time (at, ` + timeFormats + `), queue: true to move it into the account's earliest free queue slot, draft: true to unschedule it, or now: true to publish it on X immediately and for real (the tool waits for the result). Give at least one of text, at, queue, now, draft. Giving a time schedules a draft or failed post; a failed post edited without one stays failed until retry_post. Refused once publishing has started, and the text of a thread partly on X can no longer change. ` +
			statusHelp + postTimes + needsDaemon,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(true)},
	}, s.editPost)
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "queue",
		Title: "Show the coming queue slots",
		Description: `Show the user's coming queue slots and what fills them, as 'psnd queue --json' does: the weekly posting times the user set up with 'psnd slots add' (e.g. "mon-fri 09:00,13:30"), each instant from now to days ahead (default 7). Answers {slots: [{at, at_local, account, slot_id, time, zone, post_id, post_status, excerpt}]}: at is RFC 3339 in UTC, at_local the same instant in the slot's zone with its weekday and date (tell the user that one), time the slot's time of day in its zone; post_id is null when the slot is free, else the post scheduled there (excerpt: the start of its text). create_post or edit_post with queue: true takes the earliest free slot; cancelling or deleting a post frees its slot. An empty list means no slot falls in those days (or none is set up; 'psnd slots' lists them): the user adds slots with 'psnd slots add "mon-fri 09:00"'.` +
			needsDaemon,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(false)},
	}, s.queue)
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "cancel_post",
		Title: "Unschedule a post",
		Description: `Unschedule a scheduled, retry or failed post, as 'psnd cancel' does: it becomes a draft with its text, media and thread kept; schedule it again with edit_post and at. Refused once publishing has started or when part of a thread is already on X. Deletes nothing.` +
			postTimes + needsDaemon,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(false), IdempotentHint: true, OpenWorldHint: new(false)},
	}, s.cancelPost)
	mcp.AddTool(srv, &mcp.Tool{
		Name:  "retry_post",
		Title: "Publish a failed post now",
		Description: `Publish a failed post (or one waiting for an automatic retry) on X now and for real, as 'psnd retry' does, and wait for the result. A thread that stopped part-way resumes after the last tweet X accepted: no tweet is posted twice. To publish later instead, use edit_post with at.` +
			postTimes + needsDaemon,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(true)},
	}, s.retryPost)
}

func (s *server) checkText(_ context.Context, _ *mcp.CallToolRequest, in CheckTextInput) (*mcp.CallToolResult, any, error) {
	if in.MaxLength < 0 {
		return nil, nil, errors.New("max_length must be positive (omit it for 280)")
	}
	r := tweettext.Check(in.Text, tweettext.CheckOptions{MaxLength: in.MaxLength})
	return nil, CheckTextOutput{Result: r, TextCost: s.costOf([]string{in.Text})}, nil
}

// TextCost is what creating a text's tweets costs, as `psnd check`,
// `split` and `post` say it: a tweet with a URL is billed at X's dearer
// rate (SPEC §9), and the model should tell the user so.
type TextCost struct {
	ContainsURL bool    `json:"contains_url" jsonschema:"a tweet of the text contains a URL: X bills it at the dearer rate"`
	CostUSD     float64 `json:"cost_usd" jsonschema:"what X charges to create these tweets, in US dollars (estimated from psnd's price table)"`
	CostNotice  string  `json:"cost_notice,omitempty" jsonschema:"when a tweet contains a URL: the sentence to tell the user about its cost"`
}

// postOutput is p as create_post and edit_post answer it: with its times
// in the user's zone, and the notice of what its tweets cost when one has
// a URL.
func (s *server) postOutput(ctx context.Context, p api.Post) PostOutput {
	texts := make([]string, len(p.Tweets))
	for i, t := range p.Tweets {
		texts[i] = t.Text
	}
	out := s.withLocal(p, s.zone(ctx))
	out.CostNotice = s.costOf(texts).CostNotice
	return out
}

// zone is the user's zone for answers; nil when it cannot be known (the
// daemon went away, PSN_TZ is wrong): the answer then has UTC times only.
func (s *server) zone(ctx context.Context) *time.Location {
	loc, err := s.location(ctx)
	if err != nil {
		return nil
	}
	return loc
}

// withLocal adds p's times as the user reads them: the model tells them
// to the user, and could not convert UTC to a zone it does not know.
func (s *server) withLocal(p api.Post, loc *time.Location) PostOutput {
	out := PostOutput{Post: p}
	if loc == nil {
		return out
	}
	now := s.now()
	local := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return localTime(*t, now, loc)
	}
	out.ScheduledAtLocal, out.PublishedAtLocal = local(p.ScheduledAt), local(p.PublishedAt)
	return out
}

// costOf prices tweets (one text each) with the user's price table.
func (s *server) costOf(texts []string) TextCost {
	prices := s.prices()
	urls := tweettext.TweetsWithLinks(texts)
	return TextCost{ContainsURL: urls > 0, CostUSD: prices.Cost(len(texts)-urls, urls, 0, 0),
		CostNotice: prices.URLNotice(urls, len(texts))}
}

// CheckTextOutput is check_text's answer: `psnd check --json`'s fields,
// and the CLI's notice when the text contains a URL (X bills it dearer).
type CheckTextOutput struct {
	tweettext.Result
	TextCost
}

// SplitTextOutput is split_text's answer: `psnd split --json`'s fields
// and what the thread costs.
type SplitTextOutput struct {
	tweettext.SplitResult
	TextCost
}

// localTime is t as the user reads it: "Sun 2027-03-28 03:30 CEST (in 13h)".
func localTime(t, now time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2006-01-02 15:04 MST") + " (" + when.Relative(t, now) + ")"
}

// QueueOutput is the queue tool's answer: `psnd queue --json`'s, with
// each slot's instant in its zone.
type QueueOutput struct {
	From  time.Time         `json:"from"`
	Until time.Time         `json:"until"`
	Slots []QueueSlotOutput `json:"slots"`
}

// QueueSlotOutput is one slot instant; AtLocal is At in the slot's zone,
// date included ("Fri 2027-01-15 00:30 JST (in 3h30m)").
type QueueSlotOutput struct {
	api.QueueSlot
	AtLocal string `json:"at_local,omitempty"`
}

// PostOutput is a post as the tools answer it: the stored post, its times
// in the user's zone and, from create_post and edit_post when a tweet
// contains a URL, what X will charge for it.
type PostOutput struct {
	api.Post
	// "Sun 2027-03-28 03:30 CEST (in 13h)"
	ScheduledAtLocal string `json:"scheduled_at_local,omitempty"`
	PublishedAtLocal string `json:"published_at_local,omitempty"`
	CostNotice       string `json:"cost_notice,omitempty"`
}

func (s *server) splitText(_ context.Context, _ *mcp.CallToolRequest, in SplitTextInput) (*mcp.CallToolResult, any, error) {
	if in.MaxLength < 0 {
		return nil, nil, errors.New("max_length must be positive (omit it for 280)")
	}
	res, err := tweettext.Split(in.Text, tweettext.SplitOptions{MaxLength: in.MaxLength, Number: in.Number})
	if err != nil {
		return nil, nil, err
	}
	texts := make([]string, len(res.Tweets))
	for i, t := range res.Tweets {
		texts[i] = t.Text
	}
	return nil, SplitTextOutput{SplitResult: res, TextCost: s.costOf(texts)}, nil
}

// location is the user's time zone as the CLI resolves it: PSN_TZ, else
// the daemon's configured zone, else the system's. Asking the daemon also
// tells a model early that it is not running.
func (s *server) location(ctx context.Context) (*time.Location, error) {
	h, err := s.cfg.Client.Health(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := when.Location(s.cfg.TZ, h.Timezone)
	if err != nil {
		return nil, fmt.Errorf("PSN_TZ: %w", err)
	}
	return loc, nil
}

// pastGrace matches the daemon's (and the CLI's) tolerance for a time a
// little in the past.
const pastGrace = time.Minute

// parseAt reads at in the user's zone, and refuses a past time with the
// time shown as the user would read it, as the CLI does.
func (s *server) parseAt(ctx context.Context, at string) (*time.Time, error) {
	if at == "" {
		return nil, nil
	}
	loc, err := s.location(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t, err := when.Parse(at, now, loc)
	if err != nil {
		return nil, fmt.Errorf("at: %w", err)
	}
	if t.Before(now.Add(-pastGrace)) {
		return nil, fmt.Errorf("at %s is in the past; give a future time, or now: true", when.Format(t, now, loc))
	}
	return &t, nil
}

func (s *server) createPost(ctx context.Context, _ *mcp.CallToolRequest, in CreatePostInput) (*mcp.CallToolResult, any, error) {
	switch {
	case in.Queue && (in.At != "" || in.Draft || in.Now):
		return nil, nil, errors.New("queue goes alone: not with at, now or draft")
	case in.Now && (in.At != "" || in.Draft):
		return nil, nil, errors.New("now goes alone: not with at or draft")
	case !in.Now && !in.Draft && !in.Queue && in.At == "":
		return nil, nil, errors.New("say when to publish: at (a time), queue: true, now: true, or draft: true")
	case in.Text != "" && len(in.Tweets) > 0:
		return nil, nil, errors.New("give text or tweets, not both")
	}
	req := api.CreatePost{Text: in.Text, Tweets: in.Tweets, Thread: in.Thread, Number: in.Number,
		Now: in.Now, Draft: in.Draft, Queue: in.Queue, Account: in.Account}
	for i, m := range in.Media {
		if !filepath.IsAbs(m.Path) {
			return nil, nil, fmt.Errorf("media %d: %q is not an absolute path; give the file's full path", i+1, m.Path)
		}
		req.Media = append(req.Media, api.MediaInput{Path: m.Path, AltText: m.AltText})
	}
	at, err := s.parseAt(ctx, in.At)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	req.At = at
	p, err := s.cfg.Client.CreatePost(ctx, req)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	if in.Now {
		p, err = s.settle(ctx, p)
	}
	if err != nil {
		return nil, p, err
	}
	return nil, s.postOutput(ctx, p), nil
}

func (s *server) listPosts(ctx context.Context, _ *mcp.CallToolRequest, in ListPostsInput) (*mcp.CallToolResult, any, error) {
	limit := in.Limit
	switch {
	case limit == 0:
		limit = defaultListLimit
	case limit < 0 || limit > api.ListMaxLimit:
		return nil, nil, fmt.Errorf("limit %d is not 1..%d", limit, api.ListMaxLimit)
	}
	posts, next, err := s.cfg.Client.ListPage(ctx, apiclient.ListQuery{Statuses: in.Status, Account: in.Account,
		Limit: limit, Cursor: in.Cursor})
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	out := ListPostsOutput{Posts: make([]PostOutput, len(posts)), NextCursor: next}
	loc := s.zone(ctx)
	for i, p := range posts {
		out.Posts[i] = s.withLocal(p, loc)
	}
	return nil, out, nil
}

func (s *server) getPost(ctx context.Context, _ *mcp.CallToolRequest, in PostIDInput) (*mcp.CallToolResult, any, error) {
	p, err := s.cfg.Client.GetPost(ctx, in.ID)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	return nil, s.withLocal(p, s.zone(ctx)), nil
}

func (s *server) editPost(ctx context.Context, _ *mcp.CallToolRequest, in EditPostInput) (*mcp.CallToolResult, any, error) {
	switch {
	case in.Text == nil && in.At == "" && !in.Now && !in.Draft && !in.Queue:
		return nil, nil, errors.New("say what to change: text, at, queue, now or draft")
	case in.Queue && (in.At != "" || in.Draft || in.Now):
		return nil, nil, errors.New("queue goes alone: not with at, now or draft")
	case in.Now && (in.At != "" || in.Draft):
		return nil, nil, errors.New("now goes alone: not with at or draft")
	}
	req := api.EditPost{Text: in.Text, Thread: in.Thread, Number: in.Number, Now: in.Now, Draft: in.Draft, Queue: in.Queue}
	at, err := s.parseAt(ctx, in.At)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	req.At = at
	p, err := s.cfg.Client.EditPost(ctx, in.ID, req)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	if in.Now {
		p, err = s.settle(ctx, p)
	}
	if err != nil {
		return nil, p, err
	}
	return nil, s.postOutput(ctx, p), nil
}

func (s *server) queue(ctx context.Context, _ *mcp.CallToolRequest, in QueueInput) (*mcp.CallToolResult, any, error) {
	if in.Days < 0 || in.Days > api.QueueMaxDays {
		return nil, nil, fmt.Errorf("days %d is not 1..%d", in.Days, api.QueueMaxDays)
	}
	q, err := s.cfg.Client.Queue(ctx, in.Days, in.Account)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	out := QueueOutput{From: q.From, Until: q.Until, Slots: make([]QueueSlotOutput, len(q.Slots))}
	loc, now := s.zone(ctx), s.now()
	for i, sl := range q.Slots {
		out.Slots[i] = QueueSlotOutput{QueueSlot: sl}
		zl := loc
		if z, err := time.LoadLocation(sl.Zone); err == nil && sl.Zone != "" {
			zl = z // the slot's own zone, in which its time is written
		}
		if zl != nil {
			out.Slots[i].AtLocal = localTime(sl.At, now, zl)
		}
	}
	return nil, out, nil
}

func (s *server) cancelPost(ctx context.Context, _ *mcp.CallToolRequest, in PostIDInput) (*mcp.CallToolResult, any, error) {
	p, err := s.cfg.Client.CancelPost(ctx, in.ID)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	return nil, s.withLocal(p, s.zone(ctx)), nil
}

func (s *server) retryPost(ctx context.Context, _ *mcp.CallToolRequest, in PostIDInput) (*mcp.CallToolResult, any, error) {
	p, err := s.cfg.Client.RetryPost(ctx, in.ID)
	if err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	if p, err = s.settle(ctx, p); err != nil {
		return nil, nil, s.explain(ctx, err)
	}
	return nil, s.withLocal(p, s.zone(ctx)), nil
}

// settle follows a post being published now until it is published,
// failed or waiting to retry (as `psnd post --now` does), and reports a
// failure as the tool's error, naming the post so the model can act on it.
func (s *server) settle(ctx context.Context, p api.Post) (api.Post, error) {
	deadline := time.Now().Add(s.cfg.SettleWait)
	for (p.Status == api.StatusScheduled || p.Status == api.StatusPublishing) && !p.HeldByBudget() && time.Now().Before(deadline) {
		np, err := s.cfg.Client.WaitPost(ctx, p.ID, 20*time.Second)
		if err != nil {
			return p, err
		}
		// The warnings came with the post when the daemon took it; a
		// read of it has none.
		np.Warnings = p.Warnings
		p = np
	}
	if p.Status == api.StatusFailed {
		reason := ""
		if p.FailReason != nil {
			reason = *p.FailReason
		}
		if p.SubStatus != nil && *p.SubStatus == api.SubThreadPartial {
			// Part of it is on X: only a retry can finish it.
			return p, fmt.Errorf("post %d failed: %s (the thread stopped part-way: retry_post resumes it after the last tweet X accepted; its text can no longer change)", p.ID, reason)
		}
		return p, fmt.Errorf("post %d failed: %s (fix it with edit_post, then retry_post)", p.ID, reason)
	}
	if p.HeldByBudget() {
		reason := ""
		if p.FailReason != nil {
			reason = *p.FailReason
		}
		return p, fmt.Errorf("post %d not sent: %s", p.ID, reason)
	}
	return p, nil
}

// explain is hint, and when the daemon answered the error and runs
// another psnd than this server, says so and what to restart (as the
// CLI warns): a daemon older than the server refuses what it does not
// know, and the model could not tell why.
func (s *server) explain(ctx context.Context, err error) error {
	err = hint(err)
	var ae *api.Error
	if !errors.As(err, &ae) {
		return err
	}
	h, herr := s.cfg.Client.Health(ctx)
	if herr != nil || h.Version == "" || h.Version == s.cfg.Version {
		return err
	}
	return fmt.Errorf("%w (the daemon runs psnd %s, this server psnd %s: restart the daemon, and the assistant's MCP client if psnd was upgraded since it started)",
		err, h.Version, s.cfg.Version)
}

// cliCommand is a command the daemon's sentences suggest, in backquotes.
var cliCommand = regexp.MustCompile("`psnd (post|edit|retry|show)( [0-9]+)?([^`]*)`( \\(or --at WHEN\\))?")

// hint adds, to an error in the CLI's words, how to do the same through
// these tools, keeping the CLI's sentence whole: the daemon speaks of
// commands (`psnd edit 4 --now`), the model has tools.
func hint(err error) error {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return err
	}
	var here []string
	for _, m := range cliCommand.FindAllStringSubmatch(ae.Message, -1) {
		cmd, id, flags, orAt := m[1], strings.TrimSpace(m[2]), m[3], m[4] != ""
		var h string
		switch {
		case strings.Contains(flags, "--thread"):
			h = "set thread: true, or preview the split with split_text"
		case cmd == "edit" && strings.Contains(flags, "--now") && id != "":
			h = "edit_post with id " + id + " and now: true"
			if orAt {
				h += ", or at"
			}
		case cmd == "retry" && id != "":
			h = "retry_post with id " + id
		case cmd == "show" && id != "":
			h = "get_post with id " + id
		}
		if h != "" && !slices.Contains(here, h) {
			here = append(here, h)
		}
	}
	if strings.Contains(ae.Message, "X-Next-Cursor") { // the HTTP header list_posts answers as next_cursor
		here = append(here, "give cursor as a previous list_posts answer's next_cursor, or omit it for the first page")
	}
	if len(here) == 0 {
		return err
	}
	return fmt.Errorf("%w (here: %s)", err, strings.Join(here, "; "))
}
