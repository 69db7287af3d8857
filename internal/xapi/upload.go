package xapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

// Media is an uploaded media id, usable in CreateTweetRequest.MediaIDs until
// ExpiresAt. Upload media at publish time and upload again once expired.
type Media struct {
	ID        string
	MediaKey  string
	Size      int64
	ExpiresAt time.Time // zero when X did not say
}

// Expired reports whether the id can no longer be attached at time now.
func (m Media) Expired(now time.Time) bool {
	return !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt)
}

// MediaUpload is the content to upload.
type MediaUpload struct {
	Data     io.Reader
	Size     int64 // exact byte count of Data
	MIMEType string
	Category Category
	// Progress, if set, is called with bytes sent so far and the total
	// after each part reaches X.
	Progress func(sent, total int64)
}

// ProcessingInfo is X's report on asynchronous media processing.
type ProcessingInfo struct {
	State           string `json:"state"` // pending, in_progress, succeeded, failed
	CheckAfterSecs  int    `json:"check_after_secs,omitempty"`
	ProgressPercent int    `json:"progress_percent,omitempty"`
	Error           *struct {
		Code    int    `json:"code"`
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Processing states reported by X.
const (
	StatePending    = "pending"
	StateInProgress = "in_progress"
	StateSucceeded  = "succeeded"
	StateFailed     = "failed"
)

// ProcessingError is X reporting that it could not process uploaded media
// (state "failed"). The file itself is the problem: it is permanent.
type ProcessingError struct {
	MediaID string
	Name    string
	Message string
}

func (e *ProcessingError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Name
	}
	if msg == "" {
		msg = "no reason given"
	}
	return fmt.Sprintf("x media %s: processing failed: %s", e.MediaID, shortLine(msg))
}

// Is makes a ProcessingError count as ErrInvalidArgument for IsPermanent.
func (e *ProcessingError) Is(target error) bool { return target == ErrInvalidArgument }

// mediaData is the data object of X's media upload answers.
type mediaData struct {
	ID               string          `json:"id"`
	MediaKey         string          `json:"media_key"`
	Size             int64           `json:"size"`
	ExpiresAfterSecs int64           `json:"expires_after_secs"`
	ProcessingInfo   *ProcessingInfo `json:"processing_info"`
}

type mediaAnswer struct {
	Data   *mediaData  `json:"data"`
	Errors []ErrorItem `json:"errors"`
}

// oneShotMediaTypes are the media_type values the spec allows on the
// one-shot upload; a static GIF is sent without media_type.
var oneShotMediaTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true}

// Upload uploads a checked file: still images in one request, animated GIFs
// and video in chunks with processing. It returns the media id to attach.
func (c *Client) Upload(ctx context.Context, token string, f MediaFile, progress func(sent, total int64)) (Media, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return Media{}, openMediaError(f.Path, err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return Media{}, fmt.Errorf("stat media: %w", err)
	}
	if fi.Size() != f.Size {
		return Media{}, fmt.Errorf("%s changed since it was checked (%d bytes, now %d)", f.Path, f.Size, fi.Size())
	}
	u := MediaUpload{Data: fh, Size: f.Size, MIMEType: f.MIMEType, Category: f.Category, Progress: progress}
	var m Media
	if f.Category == CategoryImage {
		m, _, err = c.UploadImage(ctx, token, u)
	} else {
		m, _, err = c.UploadChunked(ctx, token, u)
	}
	return m, err
}

