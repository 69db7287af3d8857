package fakex

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Media processing states, as X reports them.
const (
	StatePending    = "pending"
	StateInProgress = "in_progress"
	StateSucceeded  = "succeeded"
	StateFailed     = "failed"
	stateUploading  = "uploading" // initialized, not finalized
)

// Processing scripts how X processes video and animated GIF uploads.
type Processing struct {
	// CheckAfterSecs is the check_after_secs X asks the client to wait
	// between status polls (default 1).
	CheckAfterSecs int
	// Polls is how many status polls it takes to finish: the finalize
	// answer says pending, earlier polls in_progress, the Polls-th poll the
	// final state (default 2; negative means finished at finalize).
	Polls int
	// Fail makes processing end in "failed".
	Fail bool
	// FailMessage is the failure's message (default X's InvalidMedia text).
	FailMessage string
}

func (p Processing) withDefaults() Processing {
	if p.CheckAfterSecs <= 0 {
		p.CheckAfterSecs = 1
	}
	if p.Polls == 0 {
		p.Polls = 2
	}
	if p.FailMessage == "" {
		p.FailMessage = "Invalid or Unsupported media, Reason: UnsupportedMedia."
	}
	return p
}

// SetProcessing changes how media finalized from now on is processed.
func (s *Server) SetProcessing(p Processing) {
	s.mu.Lock()
	s.processing = p.withDefaults()
	s.mu.Unlock()
}

// Media is what the fake knows about an uploaded media id.
type Media struct {
	ID        string
	Key       string
	OwnerID   string
	Category  string
	MediaType string
	State     string // uploading, pending, in_progress, succeeded, failed
	Data      []byte // the assembled bytes, once uploaded
	AltText   string
	ExpiresAt time.Time
}

type mediaItem struct {
	id, key, owner     string
	category, mimeType string
	total              int64
	segments           map[int][]byte
	data               []byte
	state              string
	proc               Processing
	polls              int
	expires            time.Time
	altText            string
}

// Media returns what the fake holds for a media id.
func (s *Server) Media(id string) (Media, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	if m == nil {
		return Media{}, false
	}
	return Media{ID: m.id, Key: m.key, OwnerID: m.owner, Category: m.category, MediaType: m.mimeType,
		State: m.state, Data: append([]byte(nil), m.data...), AltText: m.altText, ExpiresAt: m.expires}, true
}

// category limits, in bytes.
var categoryLimit = map[string]int64{
	"tweet_image":   5 << 20,
	"dm_image":      5 << 20,
	"tweet_gif":     15 << 20,
	"dm_gif":        15 << 20,
	"tweet_video":   512 << 20,
	"dm_video":      512 << 20,
	"amplify_video": 512 << 20,
	"subtitles":     1 << 20,
}

func (s *Server) newMediaLocked(owner, category, mimeType string, total int64) *mediaItem {
	id := s.snowflakeLocked(&s.lastMediaID)
	prefix := "3" // X's media key prefixes: 3 photo, 7 video, 16 animated GIF
	switch category {
	case "tweet_video", "dm_video", "amplify_video":
		prefix = "7"
	case "tweet_gif", "dm_gif":
		prefix = "16"
	}
	m := &mediaItem{id: id, key: prefix + "_" + id, owner: owner, category: category, mimeType: mimeType,
		total: total, segments: map[int][]byte{}, state: stateUploading, expires: s.clock.Now().Add(s.opts.MediaTTL)}
	s.media[id] = m
	return m
}

func (s *Server) expiresAfterLocked(m *mediaItem) int {
	d := m.expires.Sub(s.clock.Now())
	if d < 0 {
		return 0
	}
	return int(d / time.Second)
}

// multipartForm reads a multipart body into fields; file parts and plain
// parts are both just bytes. Repeated fields are an error.
func multipartForm(r *http.Request, body []byte) (map[string][]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("content type %q is not multipart/form-data", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	out := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("multipart body: %v", err)
		}
		name := p.FormName()
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("multipart field %q repeated", name)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("multipart body: %v", err)
		}
		out[name] = b
	}
}

func (s *Server) badUpload(a *apiReq, violation bool, msg string) {
	if violation {
		s.violation(a.r, errors.New(msg))
	}
	invalidRequest(a.w, nil, msg)
}

