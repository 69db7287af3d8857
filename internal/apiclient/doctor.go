package apiclient

import (
	"context"
	"net/http"

	"github.com/psnd/psnd/internal/api"
)

// Doctor returns the daemon's checks for `psnd doctor`: database, schema,
// data key, X app, accounts, callback port and failed posts.
func (c *Client) Doctor(ctx context.Context) (api.DoctorReport, error) {
	var r api.DoctorReport
	err := c.send(ctx, http.MethodGet, api.PathDoctor, nil, nil, &r)
	return r, err
}
