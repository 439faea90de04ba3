package telegramtest

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func download(t *testing.T, ctx context.Context, link string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

func TestPhotoUploadAndDownload(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)

	img := image.NewRGBA(image.Rect(0, 0, 33, 21))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	pngData := buf.Bytes()

	m, err := b.SendPhoto(ctx, &tg.SendPhotoParams{
		ChatID:    alice.ID,
		Photo:     &models.InputFileUpload{Filename: "bukti.png", Data: bytes.NewReader(pngData)},
		Caption:   "<i>Bukti</i> laporan",
		ParseMode: models.ParseModeHTML,
		ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
			{Text: "Hapus", CallbackData: "photo:del"},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Photo) != 1 || m.Photo[0].Width != 33 || m.Photo[0].Height != 21 || m.Photo[0].FileSize != len(pngData) || m.Caption != "Bukti laporan" || len(m.CaptionEntities) != 1 {
		t.Fatalf("photo message: %+v", m)
	}
	f, err := b.GetFile(ctx, &tg.GetFileParams{FileID: m.Photo[0].FileID})
	if err != nil {
		t.Fatal(err)
	}
	code, data := download(t, ctx, b.FileDownloadLink(f))
	if code != 200 || !bytes.Equal(data, pngData) || f.FileSize != int64(len(pngData)) {
		t.Fatalf("download: %d, %d bytes (want %d)", code, len(data), len(pngData))
	}

	// Re-send by file_id: same photo, no new upload.
	m2, err := b.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: budi.ID, Photo: &models.InputFileString{Data: m.Photo[0].FileID}})
	if err != nil || len(m2.Photo) != 1 || m2.Photo[0].FileID != m.Photo[0].FileID {
		t.Fatalf("resend: %+v %v", m2, err)
	}
	// By URL.
	if _, err := b.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: budi.ID, Photo: &models.InputFileString{Data: "https://example.org/a.jpg"}}); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*tg.SendPhotoParams{
		"unknown file id": {ChatID: budi.ID, Photo: &models.InputFileString{Data: "nope"}},
		"long caption":    {ChatID: budi.ID, Photo: &models.InputFileString{Data: m.Photo[0].FileID}, Caption: strings.Repeat("c", 1025)},
	} {
		if _, err := b.SendPhoto(ctx, p); !errors.Is(err, tg.ErrorBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := b.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: budi.ID, Photo: &models.InputFileString{Data: m.Photo[0].FileID}, Caption: strings.Repeat("c", 1024)}); err != nil {
		t.Fatalf("1024 caption: %v", err)
	}
	if got := srv.BotMessages(alice.ID)[0].String(); got != "bot#1: [photo] Bukti laporan [Hapus|photo:del]" {
		t.Fatalf("entry: %s", got)
	}

	// Documents, uploaded with the client.
	doc, err := b.SendDocument(ctx, &tg.SendDocumentParams{ChatID: alice.ID, Document: &models.InputFileUpload{Filename: "rekap.csv", Data: strings.NewReader("a,b\n1,2\n")}, Caption: "Rekap"})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Document == nil || doc.Document.FileName != "rekap.csv" || !strings.HasPrefix(doc.Document.MimeType, "text/csv") {
		t.Fatalf("document: %+v", doc.Document)
	}
	if data, ok := srv.FileData(doc.Document.FileID); !ok || string(data) != "a,b\n1,2\n" {
		t.Fatalf("document data %q", data)
	}
	if got := srv.BotMessages(alice.ID)[1].String(); got != "bot#2: [document rekap.csv] Rekap" {
		t.Fatalf("entry: %s", got)
	}

	// Locations from the bot.
	loc, err := b.SendLocation(ctx, &tg.SendLocationParams{ChatID: alice.ID, Latitude: -6.9, Longitude: 107.6})
	if err != nil || loc.Location == nil || loc.Location.Latitude != -6.9 {
		t.Fatalf("location: %+v %v", loc, err)
	}
	if _, err := b.SendLocation(ctx, &tg.SendLocationParams{ChatID: alice.ID, Latitude: 91, Longitude: 0}); !errors.Is(err, tg.ErrorBadRequest) {
		t.Fatalf("bad latitude: %v", err)
	}
}

func TestUserPhotoGetFileAndDownload(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)

	id, fileID := srv.SendPhoto(alice, "rumah rusak")
	ups := getUpdates(t, ctx, srv, id, 0)
	if len(ups) != 1 || len(ups[0].Message.Photo) != 2 || ups[0].Message.Caption != "rumah rusak" {
		t.Fatalf("photo update: %+v", ups)
	}
	largest := ups[0].Message.Photo[1]
	if largest.FileID != fileID || largest.Width != 640 || largest.Height != 480 {
		t.Fatalf("largest size: %+v", largest)
	}
	f, err := b.GetFile(ctx, &tg.GetFileParams{FileID: fileID})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.FilePath, "photos/") || f.FileSize != int64(largest.FileSize) {
		t.Fatalf("file: %+v", f)
	}
	code, data := download(t, ctx, b.FileDownloadLink(f))
	if code != 200 {
		t.Fatalf("download status %d", code)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds().Dx() != 640 {
		t.Fatalf("decode: %v", err)
	}
	// Deterministic: another server produces the same bytes.
	other := newServer(t)
	_, otherID := other.SendPhoto(alice, "")
	otherData, _ := other.FileData(otherID)
	if !bytes.Equal(otherData, data) {
		t.Fatal("photo bytes are not deterministic")
	}

	if _, err := b.GetFile(ctx, &tg.GetFileParams{FileID: "missing"}); !errors.Is(err, tg.ErrorBadRequest) {
		t.Fatalf("missing file: %v", err)
	}
	if code, _ := download(t, ctx, srv.URL()+"/file/bot"+srv.Token()+"/photos/none.jpg"); code != 404 {
		t.Fatalf("missing path: %d", code)
	}
	if code, _ := download(t, ctx, srv.URL()+"/file/bot1:wrong/"+f.FilePath); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	srv.FailNext("download", 1, ServerError(502))
	if code, _ := download(t, ctx, b.FileDownloadLink(f)); code != 502 {
		t.Fatalf("download fault: %d", code)
	}
	if n := srv.Calls("download"); n != 4 {
		t.Fatalf("download calls %d", n)
	}

	_, docID := srv.SendDocument(alice, "kk.pdf", "", []byte("%PDF-1.4"), "kartu keluarga")
	f, err = b.GetFile(ctx, &tg.GetFileParams{FileID: docID})
	if err != nil || !strings.HasSuffix(f.FilePath, ".pdf") {
		t.Fatalf("doc file: %+v %v", f, err)
	}
	if code, data := download(t, ctx, b.FileDownloadLink(f)); code != 200 || string(data) != "%PDF-1.4" {
		t.Fatalf("doc download: %d %q", code, data)
	}
	want := "user#1: [photo] rumah rusak\nuser#2: [document kk.pdf] kartu keluarga\n"
	if got := FormatTranscript(srv.Transcript(alice.ID)); got != want {
		t.Fatalf("transcript:\n%s", got)
	}
}
