// Package mcpserver is `psnd mcp`: a Model Context Protocol server on stdio
// (SPEC §10), so that an AI assistant drafts and schedules posts with the
// same rules as the CLI. Text tools (check_text, split_text) run locally
// through internal/tweettext exactly as `psnd check` and `psnd split` do;
// every other tool is a client of the daemon's local API through
// internal/apiclient, like every CLI command, so this package never links
// the store (internal/archtest checks it).
//
// It uses the official Go SDK, github.com/modelcontextprotocol/go-sdk.
// Tool errors are tool results (IsError) carrying the CLI's own sentences,
// which say what to do next, so the model can correct itself.
package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/pricing"
)

// Config holds the server's dependencies.
type Config struct {
	// Client reaches the daemon's local API.
	Client *apiclient.Client
	// Version is psnd's, announced to the MCP client.
	Version string
	// TZ is PSN_TZ; empty means the daemon's configured zone, else the
	// system's (as the CLI resolves it).
	TZ string
	// Now is the clock behind relative times ("+2h", "09:30"); nil means
	// time.Now.
	Now func() time.Time
	// Logger receives the SDK's and the server's logs (stderr in `psnd
	// mcp`: stdout carries the protocol). nil discards them.
	Logger *slog.Logger
	// SettleWait bounds how long create_post with now, edit_post with now
	// and retry_post wait for the post to settle; 0 means 3 minutes, as
	// `psnd post --now` waits.
	SettleWait time.Duration
	// Prices is the price table check_text estimates costs with, asked on
	// every call ($PSN_HOME/prices.json may change); nil is X's published
	// table (pricing.Default).
	Prices func() pricing.Table
}

// server holds what the tool handlers share.
type server struct {
	cfg Config
}

func (s *server) prices() pricing.Table {
	if s.cfg.Prices != nil {
		return s.cfg.Prices()
	}
	return pricing.Default
}

func (s *server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// New returns the MCP server with psnd's tools.
func New(cfg Config) *mcp.Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SettleWait <= 0 {
		cfg.SettleWait = 3 * time.Minute
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "psnd", Title: "psnd: schedule posts to X", Version: cfg.Version},
		&mcp.ServerOptions{Instructions: instructions, Logger: cfg.Logger})
	s := &server{cfg: cfg}
	s.addTools(srv)
	srv.AddReceivingMiddleware(idAsNumber)
	return srv
}

// idAsNumber takes a post's id given as a string of digits ("12") as the
// number: models often write ids that way, having read them in text. The
// schema still says integer, and refuses any other string.
func idAsNumber(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil {
			var args map[string]json.RawMessage
			var id string
			if json.Unmarshal(r.Params.Arguments, &args) == nil && json.Unmarshal(args["id"], &id) == nil {
				if n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64); err == nil {
					args["id"] = json.RawMessage(strconv.FormatInt(n, 10))
					if b, err := json.Marshal(args); err == nil {
						r.Params.Arguments = b
					}
				}
			}
		}
		return next(ctx, method, req)
	}
}

// instructions tell the model how the tools fit together.
const instructions = `psnd schedules and publishes posts (single tweets or threads) to X from the user's own machine.
Check a text with check_text (or preview a thread with split_text) before create_post. Times are read in the user's time zone; posts in answers give their times in that zone too (scheduled_at_local, published_at_local): tell the user those.
create_post with now: true publishes immediately and for real: only do it when the user asked for that.
Every tool except check_text and split_text needs the psnd daemon running (psnd serve, or psnd service install).`

// Run serves MCP on r and w (stdin and stdout in `psnd mcp`) until the
// client closes r, once every call read has its answer, or ctx ends.
func Run(ctx context.Context, cfg Config, r io.Reader, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the relay's wait
	a := newAnswers()
	pr, pw := io.Pipe()
	go a.relay(ctx, r, pw)
	t := &mcp.IOTransport{Reader: pr, Writer: answerWriter{w, a}}
	err := New(cfg).Run(ctx, t)
	if err == nil || errors.Is(err, io.EOF) || (ctx.Err() != nil && errors.Is(err, context.Canceled)) {
		// The client hung up, or the user stopped us: a normal end.
		return nil
	}
	return fmt.Errorf("serve MCP: %w", err)
}
