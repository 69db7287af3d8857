package service

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// trickyEnv exercises every escaping rule: spaces, quotes, backslashes,
// specifiers, dollars, XML metacharacters and a tab. It also carries
// variables that must not reach the service.
func trickyEnv() []string {
	return []string{
		"PATH=/usr/bin:/bin",
		"HOME=/home/alice",
		"PSN_HOME=/home/alice/my data/psn",
		"PSN_KEYRING=file",
		"PSN_TZ=Europe/Paris",
		"PSN_NOTIFY=0",
		"PSN_CALLBACK_ADDR=", // set but empty: the default applies
		"PSN_X_API_URL=http://127.0.0.1:9/x?a=1&b=%20<c>",
		`PSN_X_WEIRD=say "hi" it's $HOME ${X} $$ 100% %h back\slash` + "\ttab",
		"PSN_SHARED_DIR=/tests/only",
		"X_CLIENT_ID=abc",
		"X_CLIENT_SECRET=do-not-write-me",
		"XDG_DATA_HOME=/home/alice/.local/share",
	}
}

func trickyWantEnv() map[string]string {
	return map[string]string{
		"PSN_HOME":      "/home/alice/my data/psn",
		"PSN_KEYRING":   "file",
		"PSN_TZ":        "Europe/Paris",
		"PSN_NOTIFY":    "0",
		"PSN_X_API_URL": "http://127.0.0.1:9/x?a=1&b=%20<c>",
		"PSN_X_WEIRD":   `say "hi" it's $HOME ${X} $$ 100% %h back\slash` + "\ttab",
		"XDG_DATA_HOME": "/home/alice/.local/share",
	}
}

const trickyBin = "/opt/my apps/100% $HOME/psnd"

