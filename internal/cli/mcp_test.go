package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/mcpserver"
)

// TestMCPHelpNamesEveryTool: `psnd mcp --help` and the README's "AI
// assistants" section name every tool the server has, so that a user
// knows which need the daemon.
func TestMCPHelpNamesEveryTool(t *testing.T) {
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := mcpserver.New(mcpserver.Config{Client: apiclient.New("/nonexistent/psnd.sock", "test")}).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## AI assistants\n")
	section, _, _ = strings.Cut(section, "\n## ")
	help := newMCPCmd(&Env{}).Long
	for _, tl := range tools.Tools {
		if !strings.Contains(help, tl.Name) {
			t.Errorf("psnd mcp --help does not name the tool %s", tl.Name)
		}
		if !strings.Contains(section, "`"+tl.Name+"`") {
			t.Errorf("the README's AI assistants section does not name the tool %s", tl.Name)
		}
	}
}

// TestMCPStdoutIsProtocolOnly: `psnd mcp` run as a client runs it, stdin
// closed after the requests: stdout carries only the JSON-RPC answers, one
// for each request, while a broken prices.json is warned about once on
// stderr (as `psnd check` warns), not silently ignored.
func TestMCPStdoutIsProtocolOnly(t *testing.T) {
	vars := map[string]string{"PSN_HOME": shortHome(t), "PSN_TZ": "UTC"}
	if err := os.MkdirAll(vars["PSN_HOME"], 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vars["PSN_HOME"], "prices.json"), []byte(`{`), 0o600); err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_text","arguments":{"text":"İ 東京 🪁 example.com"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"split_text","arguments":{"text":"see example.com\n---\nİ"}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_posts","arguments":{}}}`,
	}, "\n") + "\n"
	r := run(t, vars, in, "mcp")
	if r.code != 0 {
		t.Fatalf("psnd mcp: exit %d, stderr %q", r.code, r.stderr)
	}
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var m struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.JSONRPC != "2.0" {
			t.Fatalf("stdout carries a line that is not JSON-RPC: %q", line)
		}
		ids[string(m.ID)] = true
	}
	if len(ids) != 4 || !ids["0"] || !ids["1"] || !ids["2"] || !ids["3"] {
		t.Errorf("answers to %v; want 0, 1, 2 and 3\nstdout: %s", ids, r.stdout)
	}
	if n := strings.Count(r.stderr, "prices.json"); n != 1 || !strings.Contains(r.stderr, "using X's published prices") {
		t.Errorf("stderr warns %d times about prices.json, want once: %q", n, r.stderr)
	}
}
