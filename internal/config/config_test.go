package config

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones of TestLoad and TestBadTZ on any machine
)

// TestRelativeHomeRefused: a relative PSN_HOME would be resolved in each
// process's own working directory (the daemon's and every command's), so
// it is refused with the absolute path it would mean here; an absolute one
// is kept (cleaned).
func TestRelativeHomeRefused(t *testing.T) {
	env := func(home string) Getenv {
		return func(k string) string {
			if k == "PSN_HOME" {
				return home
			}
			return ""
		}
	}
	for _, rel := range []string{"data", "./data", "../psn", "~/psn"} {
		_, err := Load(env(rel), "linux")
		if err == nil || !strings.Contains(err.Error(), "PSN_HOME=\""+rel+"\" is a relative path") || !strings.Contains(err.Error(), "(here: PSN_HOME=/") {
			t.Errorf("PSN_HOME=%s: err = %v, want a refusal naming the absolute path", rel, err)
		}
	}
	c, err := Load(env("/srv/psn/"), "linux")
	if err != nil || c.Home != "/srv/psn" {
		t.Errorf("absolute PSN_HOME: %+v %v", c.Home, err)
	}
}

func envOf(vars map[string]string) Getenv { return func(k string) string { return vars[k] } }

// TestDataDir: PSN_HOME wins everywhere; otherwise XDG_DATA_HOME/psn, then
// ~/.local/share/psn on Linux and ~/Library/Application Support/psn on
// macOS (which ignores XDG). A relative XDG_DATA_HOME is ignored, as the
// XDG spec asks. Non-ASCII paths pass through unchanged.
func TestDataDir(t *testing.T) {
	for _, c := range []struct {
		goos string
		vars map[string]string
		want string
	}{
		{"linux", map[string]string{"HOME": "/home/al"}, "/home/al/.local/share/psn"},
		{"linux", map[string]string{"HOME": "/home/al", "XDG_DATA_HOME": "/data/x"}, "/data/x/psn"},
		{"linux", map[string]string{"HOME": "/home/al", "XDG_DATA_HOME": "rel/x"}, "/home/al/.local/share/psn"},
		{"linux", map[string]string{"XDG_DATA_HOME": "/data/x"}, "/data/x/psn"},
		{"linux", map[string]string{"HOME": "/home/al", "XDG_DATA_HOME": "/data/x", "PSN_HOME": "/srv/psn"}, "/srv/psn"},
		{"freebsd", map[string]string{"HOME": "/home/al"}, "/home/al/.local/share/psn"},
		{"darwin", map[string]string{"HOME": "/Users/al"}, "/Users/al/Library/Application Support/psn"},
		{"darwin", map[string]string{"HOME": "/Users/al", "XDG_DATA_HOME": "/data/x"}, "/Users/al/Library/Application Support/psn"},
		{"darwin", map[string]string{"PSN_HOME": "/Volumes/Ext/psn"}, "/Volumes/Ext/psn"},
		{"linux", map[string]string{"HOME": "/home/İlkay/データ"}, "/home/İlkay/データ/.local/share/psn"},
		{"linux", map[string]string{"PSN_HOME": "/srv//psn/./data/"}, "/srv/psn/data"},
	} {
		got, err := DataDir(envOf(c.vars), c.goos)
		if err != nil || got != c.want {
			t.Errorf("%s %v: %q, %v; want %q", c.goos, c.vars, got, err, c.want)
		}
	}
}

// TestDataDirNowhere: without any of the variables there is no data
// directory, and the error says which variable to set, on one line.
func TestDataDirNowhere(t *testing.T) {
	for _, c := range []struct {
		goos string
		vars map[string]string
		want string
	}{
		{"linux", map[string]string{}, "neither PSN_HOME, XDG_DATA_HOME nor HOME is set"},
		{"linux", map[string]string{"XDG_DATA_HOME": "relative"}, "neither PSN_HOME, XDG_DATA_HOME nor HOME is set"},
		{"darwin", map[string]string{"XDG_DATA_HOME": "/data/x"}, "HOME is not set (set PSN_HOME)"},
	} {
		_, err := Load(envOf(c.vars), c.goos)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %v: err = %v, want one line with %q", c.goos, c.vars, err, c.want)
		}
	}
}

