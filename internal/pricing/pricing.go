// Package pricing holds X's API prices psnd estimates costs with (SPEC §9):
// one table naming its date and source, which the user can override with
// $PSN_HOME/prices.json. Imports nothing of ours.
package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// FileName is the override file in $PSN_HOME.
const FileName = "prices.json"

// Table is X's price per billed unit, in US dollars.
type Table struct {
	Post        float64 `json:"post_usd"`          // create a post without a URL
	PostWithURL float64 `json:"post_with_url_usd"` // create a post containing a URL
	MediaUpload float64 `json:"media_upload_usd"`  // one media upload
	Read        float64 `json:"read_usd"`          // one post returned by an owned read
	AsOf        string  `json:"as_of"`
	Source      string  `json:"source"`
	Note        string  `json:"note,omitempty"`
}

// Default is X's Pay-Per-Use table as psnd was built with it.
var Default = Table{
	Post:        0.015,
	PostWithURL: 0.20,
	MediaUpload: 0,
	Read:        0.001,
	AsOf:        "2026-04",
	Source:      "X API pricing, Pay-Per-Use (docs.x.com/x-api/getting-started/pricing)",
	Note:        "X states no price for media uploads: they are counted, priced at 0",
}

// Load returns Default with the fields of dir/prices.json laid over it;
// no file is Default. A file's own as_of and source replace the table's;
// without them the source names the file and the date is the file's last
// change (a table always names its date and source).
func Load(dir string) (Table, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default, nil
	}
	if err != nil {
		return Default, fmt.Errorf("read prices: %w", err)
	}
	t := Default
	t.AsOf, t.Source, t.Note = "", "", ""
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Default, fmt.Errorf("%s: %v (fields: post_usd, post_with_url_usd, media_upload_usd, read_usd, as_of, source, note)", path, err)
	}
	for _, p := range []float64{t.Post, t.PostWithURL, t.MediaUpload, t.Read} {
		if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return Default, fmt.Errorf("%s: prices must be zero or more US dollars", path)
		}
	}
	if t.Source == "" {
		t.Source = path
	}
	if t.AsOf == "" {
		if fi, err := os.Stat(path); err == nil {
			t.AsOf = fi.ModTime().UTC().Format("2006-01-02")
		}
	}
	return t, nil
}

// Create is the price of creating a post; withURL when its text has a URL.
func (t Table) Create(withURL bool) float64 {
	if withURL {
		return t.PostWithURL
	}
	return t.Post
}

// Cost is the estimated cost of a month's counts, rounded to 1e-5 dollars
// so that sums of binary fractions print cleanly.
func (t Table) Cost(posts, postsWithURL, mediaUploads, reads int) float64 {
	c := float64(posts)*t.Post + float64(postsWithURL)*t.PostWithURL +
		float64(mediaUploads)*t.MediaUpload + float64(reads)*t.Read
	return math.Round(c*1e5) / 1e5
}

// URLNotice is the sentence `psnd check`, `post`, `split` and the MCP
// check_text say when tweets of a text contain a URL (urls of tweets): X
// bills such a post at the dearer rate. "" when none does. One function,
// so that every surface says the same.
func (t Table) URLNotice(urls, tweets int) string {
	if urls == 0 {
		return ""
	}
	what := "the text contains a URL"
	if tweets > 1 {
		verb := "contain"
		if urls == 1 {
			verb = "contains"
		}
		what = fmt.Sprintf("%d of %d tweets %s a URL", urls, tweets, verb)
	}
	return fmt.Sprintf("%s: X bills a post with a URL $%g instead of $%g; estimated cost $%g (psnd usage shows the month)",
		what, t.PostWithURL, t.Post, t.Cost(tweets-urls, urls, 0, 0))
}
