package fakex_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSandboxLinksNoTestCode guards the sandbox: the fake is production
// code, so it must not pull in kin-openapi or testing packages.
func TestSandboxLinksNoTestCode(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/psnd/psnd/internal/fakex").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" || strings.HasPrefix(dep, "github.com/getkin/") ||
			strings.HasSuffix(dep, "/httptest") || strings.HasSuffix(dep, "/testutil") {
			t.Errorf("fakex depends on %s", dep)
		}
	}
}
