package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/psnd/psnd/internal/api"
)

// Slots lists the weekly queue slots; account "" means every account.
func (c *Client) Slots(ctx context.Context, account string) ([]api.Slot, error) {
	var out []api.Slot
	q := url.Values{}
	if account != "" {
		q.Set("account", account)
	}
	err := c.send(ctx, http.MethodGet, api.PathSlots, q, nil, &out)
	return out, err
}

// AddSlots adds the slots of a spec such as "mon-fri 09:00,13:30".
func (c *Client) AddSlots(ctx context.Context, req api.AddSlots) ([]api.Slot, error) {
	var out []api.Slot
	err := c.send(ctx, http.MethodPost, api.PathSlots, nil, req, &out)
	return out, err
}

// RemoveSlot removes one slot.
func (c *Client) RemoveSlot(ctx context.Context, id int64) (api.Slot, error) {
	var out api.Slot
	err := c.send(ctx, http.MethodDelete, "/v1/slots/"+strconv.FormatInt(id, 10), nil, nil, &out)
	return out, err
}

// Queue lists the coming slot instants of the next days days (0: the
// daemon's default) and the post in each; account "" means every account.
func (c *Client) Queue(ctx context.Context, days int, account string) (api.Queue, error) {
	var out api.Queue
	q := url.Values{}
	if days > 0 {
		q.Set("days", strconv.Itoa(days))
	}
	if account != "" {
		q.Set("account", account)
	}
	err := c.send(ctx, http.MethodGet, api.PathQueue, q, nil, &out)
	return out, err
}
