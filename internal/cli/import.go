package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/when"
)

func newImportCmd(env *Env) *cobra.Command {
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Create posts from CSV, JSON Lines or Markdown files",
		Long: `Create posts from files: .csv (a header row naming the fields), .jsonl (one
JSON object a line) and .md (one post per file: YAML front matter for the
fields, the body is the text; a line of only --- splits a thread). A directory
means its .md files, in name order (day2.md before day10.md).

Fields: text, at, queue, draft, thread, number, account, media (paths relative
to the file, or ~/ for your home; separated by ; in CSV), alt (one per media
file, in order). Times are read in your time zone, as with post --at. queue:
true puts the post in its account's next free queue slot (see psnd slots), in
file order, after the slots other items of the import name with at; the
verdict shows the slot (a dry run, the slot it would take). A changed queued
item whose post is already scheduled keeps its slot.

Every item is checked (text rules for its account, time, media files) before
anything is stored, and gets its own verdict: created, updated, skipped or
invalid. If any item is invalid, nothing is stored and the exit status is 1.
Importing the same item again skips it; an item changed since its last import
updates its post while that is a draft or scheduled, and leaves it alone
(reported as skipped) once it is published. A CSV or JSON Lines row is the
same item on whatever line it stands now: adding or removing rows above it
changes nothing. --dry-run checks and reports without storing anything.`,
		Example: `  psnd import week.csv
  psnd import posts/ --dry-run
  psnd import queue.jsonl --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), env, args, dryRun, asJSON)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check every item and report, storing nothing")
	jsonFlag(cmd, &asJSON, "one verdict a line")
	return cmd
}

// importFields are an item's fields as written in its file. Their JSON
// form is hashed: an item is the same as before when its source and these
// are.
type importFields struct {
	Text    string  `json:"text,omitempty" yaml:"text"`
	At      string  `json:"at,omitempty" yaml:"at"`
	Queue   bool    `json:"queue,omitempty" yaml:"queue"`
	Draft   bool    `json:"draft,omitempty" yaml:"draft"`
	Thread  bool    `json:"thread,omitempty" yaml:"thread"`
	Number  bool    `json:"number,omitempty" yaml:"number"`
	Account string  `json:"account,omitempty" yaml:"account"`
	Media   strList `json:"media,omitempty" yaml:"media"`
	Alt     strList `json:"alt,omitempty" yaml:"alt"`
}

// strList is one string or a list of them (media: a.jpg, or [a.jpg, b.jpg]).
type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = strList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("media and alt want a string or a list of strings")
	}
	*l = many
	return nil
}

func (l *strList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = strList{n.Value}
		return nil
	}
	var many []string
	if err := n.Decode(&many); err != nil {
		return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
	}
	*l = many
	return nil
}

// importEntry is one item read from a file: where it came from, its
// fields, or why it could not be read.
type importEntry struct {
	source string // as shown: the path as given, with :LINE for CSV and JSON Lines
	key    string // the daemon's source key: the absolute path, with :LINE
	dir    string // media paths are relative to this
	file   string // the file's source key, for a line of a CSV or JSON Lines file
	fields importFields
	err    string
	past   string // what to say if the daemon finds at in the past
}

// readImports reads every item of the paths, in order.
func readImports(paths []string) ([]importEntry, error) {
	var out []importEntry
	read := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		files := []string{p}
		if fi.IsDir() {
			des, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("import: %w", err)
			}
			files = nil
			for _, de := range des {
				// Hidden files are not posts: macOS writes ._NAME.md
				// (binary AppleDouble) beside each file on other disks,
				// and editors leave .#NAME.md locks.
				if strings.HasPrefix(de.Name(), ".") {
					continue
				}
				if !de.IsDir() && strings.EqualFold(filepath.Ext(de.Name()), ".md") {
					files = append(files, filepath.Join(p, de.Name()))
				}
			}
			if len(files) == 0 {
				return nil, usagef("%s holds no .md files", p)
			}
			// In the order a file manager shows them (day2 before
			// day10): queued items take slots in this order.
			slices.SortStableFunc(files, naturalCompare)
		}
		for _, f := range files {
			key, err := importKey(f)
			if err != nil {
				return nil, err
			}
			if read[key] { // named twice (a file and its directory, say)
				continue
			}
			read[key] = true
			entries, err := readImportFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, entries...)
		}
	}
	return out, nil
}

// naturalCompare orders names with runs of digits compared as numbers,
// and letters regardless of case.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(unicode.ToLower(ra), unicode.ToLower(rb)); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// digitRun is the length of the ASCII digits s begins with.
func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func readImportFile(path string) ([]importEntry, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".csv" && ext != ".jsonl" && ext != ".md" {
		return nil, usagef("%s: psnd import reads .csv, .jsonl and .md files", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	key, err := importKey(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff")) // a byte order mark, as spreadsheets write
	base := importEntry{source: path, key: key, dir: filepath.Dir(abs)}
	if !utf8.Valid(b) {
		base.err = notUTF8(b)
		return []importEntry{base}, nil
	}
	switch ext {
	case ".csv":
		return readCSV(base, b), nil
	case ".jsonl":
		return readJSONL(base, b), nil
	}
	base.fields, err = readMarkdown(b)
	if err != nil {
		base.err = err.Error()
	}
	return []importEntry{base}, nil
}

// notUTF8 says where a file stops being UTF-8 and what to do: Excel's
// plain "CSV" is Windows-1252 and its "Unicode text" is UTF-16.
func notUTF8(b []byte) string {
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) {
		return "the file is UTF-16, not UTF-8: save it as UTF-8 (in Excel: CSV UTF-8)"
	}
	line := 1
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			break
		}
		if r == '\n' {
			line++
		}
		b = b[n:]
	}
	return fmt.Sprintf("the file is not UTF-8 (line %d): save it as UTF-8 (in Excel: CSV UTF-8)", line)
}

// importKey is the file's part of an item's source key: one string for
// one file however it is named — through a symbolic link (a synced
// folder, /tmp on macOS), or with its name as a directory listing gives it
// or as typed (macOS keeps names decomposed, NFD; a shell passes what was
// typed, NFC).
func importKey(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return norm.NFC.String(abs), nil
}

// at gives the entry for line n of a CSV or JSON Lines file.
func (e importEntry) at(n int) importEntry {
	e.source = fmt.Sprintf("%s:%d", e.source, n)
	e.file = e.key
	e.key = fmt.Sprintf("%s:%d", e.key, n)
	return e
}

// The fields of an import item, as CSV columns name them ("draft" is a
// field here, not a post status).
const (
	fieldText    = "text"
	fieldAt      = "at"
	fieldQueue   = "queue"
	fieldDraft   = "draft"
	fieldThread  = "thread"
	fieldNumber  = "number"
	fieldAccount = "account"
	fieldMedia   = "media"
	fieldAlt     = "alt"
)

var csvColumns = []string{fieldText, fieldAt, fieldQueue, fieldDraft, fieldThread, fieldNumber, fieldAccount, fieldMedia, fieldAlt}

func readCSV(base importEntry, b []byte) []importEntry {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	// Spreadsheets in locales whose decimal mark is a comma write CSV
	// with ; between fields: a header line with ; and no comma says so.
	if first, _, _ := bytes.Cut(b, []byte("\n")); !bytes.ContainsRune(first, ',') && bytes.ContainsRune(first, ';') {
		r.Comma = ';'
	}
	header, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		base.err = "read CSV header: " + err.Error()
		return []importEntry{base}
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		header[i] = h
		switch {
		case h == "":
			// Spreadsheets write columns once touched as ,,: a column
			// without a name is fine while it holds nothing.
			continue
		case !slices.Contains(csvColumns, h):
			base.err = fmt.Sprintf("unknown column %q in the header (known: %s)", h, strings.Join(csvColumns, ", "))
		case seen[h]:
			base.err = fmt.Sprintf("column %q appears twice in the header", h)
		}
		if base.err != "" {
			return []importEntry{base.at(1)}
		}
		seen[h] = true
	}
	var out []importEntry
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			// FieldPos has no field to tell of after a parse error.
			line := 0
			if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
				line = pe.StartLine
			}
			e := base.at(line)
			e.err = "read CSV: " + err.Error()
			return append(out, e)
		}
		line, _ := r.FieldPos(0)
		e := base.at(line)
		if blankRecord(rec) {
			continue // spreadsheets export empty rows as ,,,
		}
		if len(rec) > len(header) && !blankRecord(rec[len(header):]) {
			e.err = fmt.Sprintf("%d fields, but the header names %d: put a text that holds %q in double quotes", len(rec), len(header), string(r.Comma))
			out = append(out, e)
			continue
		}
		// A shorter row leaves the last columns empty, as written by hand.
		for i, v := range rec[:min(len(rec), len(header))] {
			if header[i] == "" && strings.TrimSpace(v) != "" {
				e.err = fmt.Sprintf("%q is in column %d, which the header does not name", v, i+1)
				break
			}
			if err := setCSVField(&e.fields, header[i], v); err != nil {
				e.err = err.Error()
				break
			}
		}
		out = append(out, e)
	}
}

// blankRecord says whether every field of a CSV record is blank.
func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// csvBool reads a CSV boolean: what strconv.ParseBool takes, and the
// yes/no and on/off that YAML front matter takes for the same field.
func csvBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "y", "on":
		return true, nil
	case "no", "n", "off":
		return false, nil
	}
	return strconv.ParseBool(v)
}

func setCSVField(f *importFields, name, v string) error {
	boolean := func(dst *bool) error {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		b, err := csvBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: want true or false, not %q", name, v)
		}
		*dst = b
		return nil
	}
	list := func() strList {
		var l strList
		for _, s := range strings.Split(v, ";") {
			if s = strings.TrimSpace(s); s != "" {
				l = append(l, s)
			}
		}
		return l
	}
	switch name {
	case fieldText:
		f.Text = strings.ReplaceAll(v, "\r\n", "\n")
	case fieldAt:
		f.At = strings.TrimSpace(v)
	case fieldQueue:
		return boolean(&f.Queue)
	case fieldAccount:
		f.Account = strings.TrimSpace(v)
	case fieldDraft:
		return boolean(&f.Draft)
	case fieldThread:
		return boolean(&f.Thread)
	case fieldNumber:
		return boolean(&f.Number)
	case fieldMedia:
		f.Media = list()
	case fieldAlt:
		// Alt texts may hold ";" less rarely than paths, but one per
		// medium keeps the two lists in step.
		f.Alt = list()
	}
	return nil
}

func readJSONL(base importEntry, b []byte) []importEntry {
	var out []importEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), api.MaxBodyBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e := base.at(n)
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e.fields); err != nil {
			e.err = "invalid JSON: " + jsonFieldError(err)
		} else if dec.More() {
			e.err = "invalid JSON: more than one value on the line"
		}
		e.fields.Text = strings.ReplaceAll(e.fields.Text, "\r\n", "\n")
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		e := base.at(n + 1)
		e.err = "read: " + err.Error()
		out = append(out, e)
	}
	return out
}

// jsonFieldError says what was wrong with a JSON Lines item in its own
// words, not in encoding/json's, which name Go types.
func jsonFieldError(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	if te.Field == "" {
		return fmt.Sprintf("want an object of fields, not a %s", te.Value)
	}
	want := "a " + te.Type.Kind().String()
	switch te.Type.Kind() {
	case reflect.Bool:
		want = "true or false"
	case reflect.String:
		want = "a string"
	}
	return fmt.Sprintf("%s: want %s, not a %s", te.Field, want, te.Value)
}

// readMarkdown reads one post: optional YAML front matter between two
// lines of --- (trailing blanks allowed, as editors leave them), then the
// text.
func readMarkdown(b []byte) (importFields, error) {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	var f importFields
	lines := strings.Split(s, "\n")
	if isMarker(lines[0]) {
		end := slices.IndexFunc(lines[1:], isMarker)
		if end < 0 {
			return f, errors.New("the front matter has no closing --- line")
		}
		front := strings.Join(lines[1:end+1], "\n")
		dec := yaml.NewDecoder(strings.NewReader(front))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && err != io.EOF {
			return f, frontMatterError(err)
		}
		s = strings.Join(lines[end+2:], "\n")
	}
	body := strings.Trim(s, "\n")
	if body != "" && f.Text != "" {
		return f, errors.New("the text is given twice: in the front matter and as the body")
	}
	if body != "" {
		f.Text = body
	}
	return f, nil
}

// isMarker says whether a line is a --- line.
func isMarker(l string) bool { return strings.TrimRight(l, " \t") == "---" }

var (
	yamlUnknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	yamlLine         = regexp.MustCompile(`line (\d+)`)
)

// frontMatterError makes yaml's error one line (a verdict is one line)
// without its Go type names, with the file's line numbers (yaml counts
// from the line after the opening ---).
func frontMatterError(err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	for i, m := range msgs {
		m = yamlUnknownField.ReplaceAllString(strings.TrimSpace(m), "unknown field $1 (known: "+strings.Join(csvColumns, ", ")+")")
		m = strings.ReplaceAll(m, " into cli.importFields", " as the fields: want lines of field: value")
		m = yamlLine.ReplaceAllStringFunc(m, func(l string) string {
			n, _ := strconv.Atoi(strings.TrimPrefix(l, "line "))
			return fmt.Sprintf("line %d", n+1)
		})
		msgs[i] = strings.ReplaceAll(m, "\n", " ")
	}
	return fmt.Errorf("front matter: %s", strings.Join(msgs, "; "))
}

// toItem turns an entry's fields into the daemon's item, reading its time
// in the user's zone; a problem is the entry's error.
func (e *importEntry) toItem(now time.Time, loc *time.Location) api.ImportItem {
	f := e.fields
	it := api.ImportItem{Source: e.key, File: e.file, ContentHash: e.contentHash(), Text: f.Text,
		Thread: f.Thread, Number: f.Number, Draft: f.Draft, Queue: f.Queue, Account: f.Account}
	if e.err != "" {
		return it
	}
	switch {
	case len(f.Alt) > len(f.Media):
		e.err = fmt.Sprintf("%d alt texts for %d media files: give one per file, in order", len(f.Alt), len(f.Media))
		return it
	}
	if f.At != "" {
		t, err := when.Parse(f.At, now, loc)
		if err != nil {
			e.err = "at: " + err.Error()
			return it
		}
		if !f.Draft && t.Before(now.Add(-pastGrace)) {
			// Said as post --at says it: in the user's zone (the daemon
			// speaks UTC, and of a "now" an import has not). Only if the
			// daemon finds it so: an unchanged item is skipped unchecked.
			e.past = fmt.Sprintf("at: %s is in the past; give a future time", when.Format(t, now, loc))
		}
		it.At = &t
	}
	for i, m := range f.Media {
		in := api.MediaInput{Path: e.mediaPath(m)}
		if i < len(f.Alt) {
			in.AltText = f.Alt[i]
		}
		it.Media = append(it.Media, in)
	}
	return it
}

// mediaPath is where a media path of the entry's file points: relative
// to the file, or from the home directory with ~/ as a shell would (a
// file has no shell to do it).
func (e *importEntry) mediaPath(m string) string {
	if rest, ok := strings.CutPrefix(m, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(m) {
		return m
	}
	return filepath.Join(e.dir, m)
}

// contentHash is the hash of the item as written, with the bytes of its
// media files: a picture replaced under the same name is a change too. A
// file that cannot be read adds nothing (the daemon's check reports it).
func (e *importEntry) contentHash() string {
	h := sha256.New()
	_ = json.NewEncoder(h).Encode(e.fields)
	for _, m := range e.fields.Media {
		if f, err := os.Open(e.mediaPath(m)); err == nil {
			_, _ = io.Copy(h, f)
			f.Close()
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// importLine is one verdict of `import --json` (SPEC §7).
type importLine struct {
	Source string  `json:"source"`
	Status string  `json:"status"`
	ID     *int64  `json:"id"`
	Error  *string `json:"error"`
	// ScheduledAt is the queue slot a queued item took (or would take).
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

// importBatchBytes keeps a batch's body well under api.MaxBodyBytes.
const importBatchBytes = api.MaxBodyBytes / 2

func runImport(ctx context.Context, env *Env, paths []string, dryRun, asJSON bool) error {
	entries, err := readImports(paths)
	if err != nil {
		return err
	}
	s, err := connect(ctx, env)
	if err != nil {
		return err
	}
	now := env.now()
	items := make([]api.ImportItem, len(entries))
	verdicts := make([]api.ImportVerdict, len(entries))
	var todo []int // entries the daemon is to judge
	for i := range entries {
		items[i] = entries[i].toItem(now, s.loc)
		if entries[i].err != "" {
			verdicts[i] = api.ImportVerdict{Status: api.ImportInvalid, Error: entries[i].err}
			continue
		}
		todo = append(todo, i)
	}
	// What each CSV or JSON Lines file holds now, so the daemon can tell
	// rows that moved from rows that were edited.
	fileHashes := map[string][]string{}
	for _, it := range items {
		if it.File != "" {
			fileHashes[it.File] = append(fileHashes[it.File], it.ContentHash)
		}
	}
	// The times items name with at are theirs: a queued item of an
	// earlier batch must not take one, so every batch is told of them all.
	// (Only when some item is queued: the list is long in a large import.)
	var named []api.ImportReserved
	if slices.ContainsFunc(todo, func(i int) bool { return items[i].Queue }) {
		for _, i := range todo {
			if it := items[i]; it.At != nil && !it.Draft {
				named = append(named, api.ImportReserved{Account: it.Account, At: *it.At})
			}
		}
	}
	// First every item is checked (dry runs), then, if all are valid,
	// stored batch by batch: nothing is stored when any item is invalid.
	if err := sendImport(ctx, env, s, items, fileHashes, named, todo, verdicts, true); err != nil {
		return err
	}
	invalid := 0
	for _, v := range verdicts {
		if v.Status == api.ImportInvalid {
			invalid++
		}
	}
	storing := invalid == 0 && !dryRun
	if storing {
		// Only the times of items to be stored now: a skipped item's
		// post keeps its own time (stored already, or left alone).
		if named != nil {
			named = named[:0]
			for _, i := range todo {
				if it, v := items[i], verdicts[i]; it.At != nil && !it.Draft && (v.Status == api.ImportCreated || v.Status == api.ImportUpdated) {
					named = append(named, api.ImportReserved{Account: it.Account, At: *it.At})
				}
			}
		}
		if err := sendImport(ctx, env, s, items, fileHashes, named, todo, verdicts, false); err != nil {
			return err
		}
	}
	invalid = 0 // again: a batch stored may have met a change made meanwhile
	for i, v := range verdicts {
		if v.Status == api.ImportInvalid {
			invalid++
			if entries[i].past != "" && strings.Contains(v.Error, "is in the past") {
				v.Error = entries[i].past
			}
		}
		if err := printVerdict(env, s.loc, entries[i].source, v, asJSON); err != nil {
			return err
		}
	}
	if !asJSON {
		printImportSummary(env, verdicts, !storing)
	}
	if invalid > 0 && storing {
		// Only when something changed between the check and the store.
		return exitError{ExitError, fmt.Errorf("%s of %d invalid when stored: the batches before it were imported", plural(invalid, "item", "items"), len(entries))}
	}
	if invalid > 0 {
		return exitError{ExitError, fmt.Errorf("%s of %d invalid: nothing was imported", plural(invalid, "item", "items"), len(entries))}
	}
	return nil
}

// sendImport sends the items in todo to the daemon in batches and records
// its verdicts, showing progress on a terminal.
func sendImport(ctx context.Context, env *Env, s *session, items []api.ImportItem, fileHashes map[string][]string, named []api.ImportReserved, todo []int, verdicts []api.ImportVerdict, dryRun bool) error {
	what := "importing"
	if dryRun {
		what = "checking"
	}
	progress := env.StderrIsTerminal && len(todo) > api.ImportBatchMax
	// A dry run stores nothing, so each batch is told the slots the
	// batches before it were given; and every batch, the times any item
	// names.
	var given []api.ImportReserved
	for start := 0; start < len(todo); {
		end, size := start, (len(named)+len(given))*80
		files := map[string][]string{}
		for end < len(todo) && end-start < api.ImportBatchMax {
			it := items[todo[end]]
			n := len(it.Text) + 2*len(it.Source) + 256
			for _, m := range it.Media {
				n += len(m.Path) + len(m.AltText) + 64
			}
			if _, ok := files[it.File]; it.File != "" && !ok {
				n += len(fileHashes[it.File]) * (len(it.ContentHash) + 3)
			}
			if end > start && size+n > importBatchBytes {
				break
			}
			size += n
			end++
			if it.File != "" {
				files[it.File] = fileHashes[it.File]
			}
		}
		req := api.ImportRequest{DryRun: dryRun, Reserved: slices.Concat(named, given)}
		if len(files) > 0 {
			req.FileHashes = files
		}
		for _, i := range todo[start:end] {
			req.Items = append(req.Items, items[i])
		}
		res, err := s.c.Import(ctx, req)
		if err != nil {
			if progress {
				clearProgress(env, what, len(todo))
			}
			return err
		}
		if len(res.Items) != len(req.Items) {
			return fmt.Errorf("import: the daemon answered %d verdicts for %d items", len(res.Items), len(req.Items))
		}
		for k, i := range todo[start:end] {
			verdicts[i] = res.Items[k]
			if at := res.Items[k].ScheduledAt; at != nil && dryRun {
				given = append(given, api.ImportReserved{Account: items[i].Account, At: *at})
			}
		}
		start = end
		if progress {
			fmt.Fprintf(env.Stderr, "\r%s %d/%d", what, start, len(todo))
		}
	}
	if progress {
		clearProgress(env, what, len(todo))
	}
	return nil
}

// clearProgress blanks the progress line with spaces, which every terminal
// understands (TERM=dumb has no erase sequence).
func clearProgress(env *Env, what string, total int) {
	n := len(fmt.Sprintf("%s %d/%d", what, total, total))
	fmt.Fprint(env.Stderr, "\r"+strings.Repeat(" ", n)+"\r")
}

func printVerdict(env *Env, loc *time.Location, source string, v api.ImportVerdict, asJSON bool) error {
	if asJSON {
		l := importLine{Source: source, Status: v.Status, ScheduledAt: v.ScheduledAt}
		if v.ID != 0 {
			l.ID = &v.ID
		}
		if v.Error != "" {
			l.Error = &v.Error
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	line := fmt.Sprintf("%-8s %s", v.Status, source)
	if v.ID != 0 {
		line += fmt.Sprintf("  post %d", v.ID)
	}
	if v.ScheduledAt != nil {
		line += "  queue slot " + v.ScheduledAt.In(loc).Format("Mon 2006-01-02 15:04 MST")
	}
	if v.Error != "" {
		line += "  " + v.Error
	}
	_, err := fmt.Fprintln(env.Stdout, line)
	return err
}

func printImportSummary(env *Env, verdicts []api.ImportVerdict, nothingStored bool) {
	counts := map[string]int{}
	for _, v := range verdicts {
		counts[v.Status]++
	}
	var parts []string
	for _, st := range []string{api.ImportCreated, api.ImportUpdated, api.ImportSkipped, api.ImportInvalid} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no items"}
	}
	msg := strings.Join(parts, ", ")
	if nothingStored {
		msg += " (nothing stored)"
	}
	fmt.Fprintln(env.Stdout, msg)
}