// TestLoad: the SPEC §7 defaults, each variable overriding its own, and
// the files every process agrees on inside the data directory.
func TestLoad(t *testing.T) {
	c, err := Load(envOf(map[string]string{"PSN_HOME": "/p"}), "linux")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Home: "/p", KeyringMode: "system", APIURL: DefaultAPIURL, AuthURL: DefaultAuthURL,
		TokenURL: DefaultTokenURL, CallbackAddr: DefaultCallbackAddr, Notify: true, Preflight: DefaultPreflight}
	if c != want {
		t.Errorf("defaults: %+v\nwant %+v", c, want)
	}
	c, err = Load(envOf(map[string]string{
		"PSN_HOME": "/p", "PSN_KEYRING": "file", "PSN_X_API_URL": "http://127.0.0.1:9/api",
		"PSN_X_AUTH_URL": "http://127.0.0.1:9/auth", "PSN_X_TOKEN_URL": "http://127.0.0.1:9/token",
		"PSN_CALLBACK_ADDR": "127.0.0.1:0", "PSN_TZ": "Asia/Tokyo", "X_CLIENT_ID": "id", "X_CLIENT_SECRET": "s3cret",
		"PSN_NOTIFY": "0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
		"PSN_PREFLIGHT": "1h30m",
	}), "linux")
	if err != nil {
		t.Fatal(err)
	}
	want = Config{Home: "/p", KeyringMode: "file", APIURL: "http://127.0.0.1:9/api", AuthURL: "http://127.0.0.1:9/auth",
		TokenURL: "http://127.0.0.1:9/token", CallbackAddr: "127.0.0.1:0", TZ: "Asia/Tokyo", ClientID: "id", ClientSecret: "s3cret",
		SessionBus: "unix:path=/run/user/1000/bus",
		Preflight:  90 * time.Minute}
	if c != want {
		t.Errorf("overrides: %+v\nwant %+v", c, want)
	}
	for got, want := range map[string]string{
		c.DBPath(): "/p/psn.db", c.SocketPath(): "/p/psnd.sock", c.LockPath(): "/p/psnd.lock",
		c.MasterKeyPath(): "/p/master.key", c.SandboxDir(): "/p/sandbox",
	} {
		if got != want {
			t.Errorf("path %q, want %q", got, want)
		}
	}
}

// TestBadKeyringMode: an unknown PSN_KEYRING is refused with one line
// naming the accepted values, not silently treated as the default.
func TestBadKeyringMode(t *testing.T) {
	for _, mode := range []string{"System", "keychain", "fıle"} {
		_, err := Load(envOf(map[string]string{"PSN_HOME": "/p", "PSN_KEYRING": mode}), "linux")
		if err == nil || !strings.Contains(err.Error(), `"system" or "file"`) || !strings.Contains(err.Error(), mode) {
			t.Errorf("PSN_KEYRING=%s: err = %v", mode, err)
		}
	}
}

func TestParseBudget(t *testing.T) {
	for _, c := range []struct {
		in, canon string
		usd       float64
		bad       bool
	}{
		{in: "5", canon: "5", usd: 5},
		{in: "12.50", canon: "12.5", usd: 12.5},
		{in: " $20 ", canon: "20", usd: 20},
		{in: "0", canon: "0", usd: 0},
		{in: "none", canon: "none", usd: -1},
		{in: "NONE", canon: "none", usd: -1},
		{in: "lots", bad: true},
		{in: "-1", bad: true},
		{in: "1e3", bad: true},
		{in: "inf", bad: true},
		{in: "NaN", bad: true},
		{in: "0x10", bad: true},
		{in: "5 €", bad: true},
		{in: "٥", bad: true}, // Arabic-Indic five
	} {
		canon, usd, err := ParseBudget(c.in)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "PSN_MONTHLY_BUDGET must be an amount of US dollars") {
				t.Errorf("%q: %q %v %v, want an error", c.in, canon, usd, err)
			}
			continue
		}
		if err != nil || canon != c.canon || usd != c.usd {
			t.Errorf("%q: %q %v %v, want %q %v", c.in, canon, usd, err, c.canon, c.usd)
		}
	}
	// Load refuses a bad value with the same one line; empty is unset.
	env := map[string]string{"PSN_HOME": "/tmp/x", "PSN_MONTHLY_BUDGET": "lots"}
	if _, err := Load(func(k string) string { return env[k] }, "linux"); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("Load with a bad budget: %v", err)
	}
	env["PSN_MONTHLY_BUDGET"] = ""
	if c, err := Load(func(k string) string { return env[k] }, "linux"); err != nil || c.Budget != "" {
		t.Errorf("Load with an empty budget: %+v %v", c, err)
	}
}

