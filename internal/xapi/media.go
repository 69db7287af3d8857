package xapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// Category is X's media_category: it selects X's size and processing rules.
type Category string

const (
	CategoryImage Category = "tweet_image"
	CategoryGIF   Category = "tweet_gif"
	CategoryVideo Category = "tweet_video"
)

// X's limits for media attached to posts (docs: image ≤ 5 MB, animated GIF
// ≤ 15 MB, video ≤ 512 MB; X means binary megabytes).
const (
	MaxImageBytes = 5 << 20
	MaxGIFBytes   = 15 << 20
	MaxVideoBytes = 512 << 20
	// MaxImagesPerPost is the image count allowed on one post; a GIF or a
	// video must be the post's only media.
	MaxImagesPerPost = 4
	// MaxAltTextChars is the alt-text limit, in characters.
	MaxAltTextChars = maxAltTextLength
)

// MediaFile is a file checked against X's rules, ready to upload.
type MediaFile struct {
	Path     string
	Size     int64
	MIMEType string // image/jpeg, image/png, image/gif, image/webp, video/mp4, video/quicktime
	Category Category
	Animated bool // GIF with more than one frame
}

// rejectf reports a file or combination X would refuse, as an
// ErrInvalidArgument whose message says why in one line.
func rejectf(format string, args ...any) error { return invalidf(format, args...) }

// InspectMedia detects a file's type by its content (never its name),
// chooses X's media category and checks X's size limit for it, so that a
// file X would refuse fails before anything is uploaded.
func InspectMedia(path string) (MediaFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return MediaFile{}, openMediaError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return MediaFile{}, fmt.Errorf("stat media: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return MediaFile{}, rejectf("%s is not a regular file", path)
	}
	m, err := inspect(f, fi.Size())
	if err != nil {
		return MediaFile{}, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	m.Path = path
	return m, nil
}

// openMediaError says once which file could not be opened and why (an
// *os.PathError alone reads "open /x.png: …", which a caller's own "open
// media" would repeat).
func openMediaError(path string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("media file %s does not exist", path)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot open media file %s: %w", path, err)
}

// inspect classifies content of the given size read from r.
func inspect(r io.ReadSeeker, size int64) (MediaFile, error) {
	if size == 0 {
		return MediaFile{}, rejectf("file is empty")
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return MediaFile{}, fmt.Errorf("read media: %w", err)
	}
	head = head[:n]
	mt := sniff(head)
	m := MediaFile{Size: size, MIMEType: mt}
	switch mt {
	case "image/jpeg", "image/png", "image/webp":
		m.Category = CategoryImage
	case "image/gif":
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return MediaFile{}, fmt.Errorf("read media: %w", err)
		}
		frames, err := gifFrames(bufio.NewReader(r))
		if err != nil {
			return MediaFile{}, rejectf("not a valid GIF (%v)", err)
		}
		m.Animated = frames > 1
		m.Category = CategoryImage
		if m.Animated {
			m.Category = CategoryGIF
		}
	case "video/mp4", "video/quicktime":
		m.Category = CategoryVideo
	case "video/webm":
		return MediaFile{}, rejectf("WebM video is not accepted on posts; X takes MP4 or MOV")
	default:
		return MediaFile{}, rejectf("unsupported file type %s; X takes JPEG, PNG, GIF or WEBP images and MP4 or MOV video", mt)
	}
	if limit := m.limit(); size > limit {
		return MediaFile{}, rejectf("%s is %s (%d bytes); X allows at most %s for %s", kindName(m), humanBytes(size), size, humanBytes(limit), kindPlural(m))
	}
	return m, nil
}

func (m MediaFile) limit() int64 {
	switch m.Category {
	case CategoryGIF:
		return MaxGIFBytes
	case CategoryVideo:
		return MaxVideoBytes
	default:
		return MaxImageBytes
	}
}

func kindName(m MediaFile) string {
	switch m.Category {
	case CategoryGIF:
		return "animated GIF"
	case CategoryVideo:
		return "video"
	default:
		return "image"
	}
}

