// Package service installs, removes and inspects psnd as a per-user background
// service, so that `psnd serve` runs without a terminal: a systemd user unit on
// Linux and a launchd agent in the gui/<uid> domain on macOS.
//
// Rendering is pure (Render works for either flavour on any platform, which
// is what `psnd service status --print` and the tests use). Every side effect
// of Manager goes through its Config: the home directory, the environment
// (also the PATH used to find systemctl/launchctl), the binary to run, GOOS,
// the uid and a Runner for commands. Nothing reads the process environment
// except DefaultConfig.
//
// What the generated files deliberately leave out:
//
//   - DISPLAY, WAYLAND_DISPLAY and XAUTHORITY. The CLI opens the browser for
//     login, never the daemon (a service has no reliable display), so the unit
//     does not need them. Should that change, the desktop must first export
//     them to the user manager with
//     `systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY`.
//   - Log files on Linux: stdout/stderr go to the journal
//     (`journalctl --user -u psnd -f`). launchd has no journal, so the agent
//     appends to ~/Library/Logs/psnd/psnd.log (launchd never rotates it).
//   - Secrets (X_CLIENT_SECRET): the files are world-readable (0644).
//
// On Linux a user unit runs only while the user has a session unless lingering
// is on (`loginctl enable-linger $USER`); with lingering the daemon starts at
// boot, before any login has unlocked the keyring, and psnd waits for the
// keyring rather than failing posts.
package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"unicode/utf8"
)

// Flavour names a service manager. Its string form is used in --json output.
type Flavour string

const (
	// Systemd is a systemd user unit (Linux).
	Systemd Flavour = "systemd"
	// Launchd is a launchd agent in the gui/<uid> domain (macOS).
	Launchd Flavour = "launchd"
)

const (
	// UnitName is the systemd unit psnd installs.
	UnitName = "psnd.service"
	// Label is the launchd label; the agent plist is ~/Library/LaunchAgents/<Label>.plist.
	Label = "dev.psnd.psnd"
	// DocumentationURL goes into the unit's Documentation= line.
	DocumentationURL = "https://github.com/psnd/psnd"
	// launchdPATH is the agent's PATH: launchd gives agents a minimal one and
	// no shell environment. Homebrew's prefixes come first so that tools a
	// user installed there win over the system's, as in a login shell.
	launchdPATH = "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
)

// ErrUnavailable is matched (errors.Is) by every refusal caused by the
// service manager itself: not installed here, not reachable (no user
// session), or an OS psnd has no service support for. The error's text is the
// one line to show the user; --print still works in all these cases.
var ErrUnavailable = errors.New("service manager not available")

type unavailableError struct{ msg string }

func (e *unavailableError) Error() string        { return e.msg }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

func unavailable(format string, args ...any) error {
	return &unavailableError{msg: fmt.Sprintf(format, args...)}
}

// Config holds everything the package needs from the outside world, so that
// tests can run in parallel against a temporary home and stand-in commands.
type Config struct {
	// HomeDir is the user's home directory (absolute).
	HomeDir string
	// Env is the environment in os.Environ form. It supplies the PSN_*
	// variables copied into the service, XDG_CONFIG_HOME, XDG_RUNTIME_DIR,
	// and the PATH on which systemctl/launchctl are looked up; it is also
	// the environment those commands run with. It is a list rather than a
	// getenv func because PSN_X_* has to be enumerated.
	Env []string
	// BinaryPath is the absolute path of the psnd binary the service runs.
	BinaryPath string
	// GOOS picks the flavour Manager uses ("linux" → systemd, "darwin" → launchd).
	GOOS string
	// UID is the user's numeric id, naming launchd's gui/<uid> domain.
	UID int
	// Runner runs systemctl/launchctl. Nil means ExecRunner.
	Runner Runner
}

// DefaultConfig describes the running process: its home, environment,
// binary, OS and uid, with commands run through os/exec.
func DefaultConfig() (Config, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Config{}, fmt.Errorf("find home directory: %w", err)
	}
	env := os.Environ()
	bin, err := executablePath(os.Args[0], getenv(env, "PATH"))
	if err != nil {
		return Config{}, err
	}
	return Config{
		HomeDir:    home,
		Env:        env,
		BinaryPath: bin,
		GOOS:       runtime.GOOS,
		UID:        os.Getuid(),
		Runner:     ExecRunner{},
	}, nil
}

// executablePath finds the binary to put in the service file. It prefers the
// name the user invoked (often a stable symlink such as Homebrew's
// /opt/homebrew/bin/psnd or ~/.local/bin/psnd) when that is the same file as
// os.Executable: on Linux os.Executable resolves symlinks, which would pin the
// service to a versioned path that the next upgrade deletes.
func executablePath(arg0, pathList string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find psnd binary: %w", err)
	}
	var invoked string
	if strings.ContainsRune(arg0, filepath.Separator) {
		invoked, _ = filepath.Abs(arg0)
	} else if arg0 != "" {
		invoked, _ = lookPath(arg0, pathList)
	}
	if invoked != "" && sameFile(invoked, exe) {
		exe = invoked
	}
	return filepath.Clean(exe), nil
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// FlavourFor returns the flavour Manager uses on goos, or an ErrUnavailable
// error for an OS without support.
func FlavourFor(goos string) (Flavour, error) {
	switch goos {
	case "linux":
		return Systemd, nil
	case "darwin":
		return Launchd, nil
	}
	return "", unavailable("psnd service supports systemd (Linux) and launchd (macOS), not %s; run `psnd serve` yourself", goos)
}

