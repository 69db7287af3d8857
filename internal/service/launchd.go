package service

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const plistHeader = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
`

// renderPlist writes the agent's plist. KeepAlive is {SuccessfulExit: false}
// rather than true, mirroring systemd's Restart=on-failure: launchd restarts
// psnd after a crash or an error exit, but a clean exit (status 0, e.g. psnd
// finding another daemon already serving the socket) stays down instead of
// being respawned every ThrottleInterval forever.
func renderPlist(bin, logPath string, env []envVar) ([]byte, error) {
	for _, s := range append([]string{bin, logPath}, envStrings(env)...) {
		if err := xmlRepresentable(s); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	b.WriteString(plistHeader)
	b.WriteString(`<plist version="1.0">` + "\n<dict>\n")
	key := func(depth int, k string) {
		b.WriteString(strings.Repeat("\t", depth))
		b.WriteString("<key>")
		xml.EscapeText(&b, []byte(k))
		b.WriteString("</key>\n")
	}
	str := func(depth int, s string) {
		b.WriteString(strings.Repeat("\t", depth))
		b.WriteString("<string>")
		xml.EscapeText(&b, []byte(s))
		b.WriteString("</string>\n")
	}
	key(1, "Label")
	str(1, Label)
	key(1, "ProgramArguments")
	b.WriteString("\t<array>\n")
	str(2, bin)
	str(2, "serve")
	b.WriteString("\t</array>\n")
	key(1, "RunAtLoad")
	b.WriteString("\t<true/>\n")
	key(1, "KeepAlive")
	b.WriteString("\t<dict>\n")
	key(2, "SuccessfulExit")
	b.WriteString("\t\t<false/>\n")
	b.WriteString("\t</dict>\n")
	key(1, "ProcessType")
	str(1, "Background")
	key(1, "StandardOutPath")
	str(1, logPath)
	key(1, "StandardErrorPath")
	str(1, logPath)
	key(1, "EnvironmentVariables")
	b.WriteString("\t<dict>\n")
	key(2, "PATH")
	str(2, launchdPATH)
	for _, v := range env {
		key(2, v.Name)
		str(2, v.Value)
	}
	b.WriteString("\t</dict>\n")
	b.WriteString("</dict>\n</plist>\n")
	return b.Bytes(), nil
}

func envStrings(env []envVar) []string {
	var out []string
	for _, v := range env {
		out = append(out, v.Value)
	}
	return out
}

// xmlRepresentable rejects characters XML 1.0 cannot carry at all (most
// control characters): escaping cannot save them, and silently replacing
// them would change a path or a value.
func xmlRepresentable(s string) error {
	for _, r := range s {
		ok := r == '\t' || r == '\n' || r == '\r' ||
			(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return fmt.Errorf("%q contains %U, which a plist cannot hold", s, r)
		}
	}
	return nil
}

// plistValue is a decoded property-list value.
type plistValue struct {
	Kind  string // dict, array, string, integer, real, true, false, date, data
	Text  string // string, integer, real, date, data
	Keys  []string
	Dict  map[string]*plistValue
	Array []*plistValue
}

// decodePlist parses an XML property list strictly: one <plist> element
// holding one value, dicts alternating <key> and value, no unknown elements.
func decodePlist(data []byte) (*plistValue, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *plistValue
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "plist" || root != nil {
				return nil, fmt.Errorf("unexpected <%s> at top level", t.Name.Local)
			}
			v, err := decodePlistElement(d, nil)
			if errors.Is(err, errEndElement) {
				return nil, errors.New("empty <plist>")
			}
			if err != nil {
				return nil, err
			}
			root = v
			if _, err := decodePlistElement(d, nil); !errors.Is(err, errEndElement) {
				return nil, errors.New("<plist> must hold exactly one value")
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("text outside <plist>")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no <plist> element")
	}
	return root, nil
}

var errEndElement = errors.New("end element")

// decodePlistElement reads the next value; start is its start element when
// already consumed. It returns errEndElement on the parent's end tag.
func decodePlistElement(d *xml.Decoder, start *xml.StartElement) (*plistValue, error) {
	for start == nil {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			start = &t
		case xml.EndElement:
			return nil, errEndElement
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, fmt.Errorf("stray text %q", string(t))
			}
		}
	}
	v := &plistValue{Kind: start.Name.Local}
	switch v.Kind {
	case "true", "false", "string", "integer", "real", "date", "data":
		var text string
		if err := d.DecodeElement(&text, start); err != nil {
			return nil, err
		}
		if (v.Kind == "true" || v.Kind == "false") && text != "" {
			return nil, fmt.Errorf("<%s/> must be empty", v.Kind)
		}
		v.Text = text
	case "array":
		for {
			e, err := decodePlistElement(d, nil)
			if errors.Is(err, errEndElement) {
				break
			}
			if err != nil {
				return nil, err
			}
			if e.Kind == "key" {
				return nil, errors.New("array: <key> outside a dict")
			}
			v.Array = append(v.Array, e)
		}
	case "dict":
		v.Dict = map[string]*plistValue{}
		for {
			k, err := decodePlistElement(d, nil)
			if errors.Is(err, errEndElement) {
				break
			}
			if err != nil {
				return nil, err
			}
			if k.Kind != "key" {
				return nil, fmt.Errorf("dict: want <key>, got <%s>", k.Kind)
			}
			if _, dup := v.Dict[k.Text]; dup {
				return nil, fmt.Errorf("dict: duplicate key %q", k.Text)
			}
			val, err := decodePlistElement(d, nil)
			if err != nil {
				return nil, fmt.Errorf("dict key %q: no value", k.Text)
			}
			if val.Kind == "key" {
				return nil, fmt.Errorf("dict key %q: followed by another <key>", k.Text)
			}
			v.Keys = append(v.Keys, k.Text)
			v.Dict[k.Text] = val
		}
	case "key":
		if err := d.DecodeElement(&v.Text, start); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown plist element <%s>", v.Kind)
	}
	return v, nil
}

// plistProgram returns the program a launchd plist runs: Program, or else
// ProgramArguments[0].
func plistProgram(data []byte) (string, error) {
	root, err := decodePlist(data)
	if err != nil {
		return "", err
	}
	if root.Kind != "dict" {
		return "", errors.New("plist root is not a dict")
	}
	if p := root.Dict["Program"]; p != nil && p.Kind == "string" {
		return p.Text, nil
	}
	args := root.Dict["ProgramArguments"]
	if args == nil || args.Kind != "array" || len(args.Array) == 0 || args.Array[0].Kind != "string" {
		return "", errors.New("no Program or ProgramArguments")
	}
	return args.Array[0].Text, nil
}

func (m *Manager) domain() string { return "gui/" + strconv.Itoa(m.cfg.UID) }
func (m *Manager) target() string { return m.domain() + "/" + Label }
func notLoaded(res Result) bool {
	// bootout: 3 "No such process"; print: 113 "Could not find service".
	s := res.Stderr + res.Stdout
	return res.ExitCode == 3 || res.ExitCode == 113 ||
		strings.Contains(s, "No such process") || strings.Contains(s, "Could not find")
}

func (m *Manager) launchctl(ctx context.Context, args ...string) (Result, error) {
	return m.run(ctx, "launchctl", args...)
}

func (m *Manager) bootout(ctx context.Context) error {
	res, err := m.launchctl(ctx, "bootout", m.target())
	if err != nil {
		return err
	}
	if res.ExitCode != 0 && !notLoaded(res) {
		return commandError("launchctl bootout "+m.target(), res)
	}
	return nil
}

// installLaunchd boots the old agent out before writing anything, so a
// missing launchctl is refused with nothing changed on disk.
func (m *Manager) installLaunchd(ctx context.Context, content []byte) error {
	if err := m.bootout(ctx); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(LogPath(m.cfg)), 0o700); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	if _, err := writeIfChanged(m.path, content); err != nil {
		return err
	}
	// Undo a `launchctl disable`, which would make bootstrap fail: an
	// explicit install means the user wants the agent to run.
	res, err := m.launchctl(ctx, "enable", m.target())
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return commandError("launchctl enable "+m.target(), res)
	}
	// bootout returns before the old instance has exited; until it has,
	// bootstrap fails with 5 (EIO) or 37 (EALREADY). Retry briefly.
	for attempt := 1; ; attempt++ {
		res, err := m.launchctl(ctx, "bootstrap", m.domain(), m.path)
		if err != nil {
			return err
		}
		if res.ExitCode == 0 {
			return nil
		}
		if (res.ExitCode != 5 && res.ExitCode != 37) || attempt >= m.bootstrapAttempts {
			return fmt.Errorf("%w (check `plutil -lint %s` and System Settings > Login Items)",
				commandError("launchctl bootstrap "+m.domain()+" "+m.path, res), m.path)
		}
		t := time.NewTimer(m.retryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (m *Manager) uninstallLaunchd(ctx context.Context) error {
	if err := m.bootout(ctx); err != nil {
		return err
	}
	if err := os.Remove(m.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", m.path, err)
	}
	return nil
}

func (m *Manager) statusLaunchd(ctx context.Context, st *Status) error {
	if content, err := os.ReadFile(m.path); err == nil {
		st.Installed = true
		bin, err := plistProgram(content)
		if err != nil {
			st.Detail = fmt.Sprintf("cannot read ProgramArguments from %s: %v", m.path, err)
		}
		st.Binary = bin
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", m.path, err)
	}
	res, err := m.launchctl(ctx, "print", m.target())
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		if notLoaded(res) {
			st.addDetail("not loaded")
			return nil
		}
		return commandError("launchctl print "+m.target(), res)
	}
	// Loaded in gui/<uid>: launchd runs it at login (launchd's "enabled").
	st.Enabled = true
	info := launchdPrintFields(res.Stdout)
	state := info["state"]
	st.Running = state == "running"
	detail := "loaded"
	if state != "" {
		detail += ", " + state
	}
	if pid := info["pid"]; pid != "" {
		detail += ", pid " + pid
	}
	if code := info["last exit code"]; code != "" && code != "(never exited)" && code != "0" {
		detail += ", last exit code " + code
	}
	st.addDetail(detail)
	return nil
}

// launchdPrintFields reads the top-level "name = value" lines of `launchctl
// print` (one tab deep), ignoring nested blocks, whose keys repeat ("state").
func launchdPrintFields(out string) map[string]string {
	fields := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "\t\t") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if !ok || strings.HasSuffix(v, "{") {
			continue
		}
		if _, dup := fields[k]; !dup {
			fields[k] = v
		}
	}
	return fields
}
