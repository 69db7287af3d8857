package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// bodyReader, passed as send's out, reads a successful response itself
// (its headers and its body as it arrives).
type bodyReader func(resp *http.Response) error

// ListQuery is what GET /v1/posts selects (docs/api.md). Zero fields
// select everything.
type ListQuery struct {
	Statuses []string
	Account  string
	From, To *time.Time
	// Limit caps the number of posts: ListPage asks for one page of it
	// (at most api.ListMaxLimit), EachPost walks pages until it has them.
	// 0: every post.
	Limit  int
	Cursor string // where a page starts: a previous page's next cursor
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	if len(q.Statuses) > 0 {
		v.Set("status", strings.Join(q.Statuses, ","))
	}
	if q.Account != "" {
		v.Set("account", q.Account)
	}
	if q.From != nil {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if q.To != nil {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	return v
}

// ListPage returns one page of at most q.Limit posts (1..api.ListMaxLimit)
// and the cursor of the next page, "" after the last.
func (c *Client) ListPage(ctx context.Context, q ListQuery) ([]api.Post, string, error) {
	if q.Limit <= 0 || q.Limit > api.ListMaxLimit {
		return nil, "", fmt.Errorf("list posts: page size %d is not 1..%d", q.Limit, api.ListMaxLimit)
	}
	posts := []api.Post{}
	var next string
	err := c.send(ctx, http.MethodGet, api.PathPosts, q.values(), nil, bodyReader(func(resp *http.Response) error {
		next = resp.Header.Get(api.NextCursorHeader)
		if err := json.NewDecoder(resp.Body).Decode(&posts); err != nil {
			return fmt.Errorf("decode daemon response: %w", err)
		}
		return nil
	}))
	return posts, next, err
}

// EachPost calls fn for each post q selects, in list order, as it is
// decoded from the daemon's stream: memory does not grow with the number
// of posts. With q.Limit it stops after that many.
func (c *Client) EachPost(ctx context.Context, q ListQuery, fn func(api.Post) error) error {
	total := q.Limit
	seen := 0
	for {
		if total > 0 {
			q.Limit = min(total-seen, api.ListMaxLimit)
		}
		var next string
		err := c.send(ctx, http.MethodGet, api.PathPosts, q.values(), nil, bodyReader(func(resp *http.Response) error {
			next = resp.Header.Get(api.NextCursorHeader)
			dec := json.NewDecoder(resp.Body)
			if _, err := dec.Token(); err != nil { // [
				return fmt.Errorf("decode daemon response: %w", err)
			}
			for dec.More() {
				var p api.Post
				if err := dec.Decode(&p); err != nil {
					return fmt.Errorf("decode daemon response: %w", err)
				}
				seen++
				if err := fn(p); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ]: a cut answer is an error
				return fmt.Errorf("decode daemon response: %w", err)
			}
			return nil
		}))
		if err != nil {
			return err
		}
		if next == "" || (total > 0 && seen >= total) {
			return nil
		}
		q.Cursor = next
	}
}

// ListPostsJSON copies the daemon's JSON array of the posts q selects
// (without a limit) to w as it arrives: a script asking for 100,000 posts
// gets them without the client decoding and re-encoding every one.
func (c *Client) ListPostsJSON(ctx context.Context, q ListQuery, w io.Writer) error {
	q.Limit, q.Cursor = 0, ""
	return c.send(ctx, http.MethodGet, api.PathPosts, q.values(), nil, rawBody{w})
}

// ListPosts lists every post, optionally of one status.
func (c *Client) ListPosts(ctx context.Context, status string) ([]api.Post, error) {
	q := ListQuery{}
	if status != "" {
		q.Statuses = []string{status}
	}
	posts := []api.Post{}
	err := c.EachPost(ctx, q, func(p api.Post) error { posts = append(posts, p); return nil })
	return posts, err
}
