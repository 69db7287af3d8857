package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// update rewrites golden files: go test ./internal/cli -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// golden compares got with testdata/<name>.golden, or writes it with
// -update. Review the diff of the golden files before committing them.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Fatalf("no golden file %s: run `go test ./internal/cli -run Golden -update` and review the new file", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run `go test ./internal/cli -run Golden -update` if the change is intended):\n%s",
			path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first differing lines of want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + strconv.Quote(wl) + "\n  got:  " + strconv.Quote(gl) + "\n")
			shown++
		}
	}
	return b.String()
}

// commandPaths lists every command a user can ask help for, as argument
// lists: the root, then each visible command and subcommand.
func commandPaths() [][]string {
	root := newRoot(&Env{Getenv: func(string) string { return "" }})
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		out = append(out, path)
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(root, nil)
	return out
}

// TestHelpGolden pins `--help` of every command: examples, flags, wording
// and the exit statuses at the end. A new command needs a golden file
// (-update writes it); a change to help text shows up as a diff in review.
func TestHelpGolden(t *testing.T) {
	paths := commandPaths()
	if len(paths) < 20 {
		t.Fatalf("only %d commands found", len(paths))
	}
	seen := map[string]bool{}
	for _, path := range paths {
		name := "help/" + strings.Join(append([]string{"psnd"}, path...), "_")
		seen[filepath.Base(name)+".golden"] = true
		t.Run(strings.Join(append([]string{"psnd"}, path...), " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, "", append(path, "--help")...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "Exit status:\n  0    success") {
				t.Error("help does not document the exit statuses")
			}
			if len(path) > 0 && !strings.Contains(r.stdout, "Examples:\n") {
				t.Error("help has no examples")
			}
			golden(t, name, r.stdout)
		})
	}
	// A golden file for a command that no longer exists is stale.
	if !*update {
		entries, _ := os.ReadDir(filepath.Join("testdata", "help"))
		for _, e := range entries {
			if !seen[e.Name()] {
				t.Errorf("testdata/help/%s belongs to no command; delete it", e.Name())
			}
		}
	}
}

// TestJSONFlagEverywhere keeps --json on every command that reads or
// changes state, worded the same way.
func TestJSONFlagEverywhere(t *testing.T) {
	without := map[string]bool{"psnd": true, "psnd serve": true, "psnd mcp": true, "psnd completion": true, "psnd auth": true, "psnd service": true}
	root := newRoot(&Env{Getenv: func(string) string { return "" }})
	for _, path := range commandPaths() {
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		name := c.CommandPath()
		f := c.Flags().Lookup("json")
		switch {
		case without[name]:
			if f != nil {
				t.Errorf("%s has --json; update this test", name)
			}
		case f == nil:
			t.Errorf("%s has no --json", name)
		case !strings.HasPrefix(f.Usage, "print ") || !strings.HasSuffix(f.Usage, " as JSON instead of text"):
			t.Errorf("%s --json usage %q is not worded like the others (use jsonFlag)", name, f.Usage)
		}
	}
}

// TestCompletion checks the completion scripts and the values offered
// without a daemon.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := run(t, nil, "", "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "__complete") {
			t.Errorf("completion %s: exit %d, stderr %q", sh, r.code, r.stderr)
		}
	}
	if r := run(t, nil, "", "completion", "powershell"); r.code != ExitUsage {
		t.Errorf("completion powershell: exit %d, want %d", r.code, ExitUsage)
	}
	if r := run(t, nil, "", "completion"); r.code != ExitUsage {
		t.Errorf("completion without a shell: exit %d, want %d", r.code, ExitUsage)
	}
	complete := func(args ...string) string {
		t.Helper()
		r := run(t, map[string]string{"PSN_HOME": shortHome(t)}, "", append([]string{cobra.ShellCompRequestCmd}, args...)...)
		if r.code != 0 {
			t.Fatalf("__complete %v: exit %d %q", args, r.code, r.stderr)
		}
		return r.stdout
	}
	out := complete("list", "--status", "")
	for _, s := range []string{"failed\t", "retry\t", "scheduled\t", "publishing\t", "draft\t", "published\t"} {
		if !strings.Contains(out, s) {
			t.Errorf("--status completion lacks %q:\n%s", s, out)
		}
	}
	if out := complete("service", "install", "--flavour", ""); !strings.Contains(out, "systemd") || !strings.Contains(out, "launchd") {
		t.Errorf("--flavour completion:\n%s", out)
	}
	if out := complete("po"); !strings.Contains(out, "post\t") {
		t.Errorf("command completion:\n%s", out)
	}
	// No daemon: no IDs, and no file names either.
	if out := complete("show", ""); !strings.HasPrefix(out, ":4\n") {
		t.Errorf("show ID completion without a daemon:\n%s", out)
	}
}
