package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
)

// TestE2EComplaintSurvivesRestart files a complaint over the fake Bot API
// with the program restarted in the middle of the draft: the draft is
// resumed where it stopped, the ticket is filed with the photo, location
// and phone, /tiket shows it, and the export contains it without any
// reporter data.
func TestE2EComplaintSurvivesRestart(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	m := e.start(cfg)
	cit := telegramtest.User{ID: 910, FirstName: "Wati", Username: "wati_b", LanguageCode: "id"}
	seen := map[int64]int{}
	e.onboard(cit)
	seen[cit.ID] = len(e.fake.BotMessages(cit.ID))

	e.fake.SendCommand(cit, "/lapor")
	e.pressOn(cit, e.expect(seen, cit.ID, "Buat pengaduan"), "c:PAYMENT_NOT_RECEIVED")
	e.expect(seen, cit.ID, "provinsi")
	e.fake.SendText(cit, "Cibinong")
	e.expect(seen, cit.ID, "desa/kelurahan")
	e.fake.SendText(cit, "Pakansari")
	e.expect(seen, cit.ID, "Ceritakan masalahnya")

	// Restart in the middle of the draft.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = e.start(cfg)
	defer func() { m.Close() }()

	e.fake.SendText(cit, "Bantuan PKH tahap ketiga belum masuk ke rekening saya sejak Agustus.")
	e.expect(seen, cit.ID, "foto pendukung")
	e.fake.SendPhoto(cit, "")
	e.expect(seen, cit.ID, "Terkirim: 1 foto.")
	e.fake.SendLocation(cit, -6.48167, 106.85417)
	e.pressOn(cit, e.expect(seen, cit.ID, "Terkirim: 1 foto, lokasi"), "done")
	ask := e.expect(seen, cit.ID, "menghubungi Bapak/Ibu")
	if len(ask.Keyboard) != 1 || len(ask.Keyboard[0]) != 1 || !ask.Keyboard[0][0].RequestContact {
		t.Fatalf("phone question = %s; want one contact-request button", ask)
	}
	e.fake.SendContact(cit, "+6281299990000")
	if saved := e.expect(seen, cit.ID, "Nomor telepon disimpan"); !saved.RemoveKeyboard {
		t.Errorf("%s: want the contact keyboard removed", saved)
	}
	summary := e.expect(seen, cit.ID, "Periksa pengaduan")
	for _, want := range []string{"Bantuan belum/tidak diterima", "Cibinong", "1 foto, lokasi", "+6281299990000"} {
		if !strings.Contains(summary.Text, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary.Text)
		}
	}
	e.pressOn(cit, summary, "send")
	filed := e.expect(seen, cit.ID, "Pengaduan diterima")
	no := ""
	for _, f := range strings.Fields(filed.Text) {
		if strings.HasPrefix(f, bansosbot.TicketPrefix) {
			no = strings.TrimRight(f, ".,")
		}
	}
	if _, err := bansosbot.ParseTicketNo(no); err != nil || !strings.Contains(filed.Text, "hari kerja") {
		t.Fatalf("filed message %q: ticket number %q (%v); want a valid number and the deadline in working days", filed.Text, no, err)
	}

	e.fake.SendCommand(cit, "/tiket")
	list := e.expect(seen, cit.ID, "Pengaduan Bapak/Ibu")
	if !strings.Contains(list.Text, no) || !strings.Contains(list.Text, "Baru") {
		t.Errorf("/tiket = %s; want ticket %s with its status", list, no)
	}
	e.pressOn(cit, list, "o:1")
	if view := e.expect(seen, cit.ID, "Tiket "+no); !strings.Contains(view.Text, "pengaduan dibuat") {
		t.Errorf("ticket view = %s; want its history", view)
	}

	var said strings.Builder
	for _, msg := range e.fake.BotMessages(cit.ID) {
		said.WriteString(msg.Text + "\n")
	}
	for _, want := range []string{"Wilayah: Cibinong, Kabupaten Bogor, Jawa Barat", "Foto 1 dari 3 diterima", "Lokasi diterima"} {
		if !strings.Contains(said.String(), want) {
			t.Errorf("the bot never said %q", want)
		}
	}

	// The export (read-only: the bot must be stopped) contains it.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-data", cfg.DataDir, "tickets", "export", "--format", "open311"}, secretEnv(cfg), strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var reqs []bansosbot.GeoReportRequest
	if err := json.Unmarshal(out.Bytes(), &reqs); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, out.String())
	}
	if len(reqs) != 1 || reqs[0].ServiceRequestID != no || reqs[0].ServiceCode != "PAYMENT_NOT_RECEIVED" ||
		reqs[0].Status != "open" || reqs[0].AddressID != "32.01.01.1007" || reqs[0].Lat == nil {
		t.Errorf("export = %s; want ticket %s, open, in Pakansari (Cibinong), with its location", out.String(), no)
	}
	for _, secret := range []string{"6281299990000", strconv.FormatInt(cit.ID, 10), "Wati", "wati_b"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the export carries reporter data %q", secret)
		}
	}
}
