package localapi

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/psnd/psnd/internal/api"
)

// appendPostJSON appends p as json.Encoder writes it (without the
// newline): the same field order, null for nil pointers and slices, the
// omitempty fields left out when empty, strings escaped with HTML
// escaping, times as RFC 3339 with nanoseconds. A streamed list writes
// every post through it, and encoding/json's reflection was a fifth of
// the daemon's time per post; TestAppendPostJSONMatchesEncoder holds it
// to encoding/json byte for byte.
func appendPostJSON(b []byte, p *api.Post) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, p.ID, 10)
	b = append(b, `,"account":`...)
	b = appendJSONString(b, p.Account)
	b = append(b, `,"account_id":`...)
	b = appendJSONString(b, p.AccountID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, p.Status)
	b = append(b, `,"sub_status":`...)
	b = appendJSONStringPtr(b, p.SubStatus)
	b = append(b, `,"scheduled_at":`...)
	b = appendJSONTimePtr(b, p.ScheduledAt)
	b = append(b, `,"published_at":`...)
	b = appendJSONTimePtr(b, p.PublishedAt)
	b = append(b, `,"fail_reason":`...)
	b = appendJSONStringPtr(b, p.FailReason)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(p.Attempts), 10)
	b = append(b, `,"next_retry_at":`...)
	b = appendJSONTimePtr(b, p.NextRetryAt)
	b = append(b, `,"platform_post_ids":`...)
	b = appendJSONStrings(b, p.PlatformPostIDs)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, p.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, p.UpdatedAt)
	b = append(b, `,"run_id":`...)
	b = appendJSONString(b, p.RunID)
	b = append(b, `,"tweets":`...)
	if p.Tweets == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Tweets {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTweetJSON(b, &p.Tweets[i])
		}
		b = append(b, ']')
	}
	if len(p.Warnings) > 0 {
		b = append(b, `,"warnings":`...)
		b = appendJSONStrings(b, p.Warnings)
	}
	if p.Upload != nil {
		b = appendUploadJSON(b, p.Upload)
	}
	return append(b, '}')
}

// appendUploadJSON appends the upload field, with its leading comma.
func appendUploadJSON(b []byte, u *api.Upload) []byte {
	b = append(b, `,"upload":{"sent":`...)
	b = strconv.AppendInt(b, u.Sent, 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, u.Total, 10)
	return append(b, '}')
}

func appendTweetJSON(b []byte, t *api.Tweet) []byte {
	b = append(b, `{"position":`...)
	b = strconv.AppendInt(b, int64(t.Position), 10)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, t.Text)
	b = append(b, `,"weighted_length":`...)
	b = strconv.AppendInt(b, int64(t.WeightedLength), 10)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, t.Status)
	b = append(b, `,"platform_post_id":`...)
	b = appendJSONStringPtr(b, t.PlatformPostID)
	if t.PublishedAt != nil {
		b = append(b, `,"published_at":`...)
		b = appendJSONTime(b, *t.PublishedAt)
	}
	if len(t.Media) > 0 {
		b = append(b, `,"media":[`...)
		for i, m := range t.Media {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"path":`...)
			b = appendJSONString(b, m.Path)
			b = append(b, `,"mime_type":`...)
			b = appendJSONString(b, m.MimeType)
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, m.Size, 10)
			if m.AltText != "" {
				b = append(b, `,"alt_text":`...)
				b = appendJSONString(b, m.AltText)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

func appendJSONStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

func appendJSONTimePtr(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendJSONTime(b, *t)
}

// appendJSONTime writes what time.Time's MarshalJSON writes for the years
// 0–9999 (the only ones it accepts, and the only ones the store holds).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping on
// (json.Encoder's default): <, > and & as \u003c etc., U+2028 and U+2029
// escaped, invalid UTF-8 replaced by \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
