package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Manager installs, removes and inspects the psnd service of the flavour
// that Config.GOOS calls for.
type Manager struct {
	cfg     Config
	flavour Flavour
	path    string

	// launchd bootstrap retries while a booted-out instance is still exiting.
	retryDelay        time.Duration
	bootstrapAttempts int
}

// Status describes the installed service. JSON names follow SPEC §7.
type Status struct {
	Flavour Flavour `json:"flavour"`
	// Installed: the unit or plist file exists.
	Installed bool   `json:"installed"`
	UnitPath  string `json:"unit_path"`
	// Enabled: systemd says "enabled", or launchd has the agent loaded
	// (either way it starts at login).
	Enabled bool `json:"enabled"`
	Running bool `json:"running"`
	// Binary is the program read back from the installed file; empty when
	// not installed.
	Binary string `json:"binary"`
	// MatchesThisBinary: Binary is the binary in Config (the one running
	// `psnd service status`). False after moving or reinstalling psnd
	// elsewhere: run install again.
	MatchesThisBinary bool `json:"matches_this_binary"`
	// Detail is a short human summary, e.g. "enabled, active" or "not loaded".
	Detail string `json:"detail"`
}

func (st *Status) addDetail(s string) {
	if st.Detail == "" {
		st.Detail = s
	} else {
		st.Detail += "; " + s
	}
}

// New returns a Manager for cfg.GOOS. Unsupported systems give an
// ErrUnavailable error.
func New(cfg Config) (*Manager, error) {
	f, err := FlavourFor(cfg.GOOS)
	if err != nil {
		return nil, err
	}
	if cfg.Runner == nil {
		cfg.Runner = ExecRunner{}
	}
	path, err := Path(f, cfg)
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, flavour: f, path: path, retryDelay: time.Second, bootstrapAttempts: 10}, nil
}

// Flavour is the service manager this Manager drives.
func (m *Manager) Flavour() Flavour { return m.flavour }

// Path is the unit or plist file this Manager writes.
func (m *Manager) Path() string { return m.path }

// Render returns the file Install would write.
func (m *Manager) Render() ([]byte, error) { return Render(m.flavour, m.cfg) }

// Install writes the service file (atomically, 0644) and starts the service
// so that it also starts at every login. Running it again with the same
// Config leaves the same file and state. systemd: a changed file restarts a
// running unit so the change takes effect, an unchanged one is left running;
// launchd: the agent is always booted out and bootstrapped again (a restart).
func (m *Manager) Install(ctx context.Context) error {
	if dir, ok := temporaryBuild(m.cfg.BinaryPath); ok {
		return fmt.Errorf("psnd is running from a temporary build directory (%s), which will be deleted; install psnd (go install ./cmd/psnd) and run install from there", dir)
	}
	content, err := m.Render()
	if err != nil {
		return err
	}
	switch m.flavour {
	case Systemd:
		err = m.installSystemd(ctx, content)
	case Launchd:
		err = m.installLaunchd(ctx, content)
	}
	return wrap("install service", err)
}

// Uninstall stops the service, disables it and removes its file. Removing a
// service that is not installed succeeds. launchd logs are kept.
func (m *Manager) Uninstall(ctx context.Context) error {
	var err error
	switch m.flavour {
	case Systemd:
		err = m.uninstallSystemd(ctx)
	case Launchd:
		err = m.uninstallLaunchd(ctx)
	}
	return wrap("uninstall service", err)
}

// Status reports the service's state. On error the returned Status still
// holds what the file on disk says (Installed, Binary), so a caller can show
// it next to the error (e.g. when the service manager is unreachable).
func (m *Manager) Status(ctx context.Context) (Status, error) {
	st := Status{Flavour: m.flavour, UnitPath: m.path}
	var err error
	switch m.flavour {
	case Systemd:
		err = m.statusSystemd(ctx, &st)
	case Launchd:
		err = m.statusLaunchd(ctx, &st)
	}
	if st.Binary != "" {
		st.MatchesThisBinary = st.Binary == filepath.Clean(m.cfg.BinaryPath) || sameFile(st.Binary, m.cfg.BinaryPath)
		if _, statErr := os.Stat(st.Binary); statErr != nil {
			st.addDetail("binary " + st.Binary + " is missing; run `psnd service install` again")
		}
	}
	return st, wrap("service status", err)
}

// wrap names the operation in an error, except for ErrUnavailable refusals,
// which are already the one line to show.
func wrap(op string, err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// run runs name with the Config's environment, refusing clearly when the
// tool is not installed.
func (m *Manager) run(ctx context.Context, name string, args ...string) (Result, error) {
	res, err := m.cfg.Runner.Run(ctx, Command{Name: name, Args: args, Env: m.cfg.Env})
	if errors.Is(err, exec.ErrNotFound) {
		what := "systemd user services"
		if m.flavour == Launchd {
			what = "launchd agents"
		}
		return res, unavailable("%s are not available here (%s not found); run `psnd serve` yourself or use --print", what, name)
	}
	return res, err
}

// commandError makes one line of a failed command: its first line of
// stderr (or stdout) and exit status.
func commandError(cmd string, res Result) error {
	msg := firstLine(res.Stderr)
	if msg == "" {
		msg = firstLine(res.Stdout)
	}
	if msg == "" {
		return fmt.Errorf("%s: exit status %d", cmd, res.ExitCode)
	}
	return fmt.Errorf("%s: %s (exit status %d)", cmd, msg, res.ExitCode)
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// writeIfChanged atomically replaces path with content (mode 0644) unless it
// already holds exactly that, reporting whether it wrote. A reader (or the
// service manager) never sees a half-written file.
func writeIfChanged(path string, content []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() == 0o644 {
			return false, nil
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(content); err != nil {
		f.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: make the rename durable
		d.Close()
	}
	return true, nil
}

// temporaryBuild spots a binary built by `go run` or `go test`, which lives
// in a go-build* directory that disappears when the command ends.
func temporaryBuild(bin string) (string, bool) {
	for dir := filepath.Dir(bin); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if strings.HasPrefix(filepath.Base(dir), "go-build") {
			return dir, true
		}
	}
	return "", false
}