// mediaUpload is the one-shot POST /2/media/upload (multipart or JSON).
func (s *Server) mediaUpload(a *apiReq) {
	var data []byte
	var category, mediaType string
	ct, _, _ := mime.ParseMediaType(a.r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		form, err := multipartForm(a.r, a.body)
		if err != nil {
			s.badUpload(a, true, err.Error())
			return
		}
		for k := range form {
			if !slices.Contains([]string{"media", "media_category", "media_type", "shared", "additional_owners"}, k) {
				s.badUpload(a, true, "unknown field "+k)
				return
			}
		}
		data, category, mediaType = form["media"], string(form["media_category"]), string(form["media_type"])
	case "application/json":
		var b struct {
			Media            string   `json:"media"`
			MediaCategory    string   `json:"media_category"`
			MediaType        string   `json:"media_type"`
			Shared           bool     `json:"shared"`
			AdditionalOwners []string `json:"additional_owners"`
		}
		if !s.decodeStrict(a, &b) {
			return
		}
		var err error
		if data, err = base64.StdEncoding.DecodeString(b.Media); err != nil {
			s.badUpload(a, true, "media is not base64")
			return
		}
		category, mediaType = b.MediaCategory, b.MediaType
	default:
		s.badUpload(a, true, "content type "+ct+" not accepted")
		return
	}
	if len(data) == 0 || category == "" {
		s.badUpload(a, true, "media and media_category are required")
		return
	}
	if !slices.Contains([]string{"tweet_image", "dm_image", "subtitles"}, category) {
		s.badUpload(a, true, "media_category "+category+" is not accepted by the one-shot upload")
		return
	}
	sniffed := http.DetectContentType(data)
	if !strings.HasPrefix(sniffed, "image/") {
		s.badUpload(a, false, "media type unrecognized.")
		return
	}
	if int64(len(data)) > categoryLimit[category] {
		s.badUpload(a, false, fmt.Sprintf("File size exceeds %d bytes.", categoryLimit[category]))
		return
	}
	if mediaType == "" {
		mediaType = sniffed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.newMediaLocked(a.user.ID, category, mediaType, int64(len(data)))
	m.data, m.state = data, StateSucceeded
	a.entry.MediaID = m.id
	writeJSON(a.w, http.StatusOK, map[string]any{"data": map[string]any{
		"id": m.id, "media_key": m.key, "size": len(data), "expires_after_secs": s.expiresAfterLocked(m),
	}})
}

// mediaInit is POST /2/media/upload/initialize.
func (s *Server) mediaInit(a *apiReq) {
	var b struct {
		MediaType        string   `json:"media_type"`
		TotalBytes       *int64   `json:"total_bytes"`
		MediaCategory    string   `json:"media_category"`
		Shared           bool     `json:"shared"`
		AdditionalOwners []string `json:"additional_owners"`
	}
	if !s.decodeStrict(a, &b) {
		return
	}
	if b.MediaType == "" || b.TotalBytes == nil {
		s.badUpload(a, true, "media_type and total_bytes are required")
		return
	}
	if b.MediaCategory == "" {
		b.MediaCategory = "tweet_image"
	}
	limit, ok := categoryLimit[b.MediaCategory]
	if !ok {
		s.badUpload(a, true, "unknown media_category "+b.MediaCategory)
		return
	}
	if *b.TotalBytes <= 0 || *b.TotalBytes > limit {
		s.badUpload(a, false, fmt.Sprintf("File size exceeds %d bytes.", limit))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.newMediaLocked(a.user.ID, b.MediaCategory, b.MediaType, *b.TotalBytes)
	a.entry.MediaID = m.id
	writeJSON(a.w, http.StatusOK, map[string]any{"data": map[string]any{
		"id": m.id, "media_key": m.key, "expires_after_secs": s.expiresAfterLocked(m),
	}})
}

// ownMediaLocked finds a media id of the requesting user, answering 400
// (X's answer for ids it does not know) otherwise.
func (s *Server) ownMediaLocked(a *apiReq, id string) *mediaItem {
	m := s.media[id]
	if m == nil || m.owner != a.user.ID {
		invalidRequest(a.w, map[string][]string{"media_id": {id}}, "Invalid mediaId.")
		return nil
	}
	a.entry.MediaID = id
	return m
}

// mediaAppend is POST /2/media/upload/{id}/append.
func (s *Server) mediaAppend(a *apiReq) {
	form, err := multipartForm(a.r, a.body)
	if err != nil {
		s.badUpload(a, true, err.Error())
		return
	}
	for k := range form {
		if k != "media" && k != "segment_index" {
			s.badUpload(a, true, "unknown field "+k)
			return
		}
	}
	seg, err := strconv.Atoi(string(form["segment_index"]))
	if err != nil || seg < 0 || seg > 999 {
		s.badUpload(a, true, "segment_index must be 0–999")
		return
	}
	chunk, ok := form["media"]
	if !ok || len(chunk) == 0 {
		s.badUpload(a, true, "media is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ownMediaLocked(a, a.id)
	if m == nil {
		return
	}
	if m.state != stateUploading || !s.clock.Now().Before(m.expires) {
		invalidRequest(a.w, nil, "Media upload session is not open.")
		return
	}
	m.segments[seg] = chunk
	writeJSON(a.w, http.StatusOK, map[string]any{"data": map[string]any{"expires_at": m.expires.Unix()}})
}

// mediaFinalize is POST /2/media/upload/{id}/finalize.
func (s *Server) mediaFinalize(a *apiReq) {
	if len(a.body) > 0 {
		s.violation(a.r, errors.New("finalize takes no body"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ownMediaLocked(a, a.id)
	if m == nil {
		return
	}
	if m.state != stateUploading {
		invalidRequest(a.w, nil, "Media is already finalized.")
		return
	}
	var data []byte
	for i := 0; i < len(m.segments); i++ {
		seg, ok := m.segments[i]
		if !ok {
			invalidRequest(a.w, nil, fmt.Sprintf("Segment %d is missing.", i))
			return
		}
		data = append(data, seg...)
	}
	if int64(len(data)) != m.total {
		invalidRequest(a.w, nil, "Segments do not add up to provided total file size.")
		return
	}
	m.data, m.segments = data, nil
	out := map[string]any{"id": m.id, "media_key": m.key, "size": len(data), "expires_after_secs": s.expiresAfterLocked(m)}
	if m.category == "tweet_image" || m.category == "dm_image" || m.category == "subtitles" {
		m.state = StateSucceeded
	} else {
		m.proc = s.processing
		if !looksLikeMedia(m.category, data) {
			m.proc.Fail = true
		}
		m.state = StatePending
		if m.proc.Polls < 0 {
			m.state = s.finalState(m)
		}
		out["processing_info"] = s.processingInfo(m)
	}
	writeJSON(a.w, http.StatusOK, map[string]any{"data": out})
}

func (s *Server) finalState(m *mediaItem) string {
	if m.proc.Fail {
		return StateFailed
	}
	return StateSucceeded
}

// looksLikeMedia is the fake's stand-in for X's transcoder: a video must
// carry an ISO media or WebM header, a GIF the GIF signature.
func looksLikeMedia(category string, b []byte) bool {
	switch category {
	case "tweet_gif", "dm_gif":
		return bytes.HasPrefix(b, []byte("GIF8"))
	default:
		return (len(b) >= 8 && string(b[4:8]) == "ftyp") || bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3})
	}
}

func (s *Server) processingInfo(m *mediaItem) map[string]any {
	pi := map[string]any{"state": m.state}
	switch m.state {
	case StatePending, StateInProgress:
		pi["check_after_secs"] = m.proc.CheckAfterSecs
		if m.proc.Polls > 0 {
			pi["progress_percent"] = m.polls * 100 / m.proc.Polls
		}
	case StateSucceeded:
		pi["progress_percent"] = 100
	case StateFailed:
		pi["progress_percent"] = m.polls * 100 / max(m.proc.Polls, 1)
		pi["error"] = map[string]any{"code": 1, "name": "InvalidMedia", "message": m.proc.FailMessage}
	}
	return pi
}

// mediaStatus is GET /2/media/upload?media_id=…&command=STATUS. Each poll
// advances processing by one step.
func (s *Server) mediaStatus(a *apiReq) {
	q := a.r.URL.Query()
	id := q.Get("media_id")
	if !validID(id) {
		s.badUpload(a, true, "media_id is required and must be an id")
		return
	}
	if c := q.Get("command"); c != "" && c != "STATUS" {
		s.badUpload(a, true, "command must be STATUS")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ownMediaLocked(a, id)
	if m == nil {
		return
	}
	if m.state == stateUploading {
		invalidRequest(a.w, nil, "Media is not finalized.")
		return
	}
	if m.state == StatePending || m.state == StateInProgress {
		m.polls++
		if m.polls >= m.proc.Polls {
			m.state = s.finalState(m)
		} else {
			m.state = StateInProgress
		}
	}
	out := map[string]any{"id": m.id, "media_key": m.key, "size": len(m.data), "expires_after_secs": s.expiresAfterLocked(m)}
	if m.proc.Polls != 0 {
		out["processing_info"] = s.processingInfo(m)
	}
	writeJSON(a.w, http.StatusOK, map[string]any{"data": out})
}

// mediaMetadata is POST /2/media/metadata (alt text).
func (s *Server) mediaMetadata(a *apiReq) {
	var b struct {
		ID       string                     `json:"id"`
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	if !s.decodeStrict(a, &b) {
		return
	}
	if !validID(b.ID) {
		s.badUpload(a, true, "id is required and must be a media id")
		return
	}
	var alt *struct {
		Text *string `json:"text"`
	}
	if raw, ok := b.Metadata["alt_text"]; ok {
		if err := json.Unmarshal(raw, &alt); err != nil || alt == nil || alt.Text == nil {
			s.badUpload(a, true, "metadata.alt_text.text is required")
			return
		}
		if n := utf8.RuneCountInString(*alt.Text); n > 1000 {
			s.badUpload(a, true, fmt.Sprintf("alt_text.text is %d characters, at most 1000", n))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ownMediaLocked(a, b.ID)
	if m == nil {
		return
	}
	assoc := map[string]any{}
	if alt != nil {
		m.altText = *alt.Text
		assoc["alt_text"] = map[string]string{"text": *alt.Text}
	}
	writeJSON(a.w, http.StatusOK, map[string]any{"data": map[string]any{"id": m.id, "associated_metadata": assoc}})
}
