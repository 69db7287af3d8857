package tweettext

// Link is a URL that twitter-text's extractor finds in a text: the part X
// turns into a t.co link.
type Link struct {
	Start, End int    // byte offsets of the linked part of the text
	URL        string // the URL as the extractor reports it (usually text[Start:End])
}

// Links returns the URLs of text in order, as X links them (twitter-text's
// extractUrlsWithIndices). Offsets are bytes of text, so callers can cut
// the text there whatever its script.
func Links(text string) []Link {
	u := appendUTF16(nil, text)
	spans := extractURLs(u, nil)
	if len(spans) == 0 {
		return nil
	}
	off := utf16ByteOffsets(text, len(u))
	out := make([]Link, len(spans))
	for k, s := range spans {
		url := text[off[s.start]:off[s.end]]
		if s.gapTo > s.gapFrom {
			// The non-ASCII head of a schemeless domain is linked but not
			// part of the URL (twitter-text's url.replace(domain, ascii)).
			url = text[off[s.start]:off[s.gapFrom]] + text[off[s.gapTo]:off[s.end]]
		}
		out[k] = Link{Start: off[s.start], End: off[s.end], URL: url}
	}
	return out
}

// TweetsWithLinks counts the texts (one per tweet) that hold a URL: X
// bills creating such a tweet at its dearer rate (SPEC §9).
func TweetsWithLinks(texts []string) int {
	n := 0
	for _, t := range texts {
		if len(Links(t)) > 0 {
			n++
		}
	}
	return n
}
