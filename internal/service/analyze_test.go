package service

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// systemdTool finds a systemd program for a test that checks the unit with
// systemd's own parser. Absent, the test skips — unless
// PSN_REQUIRE_SYSTEMD_ANALYZE=1 (set in CI, which installs systemd), where a
// missing tool fails so CI cannot pass without the check.
func systemdTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("PSN_REQUIRE_SYSTEMD_ANALYZE") == "1" {
		t.Fatalf("%s not found and PSN_REQUIRE_SYSTEMD_ANALYZE=1 (apt-get install systemd)", name)
	}
	t.Skipf("%s not found; install systemd to run this check", name)
	return ""
}

// analyzeFixture renders the unit for a real executable whose path needs
// every kind of escaping systemd allows in a program path (space, %, $),
// into a private user configuration directory, with environment values that
// need escaping too.
type analyzeFixture struct {
	root, home, runtimeDir, unitPath string
	cfg                              Config
}

func newAnalyzeFixture(t *testing.T, binExists bool) analyzeFixture {
	t.Helper()
	return newAnalyzeFixtureIn(t, t.TempDir(), binExists)
}

func newAnalyzeFixtureIn(t *testing.T, root string, binExists bool) analyzeFixture {
	t.Helper()
	f := analyzeFixture{root: root, home: filepath.Join(root, "home"), runtimeDir: filepath.Join(root, "run")}
	bin := filepath.Join(root, "my apps", "100% $HOME", "psnd")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if binExists {
		if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{f.home, f.runtimeDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	f.cfg = Config{
		HomeDir:    f.home,
		BinaryPath: bin,
		Env: []string{
			"PSN_HOME=" + filepath.Join(f.home, "psn data"),
			"PSN_KEYRING=file",
			"PSN_TZ=Europe/Paris",
			"PSN_X_API_URL=http://127.0.0.1:9/x?a=1&b=%20",
			`PSN_X_WEIRD=say "hi" it's $HOME ${X} $$ 100% %h back\slash` + "\ttab",
		},
	}
	out, err := Render(Systemd, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.unitPath = filepath.Join(f.home, ".config", "systemd", "user", UnitName)
	if err := os.MkdirAll(filepath.Dir(f.unitPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.unitPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// env isolates systemd from the machine's user configuration and from any
// running manager.
func (f analyzeFixture) env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + f.home,
		"XDG_CONFIG_HOME=" + filepath.Join(f.home, ".config"),
		"XDG_RUNTIME_DIR=" + f.runtimeDir,
		"LANG=C",
		"SYSTEMD_LOG_COLOR=0",
	}
}

// TestSystemdAnalyzeVerify runs `systemd-analyze --user verify` on the
// rendered unit. verify loads the unit with systemd's parser and checks that
// ExecStart's program exists and is executable, so passing proves the
// escaped path (with a space, % and $) reads back as the real file.
// It needs no running systemd and works as root or not.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa := systemdTool(t, "systemd-analyze")
	t.Parallel()

	t.Run("rendered unit", func(t *testing.T) {
		t.Parallel()
		f := newAnalyzeFixture(t, true)
		cmd := exec.Command(sa, "--user", "verify", f.unitPath)
		cmd.Env = f.env()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze --user verify: %v\n%s\nunit:\n%s", err, out, mustRead(t, f.unitPath))
		}
		// Warnings (unknown keys, bad values) do not change the exit
		// status; any line about our unit is a problem.
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, UnitName) {
				t.Errorf("systemd-analyze: %s", line)
			}
		}
	})
	// The check above must be able to fail: the same unit whose program
	// does not exist is refused.
	t.Run("missing binary is caught", func(t *testing.T) {
		t.Parallel()
		f := newAnalyzeFixture(t, false)
		cmd := exec.Command(sa, "--user", "verify", f.unitPath)
		cmd.Env = f.env()
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("systemd-analyze accepted a unit whose program is missing:\n%s", out)
		}
		if !strings.Contains(string(out), "100% $HOME/psnd") {
			t.Errorf("systemd-analyze did not name the unescaped path:\n%s", out)
		}
	})
}

// TestSystemdReadsEnvironment loads the unit into `systemd --test --user`,
// which dumps every unit as parsed, and compares the Environment= values
// with what was meant. systemd refuses --test as root, and CI runs as root:
// there the child runs as the user nobody, over a fixture handed to it.
// Newer systemd versions may drop --test, so this check skips only when it
// cannot run, and never when PSN_REQUIRE_SYSTEMD_ANALYZE=1 (CI).
func TestSystemdReadsEnvironment(t *testing.T) {
	sd := ""
	for _, p := range []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd"} {
		if isExecutable(p) {
			sd = p
			break
		}
	}
	if sd == "" {
		skipUnlessRequired(t, "systemd not installed")
	}
	t.Parallel()
	root := t.TempDir()
	if os.Geteuid() == 0 {
		root = traversableDir(t)
	}
	f := newAnalyzeFixtureIn(t, root, true)
	cmd := exec.Command(sd, "--test", "--user", "--no-pager", "--unit="+UnitName, "--log-target=console")
	cmd.Env = f.env()
	if os.Geteuid() == 0 {
		const nobody = 65534
		f.chownTree(t, nobody, nobody)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	out, _ := cmd.CombinedOutput()
	var env []string
	inUnit, found := false, false
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "\t-> Unit ") {
			inUnit = line == "\t-> Unit "+UnitName+":"
			found = found || inUnit
			continue
		}
		if v, ok := strings.CutPrefix(line, "\t\tEnvironment: "); ok && inUnit {
			env = append(env, v)
		}
	}
	if !found {
		skipUnlessRequired(t, "systemd --test did not dump "+UnitName+":\n"+string(out[:min(len(out), 2000)]))
	}
	if env == nil {
		// The unit loaded but no "Environment:" lines: the dump format
		// changed, which says nothing about our unit.
		skipUnlessRequired(t, "systemd --test printed no Environment lines for "+UnitName+"; dump format changed?")
	}
	if want := f.cfg.Env; !reflect.DeepEqual(env, want) {
		t.Errorf("systemd read Environment=\n%q\nwant\n%q", env, want)
	}
}

// skipUnlessRequired skips, or fails where CI requires systemd's checks to
// run (PSN_REQUIRE_SYSTEMD_ANALYZE=1): a check that quietly skips in CI
// proves nothing.
func skipUnlessRequired(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PSN_REQUIRE_SYSTEMD_ANALYZE") == "1" {
		t.Fatalf("%s (PSN_REQUIRE_SYSTEMD_ANALYZE=1)", why)
	}
	t.Skip(why)
}

// chownTree gives the fixture to uid:gid so that a child running as that
// user can read it and write its runtime directory.
func (f analyzeFixture) chownTree(t *testing.T, uid, gid int) {
	t.Helper()
	err := filepath.WalkDir(f.root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// traversableDir is a fresh directory every user may enter, unlike
// t.TempDir's (its parent is 0700): for a fixture a child reads as another
// user.
func traversableDir(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "psnd-systemd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
