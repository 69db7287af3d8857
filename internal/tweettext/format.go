package tweettext

import (
	"fmt"
	"io"
	"strings"
)

// FormatCheck writes the human form of a Check result: "count/limit" and
// a verdict on the first line, then one line per error and warning.
func FormatCheck(w io.Writer, r Result) error {
	verdict := "ok"
	if !r.Valid {
		verdict = "not postable"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d %s\n", r.WeightedLength, r.MaxLength, verdict)
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write check result: %w", err)
	}
	return nil
}

// FormatSplit writes a numbered preview of a thread: a header per tweet
// with its position and count, the tweet's text, and the warnings last.
func FormatSplit(w io.Writer, r SplitResult) error {
	var b strings.Builder
	max := r.MaxLength
	if max == 0 {
		max = DefaultMaxLength
	}
	for i, t := range r.Tweets {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "── %d/%d · %d/%d ──\n%s\n", i+1, len(r.Tweets), t.WeightedLength, max, t.Text)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write split preview: %w", err)
	}
	return nil
}
