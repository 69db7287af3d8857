package service

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

const unitTemplate = `# psnd user service, written by ` + "`psnd service install`" + `; the next install
# overwrites changes here (put local overrides in ` + "`systemctl --user edit psnd`" + `).
[Unit]
Description=psnd - scheduled posts to X
Documentation=%s
# Stop restarting after 5 failed starts within 5 minutes (a crash loop, such as
# a broken database, should not spin forever). ` + "`psnd service install`" + ` or
# ` + "`systemctl --user reset-failed psnd`" + ` lets it start again.
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
Type=simple
ExecStart=%s serve
Restart=on-failure
RestartSec=5
%s# stdout and stderr go to the journal: journalctl --user -u psnd -f
# No DISPLAY, WAYLAND_DISPLAY or XAUTHORITY here: the CLI opens the browser for
# login, never the daemon. (A service that needed them would depend on the
# desktop running: systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY)
# To run at boot and after logout: loginctl enable-linger $USER. The keyring then
# stays locked until you log in, and psnd waits for it.

[Install]
WantedBy=default.target
`

func renderUnit(bin string, env []envVar) ([]byte, error) {
	// systemd refuses to run an executable whose path holds quotes,
	// backslashes or control characters ("Executable name contains special
	// characters"), however they are escaped.
	for _, r := range bin {
		if r == '"' || r == '\'' || r == '\\' || r < 0x20 || r == 0x7f {
			return nil, fmt.Errorf("systemd cannot run a program whose path contains %q: move psnd to a plainer path (%q)", r, bin)
		}
	}
	var envLines strings.Builder
	if len(env) > 0 {
		envLines.WriteString("# Configuration copied from the shell that ran the install, so that the daemon\n# and the CLI agree on the data directory (and so the socket).\n")
	}
	for _, v := range env {
		fmt.Fprintf(&envLines, "Environment=%s\n", quoteUnitWord(v.Name+"="+v.Value))
	}
	execStart := quoteUnitWord(bin)
	return fmt.Appendf(nil, unitTemplate, DocumentationURL, execStart, envLines.String()), nil
}

// quoteUnitWord renders s as one double-quoted word of a unit-file value
// (systemd.syntax(7), systemd.service(5) "Command lines"): backslash and
// double quote are backslash-escaped, control characters become C escapes,
// and % is doubled so it is not read as a specifier. $ is left alone: it is
// literal in Environment= and in ExecStart='s program path (systemd
// substitutes $VAR only in the arguments, and psnd's one argument is "serve").
func quoteUnitWord(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '%':
			b.WriteString("%%")
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// unitEntry is one Key=Value assignment of a unit file.
type unitEntry struct {
	Section, Key, Value string
}

// parseUnitFile reads the assignments of a unit file in order, joining
// continuation lines and skipping comments (systemd.syntax(7)).
func parseUnitFile(content string) ([]unitEntry, error) {
	var out []unitEntry
	section := ""
	sc := bufio.NewScanner(strings.NewReader(content))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	var pending string
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if pending != "" && (strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";")) {
			continue // comments inside a continued value are dropped
		}
		if strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section header %q", n, line)
			}
			section = line[1 : len(line)-1]
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: no '=' in %q", n, line)
		}
		if section == "" {
			return nil, fmt.Errorf("line %d: assignment outside a section", n)
		}
		out = append(out, unitEntry{section, strings.TrimSpace(key), strings.TrimSpace(value)})
	}
	return out, sc.Err()
}

// unitExecBinary returns the program of the unit's (last) ExecStart=,
// resolving quoting, escapes, %% and %h.
func unitExecBinary(content, home string) (string, error) {
	entries, err := parseUnitFile(content)
	if err != nil {
		return "", err
	}
	value := ""
	for _, e := range entries {
		if e.Section == "Service" && e.Key == "ExecStart" {
			value = e.Value // an empty assignment resets the list
		}
	}
	if value == "" {
		return "", fmt.Errorf("no ExecStart= in [Service]")
	}
	words, err := splitUnitWords(value)
	if err != nil {
		return "", fmt.Errorf("ExecStart: %w", err)
	}
	if len(words) == 0 {
		return "", fmt.Errorf("empty ExecStart")
	}
	return expandSpecifiers(strings.TrimLeft(words[0], "@-:+!"), home), nil
}

