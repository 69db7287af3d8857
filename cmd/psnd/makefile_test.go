package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeRunSaysWhatItDoes: `make run` on a cold cache builds for minutes
// (go prints nothing while it downloads and compiles), so the recipe says
// what is happening before the build starts. make -n prints the recipe
// without running it.
func TestMakeRunSaysWhatItDoes(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on this machine")
	}
	out, err := exec.Command("make", "-n", "-C", "../..", "run").Output()
	if err != nil {
		t.Fatalf("make -n run: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	say, build := -1, -1
	for i, l := range lines {
		switch {
		case say < 0 && strings.HasPrefix(l, "echo ") && strings.Contains(l, "Building"):
			say = i
		case build < 0 && strings.Contains(l, " build ") && strings.Contains(l, "./cmd/psnd"):
			build = i
		}
	}
	if say < 0 || build < 0 || say > build {
		t.Errorf("make run does not announce the build before running it:\n%s", out)
	}
}