// TestNotify: desktop notifications are on unless PSN_NOTIFY=0; any other
// value is refused in one line rather than guessed at.
func TestNotify(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{{"", true}, {"1", true}, {"0", false}} {
		got, err := Load(envOf(map[string]string{"PSN_HOME": "/srv/psn", "PSN_NOTIFY": c.v}), "linux")
		if err != nil || got.Notify != c.want {
			t.Errorf("PSN_NOTIFY=%q: Notify %v, %v; want %v", c.v, got.Notify, err, c.want)
		}
	}
	for _, v := range []string{"no", "false", "０"} {
		_, err := Load(envOf(map[string]string{"PSN_HOME": "/srv/psn", "PSN_NOTIFY": v}), "linux")
		if err == nil || !strings.Contains(err.Error(), "PSN_NOTIFY must be") || strings.Contains(err.Error(), "\n") {
			t.Errorf("PSN_NOTIFY=%q: err %v, want one line refusing it", v, err)
		}
	}
	got, _ := Load(envOf(map[string]string{"PSN_HOME": "/srv/psn", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}), "linux")
	if got.SessionBus != "unix:path=/run/user/1000/bus" {
		t.Errorf("SessionBus %q", got.SessionBus)
	}
}

// TestPreflight: PSN_PREFLIGHT takes a duration, "0" turns pre-flight off,
// and anything else is refused with one line naming the value.
func TestPreflight(t *testing.T) {
	for v, want := range map[string]time.Duration{"0": 0, "15m": 15 * time.Minute, "2h": 2 * time.Hour, "90s": 90 * time.Second} {
		c, err := Load(envOf(map[string]string{"PSN_HOME": "/p", "PSN_PREFLIGHT": v}), "linux")
		if err != nil || c.Preflight != want {
			t.Errorf("PSN_PREFLIGHT=%s: %v, %v; want %v", v, c.Preflight, err, want)
		}
	}
	for _, v := range []string{"15", "-5m", "fifteen minutes", "25h", "15 m", "１５m"} {
		_, err := Load(envOf(map[string]string{"PSN_HOME": "/p", "PSN_PREFLIGHT": v}), "linux")
		if err == nil || !strings.Contains(err.Error(), "PSN_PREFLIGHT") || !strings.Contains(err.Error(), v) || strings.Contains(err.Error(), "\n") {
			t.Errorf("PSN_PREFLIGHT=%s: err = %v", v, err)
		}
	}
}

// TestBadTZ: a PSN_TZ that is no time zone is refused in one line, by the
// daemon as by every command. The daemon used to start with it and answer
// no zone, so commands without their own PSN_TZ silently read and showed
// times in the system's zone instead of the one the user meant.
func TestBadTZ(t *testing.T) {
	for _, tz := range []string{"Europe/Pari", "Mars/Olympus", "CET+1"} {
		_, err := Load(envOf(map[string]string{"PSN_HOME": "/p", "PSN_TZ": tz}), "linux")
		if err == nil || !strings.Contains(err.Error(), "PSN_TZ") || !strings.Contains(err.Error(), tz) || strings.Contains(err.Error(), "\n") {
			t.Errorf("PSN_TZ=%s: err = %v, want one line refusing it", tz, err)
		}
	}
	for _, tz := range []string{"", "UTC", "Europe/Paris", "America/New_York"} {
		if _, err := Load(envOf(map[string]string{"PSN_HOME": "/p", "PSN_TZ": tz}), "linux"); err != nil {
			t.Errorf("PSN_TZ=%q: %v", tz, err)
		}
	}
}

// TestBadURLs: X's endpoints must be absolute http(s) URLs; anything else is
// one line naming the variable at start, not a package's error (the API
// URL's) or a failure at the first login (the OAuth URLs').
func TestBadURLs(t *testing.T) {
	for _, name := range []string{"PSN_X_API_URL", "PSN_X_AUTH_URL", "PSN_X_TOKEN_URL"} {
		for _, v := range []string{"notaurl", "api.x.com", "ftp://api.x.com", "https://"} {
			_, err := Load(envOf(map[string]string{"PSN_HOME": "/p", name: v}), "linux")
			if err == nil || !strings.HasPrefix(err.Error(), name+" must be") || !strings.Contains(err.Error(), v) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s=%s: err = %v, want one line refusing it", name, v, err)
			}
		}
	}
}
