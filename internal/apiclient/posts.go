package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// Do sends any request to the local API: path may carry a query string.
// For tools and tests; commands use the typed methods.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var q url.Values
	if i := strings.IndexByte(path, '?'); i >= 0 {
		var err error
		if q, err = url.ParseQuery(path[i+1:]); err != nil {
			return err
		}
		path = path[:i]
	}
	return c.send(ctx, method, path, q, body, out)
}

// CreatePost creates a post or thread.
func (c *Client) CreatePost(ctx context.Context, req api.CreatePost) (api.Post, error) {
	var p api.Post
	err := c.send(ctx, http.MethodPost, api.PathPosts, nil, req, &p)
	return p, err
}

// EditPost changes a post's text or time.
func (c *Client) EditPost(ctx context.Context, id int64, req api.EditPost) (api.Post, error) {
	var p api.Post
	err := c.send(ctx, http.MethodPatch, postPath(id), nil, req, &p)
	return p, err
}

// CancelPost returns a scheduled post to draft.
func (c *Client) CancelPost(ctx context.Context, id int64) (api.Post, error) {
	var p api.Post
	err := c.send(ctx, http.MethodPost, postPath(id)+"/cancel", nil, struct{}{}, &p)
	return p, err
}

// RetryPost schedules a failed post for now.
func (c *Client) RetryPost(ctx context.Context, id int64) (api.Post, error) {
	var p api.Post
	err := c.send(ctx, http.MethodPost, postPath(id)+"/retry", nil, struct{}{}, &p)
	return p, err
}

// DeletePost deletes a post; remote also deletes its tweets on X.
func (c *Client) DeletePost(ctx context.Context, id int64, remote bool) (api.DeleteResult, error) {
	var r api.DeleteResult
	q := url.Values{}
	if remote {
		q.Set("remote", "true")
	}
	err := c.send(ctx, http.MethodDelete, postPath(id), q, nil, &r)
	return r, err
}

// WaitPost returns the post once it has settled (published, failed,
// waiting to retry, or scheduled in the future), or after wait.
func (c *Client) WaitPost(ctx context.Context, id int64, wait time.Duration) (api.Post, error) {
	var p api.Post
	q := url.Values{"wait": {strconv.FormatInt(int64(wait/time.Second), 10)}}
	err := c.send(ctx, http.MethodGet, postPath(id), q, nil, &p)
	return p, err
}

// Import checks (and unless req.DryRun, stores) one batch of imported items.
func (c *Client) Import(ctx context.Context, req api.ImportRequest) (api.ImportResult, error) {
	var res api.ImportResult
	err := c.send(ctx, http.MethodPost, api.PathPostsImport, nil, req, &res)
	return res, err
}