func kindPlural(m MediaFile) string {
	switch m.Category {
	case CategoryGIF:
		return "animated GIFs"
	case CategoryVideo:
		return "videos"
	default:
		return "images"
	}
}

func humanBytes(n int64) string {
	const mib = 1 << 20
	if n%mib == 0 {
		return fmt.Sprintf("%d MB", n/mib)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/mib)
}

// sniff names the media type of a file from its first bytes:
// net/http.DetectContentType, plus the ISO base media (ftyp) brands that
// tell MP4 from QuickTime, and EBML for WebM.
func sniff(head []byte) string {
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch string(head[8:12]) {
		case "qt  ":
			return "video/quicktime"
		case "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "M4VH", "M4VP", "dash", "MSNV", "3gp4", "3gp5", "3gp6":
			return "video/mp4"
		}
	}
	// QuickTime files from old cameras may start with a moov/mdat/wide atom.
	if len(head) >= 8 {
		switch string(head[4:8]) {
		case "moov", "mdat", "wide", "free", "skip", "pnot":
			return "video/quicktime"
		}
	}
	if len(head) >= 4 && bytes.Equal(head[:4], []byte{0x1A, 0x45, 0xDF, 0xA3}) {
		if bytes.Contains(head, []byte("webm")) {
			return "video/webm"
		}
		return "video/x-matroska"
	}
	mt := http.DetectContentType(head)
	if i := bytes.IndexByte([]byte(mt), ';'); i >= 0 {
		mt = mt[:i]
	}
	return mt
}

// gifFrames counts the image descriptors of a GIF by walking its blocks,
// without decoding pixels.
func gifFrames(r *bufio.Reader) (int, error) {
	hdr := make([]byte, 13)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, err
	}
	if string(hdr[:3]) != "GIF" {
		return 0, errors.New("bad signature")
	}
	if hdr[10]&0x80 != 0 { // global color table
		if _, err := r.Discard(3 << (int(hdr[10]&7) + 1)); err != nil {
			return 0, err
		}
	}
	frames := 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case 0x3B: // trailer
			return frames, nil
		case 0x21: // extension: label, then sub-blocks
			if _, err := r.ReadByte(); err != nil {
				return 0, err
			}
			if err := skipSubBlocks(r); err != nil {
				return 0, err
			}
		case 0x2C: // image descriptor
			frames++
			desc := make([]byte, 9)
			if _, err := io.ReadFull(r, desc); err != nil {
				return 0, err
			}
			if desc[8]&0x80 != 0 { // local color table
				if _, err := r.Discard(3 << (int(desc[8]&7) + 1)); err != nil {
					return 0, err
				}
			}
			if _, err := r.ReadByte(); err != nil { // LZW minimum code size
				return 0, err
			}
			if err := skipSubBlocks(r); err != nil {
				return 0, err
			}
			if frames > 1 {
				return frames, nil // enough to know it is animated
			}
		default:
			return 0, fmt.Errorf("unknown block 0x%02x", b)
		}
	}
}

func skipSubBlocks(r *bufio.Reader) error {
	for {
		n, err := r.ReadByte()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if _, err := r.Discard(int(n)); err != nil {
			return err
		}
	}
}

// CheckPostMedia checks the media of one post together: up to four images,
// or one animated GIF, or one video.
func CheckPostMedia(files []MediaFile) error {
	var images, gifs, videos int
	for _, f := range files {
		switch f.Category {
		case CategoryGIF:
			gifs++
		case CategoryVideo:
			videos++
		default:
			images++
		}
	}
	switch {
	case videos+gifs > 0 && len(files) > 1:
		return rejectf("a post with a video or animated GIF can carry no other media (got %d files)", len(files))
	case images > MaxImagesPerPost:
		return rejectf("%d images on one post; X allows at most %d", images, MaxImagesPerPost)
	}
	return nil
}

// CheckAltText checks alt text against X's limit of 1000 characters.
func CheckAltText(text string) error {
	if n := utf8.RuneCountInString(text); n > MaxAltTextChars {
		return rejectf("alt text is %d characters; X allows at most %d", n, MaxAltTextChars)
	}
	return nil
}