func TestRenderUnitStructure(t *testing.T) {
	t.Parallel()
	cfg := Config{HomeDir: "/home/alice", BinaryPath: trickyBin, Env: trickyEnv(), GOOS: "linux"}
	out, err := Render(Systemd, cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, secret := range []string{"do-not-write-me", "X_CLIENT", "PSN_SHARED_DIR", "PSN_CALLBACK_ADDR"} {
		if strings.Contains(text, secret) {
			t.Errorf("unit mentions %q:\n%s", secret, text)
		}
	}
	entries, err := parseUnitFile(text)
	if err != nil {
		t.Fatalf("parse unit: %v\n%s", err, text)
	}
	var sections []string
	keys := map[string][]string{} // "Section.Key" -> values in order
	for _, e := range entries {
		if len(sections) == 0 || sections[len(sections)-1] != e.Section {
			sections = append(sections, e.Section)
		}
		keys[e.Section+"."+e.Key] = append(keys[e.Section+"."+e.Key], e.Value)
	}
	if want := []string{"Unit", "Service", "Install"}; !reflect.DeepEqual(sections, want) {
		t.Errorf("sections = %v, want %v", sections, want)
	}
	single := map[string]string{
		"Unit.Description":           "psnd - scheduled posts to X",
		"Unit.Documentation":         DocumentationURL,
		"Unit.StartLimitIntervalSec": "300",
		"Unit.StartLimitBurst":       "5",
		"Service.Type":               "simple",
		"Service.Restart":            "on-failure",
		"Service.RestartSec":         "5",
		// %% because % starts a specifier; $ stays single because the
		// program path is not subject to $VAR substitution.
		"Service.ExecStart": `"/opt/my apps/100%% $HOME/psnd" serve`,
		"Install.WantedBy":  "default.target",
	}
	for k, want := range single {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want exactly [%q]", k, got, want)
		}
	}
	// The journal is systemd's default for stdout/stderr; the unit must
	// not redirect it, nor pass a display to the daemon.
	for _, k := range []string{"Service.StandardOutput", "Service.StandardError", "Service.PassEnvironment", "Unit.StartLimitInterval"} {
		if _, ok := keys[k]; ok {
			t.Errorf("unexpected %s", k)
		}
	}
	words, err := splitUnitWords(keys["Service.ExecStart"][0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range words {
		words[i] = expandSpecifiers(words[i], cfg.HomeDir)
	}
	if want := []string{trickyBin, "serve"}; !reflect.DeepEqual(words, want) {
		t.Errorf("ExecStart words = %q, want %q", words, want)
	}
	if !filepath.IsAbs(words[0]) {
		t.Errorf("ExecStart program %q is not absolute", words[0])
	}
	if bin, err := unitExecBinary(text, cfg.HomeDir); err != nil || bin != trickyBin {
		t.Errorf("unitExecBinary = %q, %v; want %q", bin, err, trickyBin)
	}

	gotEnv := map[string]string{}
	for _, line := range keys["Service.Environment"] {
		// Environment= resolves specifiers on the whole value, then splits.
		ws, err := splitUnitWords(expandSpecifiers(line, cfg.HomeDir))
		if err != nil {
			t.Fatalf("Environment=%s: %v", line, err)
		}
		if len(ws) != 1 {
			t.Errorf("Environment=%s: %d words, want one per line", line, len(ws))
		}
		for _, w := range ws {
			k, v, _ := strings.Cut(w, "=")
			gotEnv[k] = v
		}
	}
	if want := trickyWantEnv(); !reflect.DeepEqual(gotEnv, want) {
		t.Errorf("Environment =\n%q\nwant\n%q", gotEnv, want)
	}
	if !strings.Contains(text, `Environment="PSN_X_WEIRD=say \"hi\" it's $HOME ${X} $$ 100%% %%h back\\slash\ttab"`) {
		t.Errorf("PSN_X_WEIRD not escaped as expected:\n%s", text)
	}
	for _, hint := range []string{"journalctl --user -u psnd", "loginctl enable-linger", "import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY"} {
		if !strings.Contains(text, hint) {
			t.Errorf("unit lacks the hint %q", hint)
		}
	}
}

func TestRenderUnitWithoutEnv(t *testing.T) {
	t.Parallel()
	out, err := Render(Systemd, Config{BinaryPath: "/usr/bin/psnd", Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "Environment=") || strings.Contains(string(out), "Configuration copied") {
		t.Errorf("unit has environment lines without PSN_* set:\n%s", out)
	}
}

func TestRenderRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flavour Flavour
		cfg     Config
		want    string
	}{
		{"relative binary", Systemd, Config{BinaryPath: "bin/psnd"}, "not absolute"},
		{"quote in path", Systemd, Config{BinaryPath: `/opt/a"b/psnd`}, "systemd cannot run"},
		{"backslash in path", Systemd, Config{BinaryPath: `/opt/a\b/psnd`}, "systemd cannot run"},
		{"newline in path", Systemd, Config{BinaryPath: "/opt/a\nb/psnd"}, "systemd cannot run"},
		{"relative PSN_HOME", Systemd, Config{BinaryPath: "/bin/psnd", Env: []string{"PSN_HOME=data"}}, "relative"},
		{"bad utf-8", Systemd, Config{BinaryPath: "/bin/psnd", Env: []string{"PSN_TZ=\xff"}}, "UTF-8"},
		{"bad env name", Systemd, Config{BinaryPath: "/bin/psnd", Env: []string{"PSN_X_A-B=1"}}, "cannot be passed"},
		{"control char in plist", Launchd, Config{HomeDir: "/Users/a", BinaryPath: "/bin/psnd", Env: []string{"PSN_TZ=a\x01b"}}, "plist cannot hold"},
		{"relative home for plist", Launchd, Config{HomeDir: "home", BinaryPath: "/bin/psnd"}, "not an absolute path"},
		{"unknown flavour", "upstart", Config{BinaryPath: "/bin/psnd"}, "unknown service flavour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.flavour, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestUnitWordRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", "two words", `"`, `\`, `\\`, `a\`, "%", "%%", "%h", "$", "$$", "${X}",
		"'single'", "tab\there", "nl\nx", "cr\rx", "bell\a", "\x01\x1f\x7f", "é ü 日本", "end space ",
	} {
		q := quoteUnitWord(s)
		if strings.ContainsAny(q, "\n\r") {
			t.Errorf("quoteUnitWord(%q) = %q spans lines", s, q)
		}
		words, err := splitUnitWords(q)
		if err != nil {
			t.Errorf("splitUnitWords(%q): %v", q, err)
			continue
		}
		if len(words) != 1 || expandSpecifiers(words[0], "/h") != s {
			t.Errorf("round trip of %q via %q = %q", s, q, words)
		}
	}
}

func TestRenderPlistStructure(t *testing.T) {
	t.Parallel()
	bin := "/Users/alice/bin & <tools>/psnd 'x' \"y\""
	cfg := Config{HomeDir: "/Users/alice", BinaryPath: bin, Env: trickyEnv(), GOOS: "darwin", UID: 501}
	out, err := Render(Launchd, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`+"\n")) {
		t.Errorf("plist lacks the XML declaration and Apple DTD:\n%s", out)
	}
	if !bytes.Contains(out, []byte(`<plist version="1.0">`)) {
		t.Errorf("plist lacks <plist version=\"1.0\">")
	}
	for _, secret := range []string{"do-not-write-me", "X_CLIENT", "PSN_SHARED_DIR"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("plist mentions %q", secret)
		}
	}
	// Well-formed for a plain strict XML decoder too.
	d := xml.NewDecoder(bytes.NewReader(out))
	d.Strict = true
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("xml: %v", err)
			}
			break
		}
	}

	root, err := decodePlist(out)
	if err != nil {
		t.Fatalf("decode plist: %v\n%s", err, out)
	}
	if root.Kind != "dict" {
		t.Fatalf("root is <%s>, want <dict>", root.Kind)
	}
	wantKeys := []string{"Label", "ProgramArguments", "RunAtLoad", "KeepAlive", "ProcessType",
		"StandardOutPath", "StandardErrorPath", "EnvironmentVariables"}
	if !reflect.DeepEqual(root.Keys, wantKeys) {
		t.Errorf("keys = %v, want %v", root.Keys, wantKeys)
	}
	str := func(key, want string) {
		t.Helper()
		v := root.Dict[key]
		if v == nil || v.Kind != "string" || v.Text != want {
			t.Errorf("%s = %+v, want <string>%s</string>", key, v, want)
		}
	}
	str("Label", Label)
	str("ProcessType", "Background")
	logPath := "/Users/alice/Library/Logs/psnd/psnd.log"
	str("StandardOutPath", logPath)
	str("StandardErrorPath", logPath)

	args := root.Dict["ProgramArguments"]
	if args == nil || args.Kind != "array" || len(args.Array) != 2 {
		t.Fatalf("ProgramArguments = %+v, want an array of 2", args)
	}
	for i, want := range []string{bin, "serve"} {
		if a := args.Array[i]; a.Kind != "string" || a.Text != want {
			t.Errorf("ProgramArguments[%d] = %+v, want %q", i, a, want)
		}
	}
	if !filepath.IsAbs(args.Array[0].Text) {
		t.Errorf("program %q is not absolute", args.Array[0].Text)
	}
	if v := root.Dict["RunAtLoad"]; v == nil || v.Kind != "true" {
		t.Errorf("RunAtLoad = %+v, want <true/>", v)
	}
	ka := root.Dict["KeepAlive"]
	if ka == nil || ka.Kind != "dict" || len(ka.Keys) != 1 || ka.Dict["SuccessfulExit"] == nil || ka.Dict["SuccessfulExit"].Kind != "false" {
		t.Errorf("KeepAlive = %+v, want {SuccessfulExit: false}", ka)
	}
	ev := root.Dict["EnvironmentVariables"]
	if ev == nil || ev.Kind != "dict" {
		t.Fatalf("EnvironmentVariables = %+v, want a dict", ev)
	}
	gotEnv := map[string]string{}
	for _, k := range ev.Keys {
		if ev.Dict[k].Kind != "string" {
			t.Errorf("EnvironmentVariables[%s] is <%s>", k, ev.Dict[k].Kind)
		}
		gotEnv[k] = ev.Dict[k].Text
	}
	wantEnv := trickyWantEnv()
	wantEnv["PATH"] = launchdPATH
	if !reflect.DeepEqual(gotEnv, wantEnv) {
		t.Errorf("EnvironmentVariables =\n%q\nwant\n%q", gotEnv, wantEnv)
	}
	if got, err := plistProgram(out); err != nil || got != bin {
		t.Errorf("plistProgram = %q, %v; want %q", got, err, bin)
	}
}

