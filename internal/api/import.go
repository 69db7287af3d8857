package api

import "time"

// PathPostsImport is POST: check (and unless DryRun, store) a batch of
// imported items. The daemon checks every item of the batch before it
// stores any, and stores the batch in one transaction; a batch with an
// invalid item stores nothing.
const PathPostsImport = "/v1/posts/import"

// ImportBatchMax is the most items one import request may carry; `psnd
// import` sends larger imports as several batches.
const ImportBatchMax = 500

// ImportRequest is the body of POST /v1/posts/import.
type ImportRequest struct {
	DryRun bool         `json:"dry_run,omitempty"`
	Items  []ImportItem `json:"items"`
	// Reserved are instants this batch's queued items leave alone: times
	// the import's other batches name with at and, in a dry run, the
	// slots earlier batches gave out.
	Reserved []ImportReserved `json:"reserved,omitempty"`
	// FileHashes holds, for each File of the batch's items, the content
	// hashes of every item that file holds now: a line whose earlier
	// content still stands elsewhere in the file was not edited, the rows
	// moved.
	FileHashes map[string][]string `json:"file_hashes,omitempty"`
}

// ImportReserved is an instant queued items leave alone (see Reserved).
type ImportReserved struct {
	Account string    `json:"account,omitempty"` // as the item named it
	At      time.Time `json:"at"`
}

// ImportItem is one post to import: CreatePost's fields plus where it came
// from. Source identifies the item across imports (an absolute file path,
// with ":LINE" for a line of a CSV or JSON Lines file); ContentHash is the
// client's hash of the item as written, so an unchanged item is skipped and
// a changed one updates its post (while still a draft or scheduled).
type ImportItem struct {
	Source      string `json:"source"`
	ContentHash string `json:"content_hash"`
	// File is set for an item that is one line of a file (CSV, JSON
	// Lines): the file, as Source names it without ":LINE". Rows move when
	// one is added or removed above them, so such an item is first known
	// by its content within the file, and by its line only as an edit.
	File   string       `json:"file,omitempty"`
	Text   string       `json:"text"`
	Thread bool         `json:"thread,omitempty"`
	Number bool         `json:"number,omitempty"`
	Media  []MediaInput `json:"media,omitempty"`
	At     *time.Time   `json:"at,omitempty"`
	Draft  bool         `json:"draft,omitempty"`
	// Queue takes the account's next free queue slot, in request order,
	// when stored (a dry run says which it would take).
	Queue   bool   `json:"queue,omitempty"`
	Account string `json:"account,omitempty"`
}

// Import verdicts.
const (
	ImportCreated = "created"
	ImportUpdated = "updated"
	ImportSkipped = "skipped"
	ImportInvalid = "invalid"
)

// ImportResult is the daemon's verdict on each item, in request order.
type ImportResult struct {
	Items   []ImportVerdict `json:"items"`
	Invalid int             `json:"invalid"`
}

// ImportVerdict is one item's verdict (SPEC §7 `import --json`). ID is the
// post created, updated or skipped (0 when invalid or, in a dry run, not
// yet created); Error says why an item is invalid, or why a changed item
// was left alone.
type ImportVerdict struct {
	Source string `json:"source"`
	Status string `json:"status"`
	ID     int64  `json:"id,omitempty"`
	Error  string `json:"error,omitempty"`
	// ScheduledAt is the queue slot a queued item took (or, in a dry run,
	// would take).
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}
