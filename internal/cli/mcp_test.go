package cli

import (
	"context"
	"os"
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
