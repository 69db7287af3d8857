// Package apiclient is the one typed client of psnd's local API. Every CLI
// command that needs the daemon goes through its single send path, which
// turns a missing daemon into one actionable line, rebuilds typed errors
// from response bodies, and notices a daemon of another version.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// ErrDaemonNotRunning means nothing listens on the socket.
var ErrDaemonNotRunning = errors.New("psnd daemon is not running")

// NotRunningError says where the client looked and how to start the daemon.
type NotRunningError struct {
	Socket string
	Err    error
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("psnd daemon is not running (no answer on %s); start it with `psnd serve` or `psnd service install`", e.Socket)
}

func (e *NotRunningError) Unwrap() error { return ErrDaemonNotRunning }

// Client talks to the daemon over its Unix socket.
type Client struct {
	socket  string
	version string
	hc      *http.Client
	// OnVersionMismatch is called once when the daemon reports a version
	// other than the client's.
	OnVersionMismatch func(daemonVersion string)
	warnOnce          sync.Once
	// Budget, when set, is sent with every request (api.BudgetHeader):
	// the PSN_MONTHLY_BUDGET of the command's environment.
	Budget string
}

// New returns a client for the daemon listening on socket. version is the
// client's own, compared with the daemon's.
func New(socket, version string) *Client {
	d := &net.Dialer{Timeout: 2 * time.Second}
	return &Client{
		socket:  socket,
		version: version,
		hc: &http.Client{
			Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					return d.DialContext(ctx, "unix", socket)
				},
				MaxIdleConns:    2,
				IdleConnTimeout: 30 * time.Second,
			},
		},
	}
}

// Socket returns the socket path the client dials.
func (c *Client) Socket() string { return c.socket }

// send performs one request: body (if not nil) is sent as JSON and the
// response decoded into out (if not nil).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := "http://psnd" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "psnd/"+c.version)
	if c.Budget != "" {
		req.Header.Set(api.BudgetHeader, c.Budget)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if isNotRunning(err) {
			return &NotRunningError{Socket: c.socket, Err: err}
		}
		return fmt.Errorf("talk to psnd daemon: %w", err)
	}
	defer resp.Body.Close()
	if v := resp.Header.Get(api.VersionHeader); v != "" && v != c.version && c.OnVersionMismatch != nil {
		c.warnOnce.Do(func() { c.OnVersionMismatch(v) })
	}
	if resp.StatusCode >= 300 {
		var eb api.ErrorBody
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(data, &eb) == nil && eb.Error.Message != "" {
			eb.Error.Status = resp.StatusCode
			return &eb.Error
		}
		return &api.Error{Code: api.CodeInternal, Status: resp.StatusCode,
			Message: fmt.Sprintf("psnd daemon answered %s", resp.Status)}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(rawBody); ok {
		if _, err := io.Copy(raw.w, resp.Body); err != nil {
			return fmt.Errorf("copy daemon response: %w", err)
		}
		return nil
	}
	if read, ok := out.(bodyReader); ok {
		return read(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode daemon response: %w", err)
	}
	return nil
}

func isNotRunning(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOTSOCK)
}

// Health returns the daemon's state.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	var h api.Health
	err := c.send(ctx, http.MethodGet, api.PathHealth, nil, nil, &h)
	return h, err
}

// rawBody, passed as send's out, receives the response body unparsed.
type rawBody struct{ w io.Writer }

// GetPost returns one post.
func (c *Client) GetPost(ctx context.Context, id int64) (api.Post, error) {
	var p api.Post
	err := c.send(ctx, http.MethodGet, postPath(id), nil, nil, &p)
	return p, err
}

func postPath(id int64) string {
	return strings.Replace(api.PathPost, "{id}", strconv.FormatInt(id, 10), 1)
}

// ResetKey discards tokens and the client secret sealed with a key the
// keyring no longer has, and binds the current key.
func (c *Client) ResetKey(ctx context.Context) (api.Health, error) {
	var h api.Health
	err := c.send(ctx, http.MethodPost, api.PathKeyReset, nil, struct{}{}, &h)
	return h, err
}
