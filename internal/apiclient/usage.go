package apiclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/psnd/psnd/internal/api"
)

// Usage reads the requests sent to X in month ("YYYY-MM"; "" is the
// current UTC month) with their estimated cost and the last 24-hour caps.
func (c *Client) Usage(ctx context.Context, month string) (api.Usage, error) {
	var q url.Values
	if month != "" {
		q = url.Values{"month": {month}}
	}
	var u api.Usage
	err := c.send(ctx, http.MethodGet, api.PathUsage, q, nil, &u)
	return u, err
}
