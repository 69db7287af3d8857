// Package config resolves psnd's environment (SPEC §7) into one value, so
// every command and the daemon agree on where data lives and which X
// endpoints to use. It reads the environment through a function, never the
// process environment directly, so tests can run in parallel.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Defaults of SPEC §7.
const (
	DefaultAPIURL       = "https://api.x.com"
	DefaultAuthURL      = "https://x.com/i/oauth2/authorize"
	DefaultTokenURL     = "https://api.x.com/2/oauth2/token"
	DefaultCallbackAddr = "127.0.0.1:18923"
	// DefaultPreflight is how long before a post is due the daemon proves
	// its account's login and uploads its media (SPEC §6, PSN_PREFLIGHT).
	DefaultPreflight = 15 * time.Minute
)

// Config is the resolved environment.
type Config struct {
	Home         string // data directory ($PSN_HOME)
	KeyringMode  string // "system" or "file"
	APIURL       string
	AuthURL      string
	TokenURL     string
	CallbackAddr string
	TZ           string // $PSN_TZ, "" when unset
	ClientID     string // $X_CLIENT_ID
	ClientSecret string // $X_CLIENT_SECRET; never logged
	// Notify is false when PSN_NOTIFY=0 turns desktop notifications off.
	Notify bool
	// SessionBus is $DBUS_SESSION_BUS_ADDRESS, where Linux desktop
	// notifications go; "" means no desktop session.
	SessionBus string
	// Preflight is $PSN_PREFLIGHT: how long before a post is due its
	// pre-flight runs; 0 turns pre-flight off.
	Preflight time.Duration
	// Budget is $PSN_MONTHLY_BUDGET: "" when unset (or empty), "none", or
	// US dollars in canonical form ("12.5"). ParseBudget reads it.
	Budget string
}

// NoBudget is PSN_MONTHLY_BUDGET's value that removes the budget.
const NoBudget = "none"