// UploadImage uploads a still image with one multipart POST /2/media/upload
// (media_category tweet_image).
func (c *Client) UploadImage(ctx context.Context, token string, u MediaUpload) (Media, RateLimit, error) {
	if u.Category != "" && u.Category != CategoryImage {
		return Media{}, RateLimit{}, invalidf("one-shot upload takes images only, not %s", u.Category)
	}
	if u.Size <= 0 || u.Size > MaxImageBytes {
		return Media{}, RateLimit{}, invalidf("image size %d outside 1..%d bytes", u.Size, MaxImageBytes)
	}
	data, err := io.ReadAll(io.LimitReader(u.Data, u.Size+1))
	if err != nil {
		return Media{}, RateLimit{}, fmt.Errorf("read media: %w", err)
	}
	if int64(len(data)) != u.Size {
		return Media{}, RateLimit{}, fmt.Errorf("read media: got %d bytes, expected %d", len(data), u.Size)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("media_category", string(CategoryImage))
	if oneShotMediaTypes[u.MIMEType] {
		_ = mw.WriteField("media_type", u.MIMEType)
	}
	part, err := mw.CreateFormFile("media", "media")
	if err != nil {
		return Media{}, RateLimit{}, err
	}
	_, _ = part.Write(data)
	if err := mw.Close(); err != nil {
		return Media{}, RateLimit{}, err
	}
	var out mediaAnswer
	k := call{method: http.MethodPost, path: "/2/media/upload", contentType: mw.FormDataContentType(), body: buf.Bytes()}
	rl, err := c.send(ctx, token, k, &out)
	if err != nil {
		return Media{}, rl, err
	}
	if out.Data == nil || !validID(out.Data.ID) {
		return Media{}, rl, partialError(k.op(), out.Errors, rl, "X returned no media id")
	}
	if u.Progress != nil {
		u.Progress(u.Size, u.Size)
	}
	m := c.media(out.Data, Media{})
	return c.awaitProcessing(ctx, token, m, out.Data.ProcessingInfo, rl)
}

// UploadChunked uploads media in segments: initialize, append each chunk
// (multipart, segment_index from 0), finalize, then poll the processing
// status, honouring X's check_after_secs, until it succeeds or fails.
func (c *Client) UploadChunked(ctx context.Context, token string, u MediaUpload) (Media, RateLimit, error) {
	if u.Size <= 0 {
		return Media{}, RateLimit{}, invalidf("media size %d", u.Size)
	}
	if u.MIMEType == "" || u.Category == "" {
		return Media{}, RateLimit{}, invalidf("chunked upload needs a media type and category")
	}
	initBody, _ := json.Marshal(struct {
		MediaType     string   `json:"media_type"`
		TotalBytes    int64    `json:"total_bytes"`
		MediaCategory Category `json:"media_category"`
	}{u.MIMEType, u.Size, u.Category})
	var out mediaAnswer
	k := call{method: http.MethodPost, path: "/2/media/upload/initialize", contentType: "application/json", body: initBody}
	rl, err := c.send(ctx, token, k, &out)
	if err != nil {
		return Media{}, rl, err
	}
	if out.Data == nil || !validID(out.Data.ID) {
		return Media{}, rl, partialError(k.op(), out.Errors, rl, "X returned no media id")
	}
	m := c.media(out.Data, Media{})

	chunk := int64(c.chunk)
	if min := (u.Size + maxSegments - 1) / maxSegments; chunk < min {
		chunk = min
	}
	buf := make([]byte, chunk)
	var sent int64
	for seg := 0; sent < u.Size; seg++ {
		want := min(chunk, u.Size-sent)
		n, err := io.ReadFull(u.Data, buf[:want])
		if err != nil {
			return Media{}, rl, fmt.Errorf("read media at byte %d of %d: %w", sent+int64(n), u.Size, err)
		}
		if rl, err = c.appendSegment(ctx, token, m.ID, seg, buf[:n]); err != nil {
			return Media{}, rl, err
		}
		sent += int64(n)
		if u.Progress != nil {
			u.Progress(sent, u.Size)
		}
	}

	out = mediaAnswer{}
	k = call{method: http.MethodPost, path: "/2/media/upload/" + m.ID + "/finalize"}
	if rl, err = c.send(ctx, token, k, &out); err != nil {
		return Media{}, rl, err
	}
	if out.Data == nil {
		return Media{}, rl, partialError(k.op(), out.Errors, rl, "X returned no media")
	}
	m = c.media(out.Data, m)
	return c.awaitProcessing(ctx, token, m, out.Data.ProcessingInfo, rl)
}

func (c *Client) appendSegment(ctx context.Context, token, id string, seg int, data []byte) (RateLimit, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("segment_index", strconv.Itoa(seg))
	part, err := mw.CreateFormFile("media", "media")
	if err != nil {
		return RateLimit{}, err
	}
	_, _ = part.Write(data)
	if err := mw.Close(); err != nil {
		return RateLimit{}, err
	}
	k := call{method: http.MethodPost, path: "/2/media/upload/" + id + "/append", contentType: mw.FormDataContentType(), body: body.Bytes()}
	return c.send(ctx, token, k, nil)
}

// media merges an answer's data into m, stamping the expiry on our clock.
func (c *Client) media(d *mediaData, m Media) Media {
	if d.ID != "" {
		m.ID = d.ID
	}
	if d.MediaKey != "" {
		m.MediaKey = d.MediaKey
	}
	if d.Size > 0 {
		m.Size = d.Size
	}
	if d.ExpiresAfterSecs > 0 {
		m.ExpiresAt = c.clock.Now().Add(time.Duration(d.ExpiresAfterSecs) * time.Second)
	}
	return m
}

// awaitProcessing polls the upload status while X is processing.
func (c *Client) awaitProcessing(ctx context.Context, token string, m Media, pi *ProcessingInfo, rl RateLimit) (Media, RateLimit, error) {
	var waited time.Duration
	for pi != nil && (pi.State == StatePending || pi.State == StateInProgress) {
		d := time.Duration(pi.CheckAfterSecs) * time.Second
		if d <= 0 {
			d = defaultPollWait
		}
		if waited+d > c.maxWait {
			return Media{}, rl, fmt.Errorf("x media %s: still %s after %s of processing", m.ID, pi.State, waited)
		}
		if err := c.sleep(ctx, d); err != nil {
			return Media{}, rl, fmt.Errorf("x media %s: wait for processing: %w", m.ID, err)
		}
		waited += d
		var d2 *mediaData
		var err error
		d2, rl, err = c.mediaStatus(ctx, token, m.ID)
		if err != nil {
			return Media{}, rl, err
		}
		m = c.media(d2, m)
		pi = d2.ProcessingInfo
	}
	if pi != nil && pi.State == StateFailed {
		pe := &ProcessingError{MediaID: m.ID}
		if pi.Error != nil {
			pe.Name, pe.Message = pi.Error.Name, pi.Error.Message
		}
		return Media{}, rl, pe
	}
	return m, rl, nil
}

// MediaStatus reports the processing state of an uploaded media id.
func (c *Client) MediaStatus(ctx context.Context, token, mediaID string) (ProcessingInfo, RateLimit, error) {
	if !validID(mediaID) {
		return ProcessingInfo{}, RateLimit{}, invalidf("media id %q is not an X id", mediaID)
	}
	d, rl, err := c.mediaStatus(ctx, token, mediaID)
	if err != nil {
		return ProcessingInfo{}, rl, err
	}
	if d.ProcessingInfo == nil {
		return ProcessingInfo{State: StateSucceeded}, rl, nil
	}
	return *d.ProcessingInfo, rl, nil
}

func (c *Client) mediaStatus(ctx context.Context, token, id string) (*mediaData, RateLimit, error) {
	var out mediaAnswer
	k := call{method: http.MethodGet, path: "/2/media/upload", query: url.Values{"media_id": {id}, "command": {"STATUS"}}}
	rl, err := c.send(ctx, token, k, &out)
	if err != nil {
		return nil, rl, err
	}
	if out.Data == nil {
		return nil, rl, partialError(k.op(), out.Errors, rl, "X returned no media status")
	}
	return out.Data, rl, nil
}

// SetAltText attaches alt text (at most 1000 characters) to uploaded media.
// Call it after the upload and before the post.
func (c *Client) SetAltText(ctx context.Context, token, mediaID, text string) (RateLimit, error) {
	if !validID(mediaID) {
		return RateLimit{}, invalidf("media id %q is not an X id", mediaID)
	}
	if text == "" {
		return RateLimit{}, invalidf("alt text is empty")
	}
	if err := CheckAltText(text); err != nil {
		return RateLimit{}, err
	}
	type altText struct {
		Text string `json:"text"`
	}
	type metadata struct {
		AltText altText `json:"alt_text"`
	}
	body, err := json.Marshal(struct {
		ID       string   `json:"id"`
		Metadata metadata `json:"metadata"`
	}{mediaID, metadata{altText{text}}})
	if err != nil {
		return RateLimit{}, err
	}
	k := call{method: http.MethodPost, path: "/2/media/metadata", contentType: "application/json", body: body}
	return c.send(ctx, token, k, nil)
}
