package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/testutil"
)

// eofReader gives the lines, then holds its EOF until release is closed:
// a client that wrote its requests and closed stdin.
type eofReader struct {
	r       io.Reader
	release <-chan struct{}
	sent    chan struct{}
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		<-e.release
		select {
		case <-e.sent:
		default:
			close(e.sent)
		}
	}
	return n, err
}

// TestStdinClosedAnswersFirst: a client that writes its requests and then
// closes stdin (a script piping lines into `psnd mcp`, as Python's
// subprocess.run(input=...) does) still gets every answer before the
// server exits. The SDK alone cancels and drops the calls in flight at EOF.
func TestStdinClosedAnswersFirst(t *testing.T) {
	sock := filepath.Join(testutil.ShortDir(t), "psnd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	release := make(chan struct{})
	sent := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(got)
		// Answer only once stdin has ended: the old server had cancelled
		// the call by then.
		<-sent
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "[]")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	go func() { <-got; close(release) }()

	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_posts","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"check_text","arguments":{"text":"İ 東京 🪁"}}}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = Run(ctx, Config{Client: apiclient.New(sock, "test"), Version: "test", TZ: "UTC"},
		&eofReader{r: strings.NewReader(in), release: release, sent: sent}, &out)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	answered := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Result *struct {
				IsError bool `json:"isError"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout carries a line that is not JSON-RPC: %q", line)
		}
		answered[string(m.ID)] = line
	}
	for _, id := range []string{`0`, `1`, `"two"`} {
		line, ok := answered[id]
		if !ok {
			t.Errorf("request %s got no answer before the server exited; stdout:\n%s", id, out.String())
		} else if strings.Contains(line, `"isError":true`) {
			t.Errorf("request %s answered with an error: %s", id, line)
		}
	}
}

// fakeDaemon serves handler on a Unix socket as the daemon would, and
// returns a client of it.
func fakeDaemon(t *testing.T, handler http.HandlerFunc) *apiclient.Client {
	t.Helper()
	sock := filepath.Join(testutil.ShortDir(t), "psnd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return apiclient.New(sock, "test")
}