// expandSpecifiers resolves %% and %h; other specifiers are left as written.
func expandSpecifiers(s, home string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) {
			switch s[i+1] {
			case '%':
				b.WriteByte('%')
				i++
				continue
			case 'h':
				b.WriteString(home)
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitUnitWords splits a unit-file value into words the way systemd does
// for ExecStart= and Environment=: whitespace separates words, single or
// double quotes group, and C-style backslash escapes are resolved inside and
// outside quotes.
func splitUnitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\\':
			dec, n, err := unescapeC(s[i:])
			if err != nil {
				return nil, err
			}
			cur.WriteString(dec)
			i += n
			inWord = true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// unescapeC decodes one C escape whose backslash has been consumed,
// returning the text and how many bytes of s it used.
func unescapeC(s string) (string, int, error) {
	if s == "" {
		return "", 0, fmt.Errorf("trailing backslash")
	}
	simple := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
		'\\': `\`, '"': `"`, '\'': "'", 's': " "}
	if v, ok := simple[s[0]]; ok {
		return v, 1, nil
	}
	number := func(digits, base int) (string, int, error) {
		if len(s) < 1+digits {
			return "", 0, fmt.Errorf("short escape \\%s", s)
		}
		v, err := strconv.ParseUint(s[1:1+digits], base, 32)
		if err != nil || v == 0 {
			return "", 0, fmt.Errorf("bad escape \\%s", s[:1+digits])
		}
		if s[0] == 'x' || (s[0] >= '0' && s[0] <= '7') {
			return string([]byte{byte(v)}), 1 + digits, nil
		}
		return string(rune(v)), 1 + digits, nil
	}
	switch {
	case s[0] == 'x':
		return number(2, 16)
	case s[0] == 'u':
		return number(4, 16)
	case s[0] == 'U':
		return number(8, 16)
	case s[0] >= '0' && s[0] <= '7':
		if len(s) < 3 {
			return "", 0, fmt.Errorf("short escape \\%s", s)
		}
		v, err := strconv.ParseUint(s[:3], 8, 8)
		if err != nil || v == 0 {
			return "", 0, fmt.Errorf("bad escape \\%s", s[:3])
		}
		return string([]byte{byte(v)}), 3, nil
	}
	return "", 0, fmt.Errorf("unknown escape \\%c", s[0])
}

// systemctl runs `systemctl --user args...`, mapping "no user manager" to
// ErrUnavailable.
func (m *Manager) systemctl(ctx context.Context, args ...string) (Result, error) {
	res, err := m.run(ctx, "systemctl", append([]string{"--user"}, args...)...)
	if err != nil {
		return res, err
	}
	if msg := firstLine(res.Stderr); strings.Contains(msg, "Failed to connect to") && strings.Contains(msg, "bus") {
		return res, unavailable("the systemd user manager is not reachable (%s); run `psnd serve` yourself or use --print", msg)
	}
	return res, nil
}

// checkUserManager refuses early when no user manager can be reached:
// systemctl --user needs XDG_RUNTIME_DIR (or a session bus address), which
// su, sudo and some ssh setups do not provide.
func (m *Manager) checkUserManager() error {
	if getenv(m.cfg.Env, "XDG_RUNTIME_DIR") == "" && getenv(m.cfg.Env, "DBUS_SESSION_BUS_ADDRESS") == "" {
		return unavailable("the systemd user manager is not reachable (XDG_RUNTIME_DIR is not set: no login session?); run `psnd serve` yourself or use --print")
	}
	return nil
}

func (m *Manager) installSystemd(ctx context.Context, content []byte) error {
	if err := m.checkUserManager(); err != nil {
		return err
	}
	res, err := m.systemctl(ctx, "is-active", UnitName)
	if err != nil {
		return err
	}
	state := firstLine(res.Stdout)
	changed, err := writeIfChanged(m.path, content)
	if err != nil {
		return err
	}
	if _, err := m.systemctlOK(ctx, "daemon-reload"); err != nil {
		return err
	}
	if state == "failed" {
		// Clears the start limit too, so a unit that gave up starts again.
		if _, err := m.systemctlOK(ctx, "reset-failed", UnitName); err != nil {
			return err
		}
	}
	if _, err := m.systemctlOK(ctx, "enable", "--now", UnitName); err != nil {
		if xdg := getenv(m.cfg.Env, "XDG_CONFIG_HOME"); xdg != "" {
			return fmt.Errorf("%w (the unit is in XDG_CONFIG_HOME=%s; the user manager looks there only if it has the same XDG_CONFIG_HOME)", err, xdg)
		}
		return err
	}
	// enable --now leaves a running unit alone; restart it so a changed
	// file (new binary path, new environment) takes effect.
	if changed && (state == "active" || state == "reloading" || state == "activating") {
		if _, err := m.systemctlOK(ctx, "restart", UnitName); err != nil {
			return err
		}
	}
	return nil
}

// systemctlOK is systemctl that treats a non-zero exit as an error.
func (m *Manager) systemctlOK(ctx context.Context, args ...string) (Result, error) {
	res, err := m.systemctl(ctx, args...)
	if err != nil {
		return res, err
	}
	if res.ExitCode != 0 {
		return res, commandError("systemctl --user "+strings.Join(args, " "), res)
	}
	return res, nil
}

func (m *Manager) uninstallSystemd(ctx context.Context) error {
	if err := m.checkUserManager(); err != nil {
		return err
	}
	res, err := m.systemctl(ctx, "disable", "--now", UnitName)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 && !unitMissing(res) {
		return commandError("systemctl --user disable --now "+UnitName, res)
	}
	if err := os.Remove(m.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", m.path, err)
	}
	_, err = m.systemctlOK(ctx, "daemon-reload")
	return err
}

// unitMissing tells whether a failed systemctl call failed only because the
// unit does not exist (already uninstalled).
func unitMissing(res Result) bool {
	s := res.Stderr + res.Stdout
	return strings.Contains(s, "does not exist") || strings.Contains(s, "not loaded") ||
		strings.Contains(s, "No such file or directory") || strings.Contains(s, "not-found")
}

func (m *Manager) statusSystemd(ctx context.Context, st *Status) error {
	if content, err := os.ReadFile(m.path); err == nil {
		st.Installed = true
		bin, err := unitExecBinary(string(content), m.cfg.HomeDir)
		if err != nil {
			st.Detail = fmt.Sprintf("cannot read ExecStart from %s: %v", m.path, err)
		}
		st.Binary = bin
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", m.path, err)
	}
	if err := m.checkUserManager(); err != nil {
		return err
	}
	// is-enabled: exit 0 for enabled/static/alias..., non-zero for
	// disabled/masked/not-found; the word on stdout is what counts.
	res, err := m.systemctl(ctx, "is-enabled", UnitName)
	if err != nil {
		return err
	}
	enabled := firstLine(res.Stdout)
	switch {
	case enabled != "":
	case unitMissing(res):
		enabled = "not-found"
	default:
		return commandError("systemctl --user is-enabled "+UnitName, res)
	}
	st.Enabled = enabled == "enabled" || enabled == "enabled-runtime"
	// is-active: exit 0 only for "active"; "inactive", "failed",
	// "activating" (waiting to restart) and so on exit 3 and are answers,
	// not errors.
	res, err = m.systemctl(ctx, "is-active", UnitName)
	if err != nil {
		return err
	}
	active := firstLine(res.Stdout)
	if active == "" {
		return commandError("systemctl --user is-active "+UnitName, res)
	}
	st.Running = active == "active" || active == "reloading"
	st.addDetail(enabled + ", " + active)
	return nil
}
