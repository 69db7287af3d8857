package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// answers holds the calls read from the client and not answered yet, so
// that the end of stdin waits for them. The SDK cancels the calls in
// flight and drops their answers when its reader hits EOF, but a client
// may well write its requests and then close stdin (a script piping lines
// into `psnd mcp`): it must still get every answer.
type answers struct {
	mu      sync.Mutex
	pending map[jsonrpc.ID]bool
	broken  bool          // stdout failed: no answer can arrive
	changed chan struct{} // closed (and replaced) whenever pending shrinks
}

func newAnswers() *answers {
	return &answers{pending: map[jsonrpc.ID]bool{}, changed: make(chan struct{})}
}

// each calls fn on every JSON-RPC message in raw (one, or a batch).
func each(raw []byte, fn func(jsonrpc.Message)) {
	var batch []json.RawMessage
	if json.Unmarshal(raw, &batch) != nil {
		batch = []json.RawMessage{raw}
	}
	for _, r := range batch {
		if m, err := jsonrpc.DecodeMessage(r); err == nil {
			fn(m)
		}
	}
}

// read notes the calls in a message from the client.
func (a *answers) read(raw []byte) {
	each(raw, func(m jsonrpc.Message) {
		req, ok := m.(*jsonrpc.Request)
		if !ok {
			return
		}
		switch {
		case req.ID.IsValid():
			a.mu.Lock()
			a.pending[req.ID] = true
			a.mu.Unlock()
		case req.Method == "notifications/cancelled":
			// A cancelled call need not be answered (MCP, cancellation).
			var p struct {
				RequestID any `json:"requestId"`
			}
			if json.Unmarshal(req.Params, &p) == nil {
				if id, err := jsonrpc.MakeID(p.RequestID); err == nil {
					a.done(id)
				}
			}
		}
	})
}

// wrote notes the answers in a message written to the client.
func (a *answers) wrote(raw []byte) {
	each(raw, func(m jsonrpc.Message) {
		if resp, ok := m.(*jsonrpc.Response); ok {
			a.done(resp.ID)
		}
	})
}

func (a *answers) done(id jsonrpc.ID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending[id] {
		delete(a.pending, id)
		close(a.changed)
		a.changed = make(chan struct{})
	}
}

func (a *answers) fail() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.broken {
		a.broken = true
		close(a.changed)
		a.changed = make(chan struct{})
	}
}

// drain waits until every call read has been answered, stdout has
// failed, or ctx ends.
func (a *answers) drain(ctx context.Context) {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 || a.broken {
			a.mu.Unlock()
			return
		}
		ch := a.changed
		a.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// relay copies the client's messages from r to w one by one, noting the
// calls, and closes w only once r has ended and every call is answered.
// Bytes that are not JSON are passed on as they are, for the SDK to
// refuse as it does.
func (a *answers) relay(ctx context.Context, r io.Reader, w *io.PipeWriter) {
	dec := json.NewDecoder(r)
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			a.drain(ctx)
			w.Close()
			return
		}
		if err != nil {
			_, err = io.Copy(w, io.MultiReader(dec.Buffered(), r))
			w.CloseWithError(err)
			return
		}
		a.read(raw)
		if _, err := w.Write(append(raw, '\n')); err != nil {
			return // the session closed its reader
		}
	}
}

// answerWriter is stdout: it notes every answer the SDK writes.
type answerWriter struct {
	w io.Writer
	a *answers
}

func (aw answerWriter) Write(p []byte) (int, error) {
	n, err := aw.w.Write(p)
	if err != nil {
		aw.a.fail()
		return n, err
	}
	aw.a.wrote(bytes.TrimSpace(p))
	return n, nil
}

// Close keeps stdout open when the session closes: it is the process's,
// not the session's.
func (answerWriter) Close() error { return nil }