// ParseBudget reads a monthly budget in US dollars ("5", "12.50", "$20")
// or "none", returning its canonical text and the dollars (-1 for none).
func ParseBudget(v string) (string, float64, error) {
	t := strings.TrimSpace(v)
	if strings.EqualFold(t, NoBudget) {
		return NoBudget, -1, nil
	}
	f, err := strconv.ParseFloat(strings.TrimPrefix(t, "$"), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(t, "eEpPxX_") {
		return "", 0, fmt.Errorf("PSN_MONTHLY_BUDGET must be an amount of US dollars like 5 or 12.50 (or none for no budget), not %q", v)
	}
	return strconv.FormatFloat(f, 'f', -1, 64), f, nil
}

// Getenv looks up an environment variable; os.Getenv fits.
type Getenv func(string) string

// Load resolves the configuration. goos is runtime.GOOS in production.
func Load(getenv Getenv, goos string) (Config, error) {
	c := Config{
		KeyringMode:  orDefault(getenv("PSN_KEYRING"), "system"),
		APIURL:       orDefault(getenv("PSN_X_API_URL"), DefaultAPIURL),
		AuthURL:      orDefault(getenv("PSN_X_AUTH_URL"), DefaultAuthURL),
		TokenURL:     orDefault(getenv("PSN_X_TOKEN_URL"), DefaultTokenURL),
		CallbackAddr: orDefault(getenv("PSN_CALLBACK_ADDR"), DefaultCallbackAddr),
		TZ:           getenv("PSN_TZ"),
		ClientID:     getenv("X_CLIENT_ID"),
		ClientSecret: getenv("X_CLIENT_SECRET"),
		SessionBus:   getenv("DBUS_SESSION_BUS_ADDRESS"),
	}
	switch v := getenv("PSN_NOTIFY"); v {
	case "", "1":
		c.Notify = true
	case "0":
	default:
		return Config{}, fmt.Errorf("PSN_NOTIFY must be \"0\" (no desktop notifications) or \"1\", not %q", v)
	}
	if v := getenv("PSN_MONTHLY_BUDGET"); v != "" {
		b, _, err := ParseBudget(v)
		if err != nil {
			return Config{}, err
		}
		c.Budget = b
	}
	for _, u := range []struct{ name, v string }{
		{"PSN_X_API_URL", c.APIURL}, {"PSN_X_AUTH_URL", c.AuthURL}, {"PSN_X_TOKEN_URL", c.TokenURL},
	} {
		if err := checkURL(u.name, u.v); err != nil {
			return Config{}, err
		}
	}
	// A zone Go cannot load is refused here, by the daemon as by every
	// command: a daemon that started with it would answer no zone, and
	// commands would silently fall back to the system's.
	if c.TZ != "" {
		if _, err := time.LoadLocation(c.TZ); err != nil {
			return Config{}, fmt.Errorf("PSN_TZ: unknown time zone %q (want an IANA name such as Europe/Paris)", c.TZ)
		}
	}
	if c.KeyringMode != "system" && c.KeyringMode != "file" {
		return Config{}, fmt.Errorf("PSN_KEYRING must be \"system\" or \"file\", not %q", c.KeyringMode)
	}
	pf, err := parsePreflight(getenv("PSN_PREFLIGHT"))
	if err != nil {
		return Config{}, err
	}
	c.Preflight = pf
	home, err := DataDir(getenv, goos)
	if err != nil {
		return Config{}, err
	}
	c.Home = home
	return c, nil
}

// FromEnv is Load with the process environment.
func FromEnv() (Config, error) { return Load(os.Getenv, runtime.GOOS) }

// DataDir returns $PSN_HOME, else $XDG_DATA_HOME/psn (default
// ~/.local/share/psn), or ~/Library/Application Support/psn on macOS. The
// result is absolute: the keyring entry and the service unit depend on it.
//
// A relative PSN_HOME is refused, by the daemon and every command alike:
// each process would resolve it against its own working directory, so a
// daemon started in one directory and a command run in another would use
// two different data directories (and the command would not find the
// daemon). The error names the absolute path it would have meant here.
func DataDir(getenv Getenv, goos string) (string, error) {
	if h := getenv("PSN_HOME"); h != "" {
		if !filepath.IsAbs(h) {
			msg := fmt.Sprintf("PSN_HOME=%q is a relative path, which each psnd command would resolve in its own directory; set an absolute path", h)
			if abs, err := filepath.Abs(h); err == nil {
				msg += fmt.Sprintf(" (here: PSN_HOME=%s)", abs)
			}
			return "", errors.New(msg)
		}
		return filepath.Clean(h), nil
	}
	home := getenv("HOME")
	if goos == "darwin" {
		if home == "" {
			return "", errors.New("cannot find the data directory: HOME is not set (set PSN_HOME)")
		}
		return filepath.Join(home, "Library", "Application Support", "psn"), nil
	}
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "psn"), nil
	}
	if home == "" {
		return "", errors.New("cannot find the data directory: neither PSN_HOME, XDG_DATA_HOME nor HOME is set")
	}
	return filepath.Join(home, ".local", "share", "psn"), nil
}

// DBPath is the SQLite database inside the data directory.
func (c Config) DBPath() string { return filepath.Join(c.Home, "psn.db") }

// SocketPath is the daemon's local API socket.
func (c Config) SocketPath() string { return filepath.Join(c.Home, "psnd.sock") }

// LockPath is the file naming the running daemon's pid (the lock itself
// is on the data directory: see internal/daemon/lock.go).
func (c Config) LockPath() string { return filepath.Join(c.Home, "psnd.lock") }

// MasterKeyPath is where PSN_KEYRING=file keeps the data key.
func (c Config) MasterKeyPath() string { return filepath.Join(c.Home, "master.key") }

// SandboxDir is the sandbox's own data directory (`psnd serve --sandbox`):
// its database, key file and media copies, apart from the real ones. The
// socket and lock stay in Home, where every client looks.
func (c Config) SandboxDir() string { return filepath.Join(c.Home, "sandbox") }

// maxPreflight bounds PSN_PREFLIGHT: X's media ids live a day, so media
// uploaded earlier could expire before the post is due.
const maxPreflight = 24 * time.Hour

// parsePreflight reads PSN_PREFLIGHT: a Go duration ("15m", "1h30m"), "0"
// for off; unset is the default.
func parsePreflight(v string) (time.Duration, error) {
	if v == "" {
		return DefaultPreflight, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxPreflight {
		return 0, fmt.Errorf("PSN_PREFLIGHT must be a duration from 0 (off) to 24h, such as 15m or 1h, not %q", v)
	}
	return d, nil
}

// checkURL refuses an X endpoint that is not an absolute http(s) URL, so
// a typo is one line at start rather than a failure at the first request.
func checkURL(name, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s must be an absolute http(s) URL, not %q", name, v)
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