// Path returns where the service file of flavour f lives for cfg:
// $XDG_CONFIG_HOME/systemd/user/psnd.service (default ~/.config) or
// ~/Library/LaunchAgents/dev.psnd.psnd.plist.
func Path(f Flavour, cfg Config) (string, error) {
	if !filepath.IsAbs(cfg.HomeDir) {
		return "", fmt.Errorf("home directory %q is not an absolute path", cfg.HomeDir)
	}
	switch f {
	case Systemd:
		// The XDG base-directory spec says relative values are to be ignored.
		cfgDir := getenv(cfg.Env, "XDG_CONFIG_HOME")
		if !filepath.IsAbs(cfgDir) {
			cfgDir = filepath.Join(cfg.HomeDir, ".config")
		}
		return filepath.Join(cfgDir, "systemd", "user", UnitName), nil
	case Launchd:
		return filepath.Join(cfg.HomeDir, "Library", "LaunchAgents", Label+".plist"), nil
	}
	return "", fmt.Errorf("unknown service flavour %q", f)
}

// LogPath is where the launchd agent's stdout and stderr go (both to one file,
// opened for appending, so the two streams interleave in order).
func LogPath(cfg Config) string {
	return filepath.Join(cfg.HomeDir, "Library", "Logs", "psnd", "psnd.log")
}

// Render returns the service file for flavour f: a systemd unit or a launchd
// plist. It is pure and works on any platform.
func Render(f Flavour, cfg Config) ([]byte, error) {
	if !filepath.IsAbs(cfg.BinaryPath) {
		return nil, fmt.Errorf("psnd binary path %q is not absolute", cfg.BinaryPath)
	}
	if !utf8.ValidString(cfg.BinaryPath) {
		return nil, fmt.Errorf("psnd binary path %q is not valid UTF-8", cfg.BinaryPath)
	}
	env, err := serviceEnv(cfg.Env)
	if err != nil {
		return nil, err
	}
	switch f {
	case Systemd:
		return renderUnit(cfg.BinaryPath, env)
	case Launchd:
		if !filepath.IsAbs(cfg.HomeDir) {
			return nil, fmt.Errorf("home directory %q is not an absolute path", cfg.HomeDir)
		}
		return renderPlist(cfg.BinaryPath, LogPath(cfg), env)
	}
	return nil, fmt.Errorf("unknown service flavour %q", f)
}

// Notes are the lines worth showing after a successful install of flavour f.
func Notes(f Flavour) []string {
	switch f {
	case Systemd:
		return []string{
			"logs: journalctl --user -u psnd -f",
			"psnd stops when your last session ends; to start it at boot and keep it after logout run `loginctl enable-linger $USER` (the keyring then stays locked until you log in, and psnd waits for it)",
		}
	case Launchd:
		return []string{
			"logs: ~/Library/Logs/psnd/psnd.log (not rotated)",
			"the agent runs while you are logged in; macOS may show \"Background Items Added\", and you can turn it off under System Settings > General > Login Items",
		}
	}
	return nil
}

// envVar is one variable copied into the service's environment.
type envVar struct{ Name, Value string }

// serviceEnv picks the variables the daemon must share with the shell that
// ran `psnd service install`, so that CLI and daemon agree on the data
// directory (and therefore the socket), keyring backend, time zone and X
// endpoints. A service manager does not inherit a login shell's environment.
// XDG_DATA_HOME is included because the default PSN_HOME derives from it.
// Secrets (X_CLIENT_SECRET) are never written: the files are world-readable.
func serviceEnv(environ []string) ([]envVar, error) {
	fixed := map[string]bool{
		"PSN_HOME": true, "PSN_KEYRING": true, "PSN_TZ": true, "PSN_NOTIFY": true, "PSN_PREFLIGHT": true,
		"PSN_CALLBACK_ADDR": true, "XDG_DATA_HOME": true,
	}
	seen := map[string]string{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !(fixed[name] || strings.HasPrefix(name, "PSN_X_")) {
			continue
		}
		seen[name] = value // later entries win, as in os/exec
	}
	var out []envVar
	for name, value := range seen {
		if value == "" {
			continue // set but empty means "use the default"
		}
		if !validEnvName(name) {
			return nil, fmt.Errorf("environment variable name %q cannot be passed to the service", name)
		}
		if !utf8.ValidString(value) {
			return nil, fmt.Errorf("%s is not valid UTF-8", name)
		}
		if (name == "PSN_HOME" || name == "XDG_DATA_HOME") && !filepath.IsAbs(value) {
			return nil, fmt.Errorf("%s=%q is relative; the service runs in another directory, so set an absolute path", name, value)
		}
		out = append(out, envVar{name, value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func validEnvName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// getenv looks key up in an os.Environ-style list; the last entry wins.
func getenv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
