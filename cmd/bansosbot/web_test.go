package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
)

// TestFileProxy: a ticket's photo reaches the dashboard through the Bot
// API (getFile, then the download) with the bytes the citizen sent; an
// unknown file is 502, and the token never appears in the answer.
func TestFileProxy(t *testing.T) {
	e := newE2E(t)
	photo := []byte("\xff\xd8\xff\xe0 a small jpeg of a house \xff\xd9")
	_, fileID := e.fake.SendPhotoData(telegramtest.User{ID: 901, FirstName: "Siti", LanguageCode: "id"}, "", photo)
	m := NewMain(e.config(), nil)
	rec := httptest.NewRecorder()
	m.fileProxy(rec, httptest.NewRequest(http.MethodGet, "/dasbor/tiket/X/berkas/1", nil), fileID)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), photo) {
		t.Fatalf("proxied photo: %d, %d bytes; want 200 and the %d bytes sent", rec.Code, rec.Body.Len(), len(photo))
	}
	rec = httptest.NewRecorder()
	m.fileProxy(rec, httptest.NewRequest(http.MethodGet, "/dasbor/tiket/X/berkas/1", nil), "no-such-file")
	if rec.Code != http.StatusBadGateway || bytes.Contains(rec.Body.Bytes(), []byte(testToken)) {
		t.Fatalf("unknown file: %d %q; want 502 without the token", rec.Code, rec.Body.String())
	}
}