// TestRenderPlistPython checks the plist with an independent reader
// (Python's plistlib) when python3 is around.
func TestRenderPlistPython(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	bin := "/Users/a/b & <c>/psnd"
	out, err := Render(Launchd, Config{HomeDir: "/Users/a", BinaryPath: bin, Env: trickyEnv()})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", `import plistlib,sys,json; d=plistlib.loads(sys.stdin.buffer.read()); print(json.dumps([d["ProgramArguments"], d["KeepAlive"], d["EnvironmentVariables"]["PSN_X_WEIRD"]]))`)
	cmd.Stdin = bytes.NewReader(out)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plistlib: %v\n%s", err, got)
	}
	want := `[["/Users/a/b & <c>/psnd", "serve"], {"SuccessfulExit": false}, "say \"hi\" it's $HOME ${X} $$ 100% %h back\\slash\ttab"]`
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("plistlib read\n%s\nwant\n%s", got, want)
	}
}

func TestDecodePlistRejects(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		`<plist version="1.0"></plist>`,
		`<plist version="1.0"><dict><key>a</key></dict></plist>`,
		`<plist version="1.0"><dict><string>a</string></dict></plist>`,
		`<plist version="1.0"><dict><key>a</key><key>b</key></dict></plist>`,
		`<plist version="1.0"><dict><key>a</key><true/><key>a</key><true/></dict></plist>`,
		`<plist version="1.0"><dict/><dict/></plist>`,
		`<plist version="1.0"><blob/></plist>`,
		`<plist version="1.0"><string>a</plist>`,
		`<dict/>`,
	} {
		if _, err := decodePlist([]byte(bad)); err == nil {
			t.Errorf("decodePlist(%s) succeeded", bad)
		}
	}
}

func TestPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    Flavour
		env  []string
		want string
	}{
		{Systemd, nil, "/home/a/.config/systemd/user/psnd.service"},
		{Systemd, []string{"XDG_CONFIG_HOME=/xdg/cfg"}, "/xdg/cfg/systemd/user/psnd.service"},
		{Systemd, []string{"XDG_CONFIG_HOME=relative"}, "/home/a/.config/systemd/user/psnd.service"},
		{Launchd, []string{"XDG_CONFIG_HOME=/xdg/cfg"}, "/home/a/Library/LaunchAgents/dev.psnd.psnd.plist"},
	}
	for _, tt := range tests {
		got, err := Path(tt.f, Config{HomeDir: "/home/a", Env: tt.env})
		if err != nil || got != tt.want {
			t.Errorf("Path(%s, %v) = %q, %v; want %q", tt.f, tt.env, got, err, tt.want)
		}
	}
	if _, err := Path(Systemd, Config{HomeDir: "rel"}); err == nil {
		t.Error("Path accepted a relative home")
	}
}

func TestFlavourFor(t *testing.T) {
	t.Parallel()
	if f, err := FlavourFor("linux"); f != Systemd || err != nil {
		t.Errorf("linux: %v, %v", f, err)
	}
	if f, err := FlavourFor("darwin"); f != Launchd || err != nil {
		t.Errorf("darwin: %v, %v", f, err)
	}
	if _, err := FlavourFor("windows"); err == nil || !strings.Contains(err.Error(), "run `psnd serve` yourself") {
		t.Errorf("windows: %v", err)
	}
}

func TestExecutablePath(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A symlink the user invoked is kept (stable across upgrades) when it
	// is the running binary.
	dir := t.TempDir()
	link := filepath.Join(dir, "psnd")
	if err := os.Symlink(exe, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if got, err := executablePath("psnd", dir); err != nil || got != link {
		t.Errorf("via PATH: %q, %v; want %q", got, err, link)
	}
	if got, err := executablePath(link, ""); err != nil || got != link {
		t.Errorf("via path: %q, %v; want %q", got, err, link)
	}
	// A name that is some other program falls back to os.Executable.
	if got, err := executablePath("sh", "/bin:/usr/bin"); err != nil || got != filepath.Clean(exe) {
		t.Errorf("unrelated arg0: %q, %v; want %q", got, err, exe)
	}
}

func TestTemporaryBuild(t *testing.T) {
	t.Parallel()
	if _, ok := temporaryBuild("/tmp/go-build123/b001/exe/psnd"); !ok {
		t.Error("go run binary not spotted")
	}
	if _, ok := temporaryBuild("/home/a/go/bin/psnd"); ok {
		t.Error("installed binary flagged as temporary")
	}
}
