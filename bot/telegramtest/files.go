package telegramtest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // image.DecodeConfig of uploads
	"image/jpeg"
	_ "image/png" // image.DecodeConfig of uploads
	"mime"
	"path"
	"strings"

	"github.com/go-telegram/bot/models"
)

type fileKind string

const (
	filePhoto    fileKind = "photo"
	fileDocument fileKind = "document"
	fileSticker  fileKind = "sticker"
	fileVoice    fileKind = "voice"
)

// fileRecord is a file known to the fake: uploaded by the bot or sent by a
// user.
type fileRecord struct {
	id       string
	uniqueID string
	kind     fileKind
	path     string
	data     []byte
	name     string // documents
	mimeType string
	width    int // photos and stickers
	height   int
	// sizes is the whole set of sizes of the photo this file belongs to.
	sizes []models.PhotoSize
}

func (f *fileRecord) photoSize() models.PhotoSize {
	return models.PhotoSize{FileID: f.id, FileUniqueID: f.uniqueID, Width: f.width, Height: f.height, FileSize: len(f.data)}
}

func (f *fileRecord) apiFile() models.File {
	return models.File{FileID: f.id, FileUniqueID: f.uniqueID, FileSize: int64(len(f.data)), FilePath: f.path}
}

// newFileLocked registers a file. The ids are deterministic: the n-th file
// of a server always gets the same id.
func (s *Server) newFileLocked(kind fileKind, ext string, data []byte) *fileRecord {
	s.nextFile++
	n := s.nextFile
	dir := map[fileKind]string{filePhoto: "photos", fileDocument: "documents", fileSticker: "stickers", fileVoice: "voice"}[kind]
	f := &fileRecord{
		id:       fmt.Sprintf("%s-file-%04d", kind, n),
		uniqueID: fmt.Sprintf("uniq-%04d", n),
		kind:     kind,
		path:     fmt.Sprintf("%s/file_%d%s", dir, n, ext),
		data:     data,
	}
	s.files[f.id] = f
	s.filesByPath[f.path] = f
	return f
}

// newPhotoLocked registers a photo. With data == nil it generates a
// deterministic JPEG in two sizes (90x67 and 640x480), as Telegram stores
// thumbnails next to the original; with data it stores those bytes as the
// only size. It returns the sizes, smallest first.
func (s *Server) newPhotoLocked(data []byte) []models.PhotoSize {
	var recs []*fileRecord
	if data == nil {
		seed := s.nextFile + 1
		for _, dim := range [][2]int{{90, 67}, {640, 480}} {
			f := s.newFileLocked(filePhoto, ".jpg", generateJPEG(dim[0], dim[1], seed))
			f.width, f.height, f.mimeType = dim[0], dim[1], "image/jpeg"
			recs = append(recs, f)
		}
	} else {
		ext, mt := ".jpg", "image/jpeg"
		w, h := 800, 600
		if cfg, format, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
			w, h = cfg.Width, cfg.Height
			ext, mt = "."+format, "image/"+format
			if format == "jpeg" {
				ext = ".jpg"
			}
		}
		f := s.newFileLocked(filePhoto, ext, data)
		f.width, f.height, f.mimeType = w, h, mt
		recs = append(recs, f)
	}
	sizes := make([]models.PhotoSize, len(recs))
	for i, f := range recs {
		sizes[i] = f.photoSize()
	}
	for _, f := range recs {
		f.sizes = sizes
	}
	return sizes
}

// newDocumentLocked registers a document.
func (s *Server) newDocumentLocked(name, mimeType string, data []byte) *fileRecord {
	ext := path.Ext(name)
	if mimeType == "" || mimeType == "application/octet-stream" {
		if t := mime.TypeByExtension(ext); t != "" {
			mimeType = t
		} else {
			mimeType = "application/octet-stream"
		}
	}
	f := s.newFileLocked(fileDocument, ext, data)
	f.name, f.mimeType = name, mimeType
	return f
}

// generateJPEG draws a deterministic gradient picture and encodes it.
func generateJPEG(w, h, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{
				R: uint8((x*255/max(w-1, 1) + seed*37) % 256),
				G: uint8((y*255/max(h-1, 1) + seed*91) % 256),
				B: uint8((seed * 53) % 256),
				A: 255,
			})
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75})
	return buf.Bytes()
}

// oggVoice is a small deterministic stand-in for an OGG/Opus voice note.
func oggVoice(seed int) []byte {
	b := []byte("OggS\x00\x02")
	for i := 0; i < 256; i++ {
		b = append(b, byte(i*seed))
	}
	return b
}

// webpSticker is a small deterministic stand-in for a WEBP sticker.
func webpSticker(seed int) []byte {
	b := []byte("RIFF\x00\x01\x00\x00WEBPVP8 ")
	for i := 0; i < 128; i++ {
		b = append(b, byte(i+seed))
	}
	return b
}

// resolveInputFile finds the file a sending method refers to in field: an
// upload (multipart file field, or "attach://name"), a known file_id or an
// HTTP URL. create registers uploads and URLs.
func (s *Server) resolveInputFile(p *params, field string, create func(u *upload) *fileRecord) (*fileRecord, *apiError) {
	if up := p.files[field]; up != nil {
		return create(up), nil
	}
	ref := strings.TrimSpace(p.str(field))
	switch {
	case ref == "":
		return nil, badRequest(fmt.Sprintf("there is no %s in the request", field))
	case strings.HasPrefix(ref, "attach://"):
		up := p.files[strings.TrimPrefix(ref, "attach://")]
		if up == nil {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		return create(up), nil
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		return create(&upload{Filename: path.Base(ref)}), nil
	}
	f := s.files[ref]
	if f == nil {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	return f, nil
}

func (s *Server) mGetFile(c *call) (any, *apiError) {
	id := c.p.str("file_id")
	if id == "" {
		return nil, badRequest("file_id is empty")
	}
	f := s.files[id]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	return f.apiFile(), nil
}

// mDownload serves GET /file/bot<token>/<file_path>.
func (s *Server) mDownload(c *call) (any, *apiError) {
	f := s.filesByPath[c.p.str("file_path")]
	if f == nil {
		return nil, &apiError{code: 404, desc: "Not Found"}
	}
	ct := f.mimeType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return rawResult{contentType: ct, data: append([]byte(nil), f.data...)}, nil
}

// FileData returns the content of a file known to the fake, by file_id.
func (s *Server) FileData(fileID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil {
		return nil, false
	}
	return append([]byte(nil), f.data...), true
}
