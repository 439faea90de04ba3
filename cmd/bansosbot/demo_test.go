package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/synthetic"
)

// TestDemoRunTwice: a second demo on the same directory answers the first
// input: the fake continues the update ids from the offset the bot stored
// (issue 12 item 13).
func TestDemoRunTwice(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	dir := filepath.Join(t.TempDir(), "d")
	demo := func(input string) string {
		var out strings.Builder
		err := run(context.Background(), []string{"demo", "-dir", dir}, func(string) string { return "" },
			strings.NewReader(input), &syncWriter{w: &out}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if out := demo("/start\n1\n"); !strings.Contains(out, "Menu utama") {
		t.Fatalf("first run:\n%s", out)
	}
	out := demo("/start\n")
	if !strings.Contains(out, "bot: ") {
		t.Errorf("second run: the bot did not answer /start:\n%s", out)
	}
}

// TestDemoButtonNumbers: the reply keyboard's buttons (share contact) get
// numbers too, kept under the inline messages that follow, and typing one
// presses it; an edit keeps a message's numbers; the messages of one
// answer keep their numbers together (a /cek answer's buttons and the menu
// after it); the answer to the next input, or a deletion, gives the
// numbers out again (issue 12 item 13).
func TestDemoButtonNumbers(t *testing.T) {
	fake := telegramtest.NewServer("123456:demo-token")
	defer fake.Close()
	var out strings.Builder
	d := &demoChat{fake: fake, out: &out, chats: map[int64]*shownButtons{}}
	d.switchTo("citizen")
	chat := d.current.user.ID
	bot := func(typ telegramtest.EventType, id int, inline [][]telegramtest.Button, reply [][]telegramtest.KeyboardButton) string {
		out.Reset()
		d.show(telegramtest.Event{Type: typ, Entry: telegramtest.Entry{From: telegramtest.FromBot, ChatID: chat, MessageID: id,
			Text: "pesan", Inline: inline, Keyboard: reply}})
		return out.String()
	}
	btn := func(texts ...string) [][]telegramtest.Button {
		var row []telegramtest.Button
		for _, s := range texts {
			row = append(row, telegramtest.Button{Text: s, CallbackData: "x." + s})
		}
		return [][]telegramtest.Button{row}
	}
	contact := [][]telegramtest.KeyboardButton{{{Text: "📱 Bagikan nomor", RequestContact: true}}}
	turn := func() string { d.newTurn(chat); return "" }
	for _, step := range []struct {
		got, want string
	}{
		{bot(telegramtest.EventNew, 10, nil, contact), "[1] 📱 Bagikan nomor"},
		{bot(telegramtest.EventNew, 11, btn("Lewati"), nil), "[2] Lewati"},
		{bot(telegramtest.EventEdit, 11, btn("Lewati", "Kembali"), nil), "[2] Lewati  [3] Kembali"},
		{turn(), ""},
		{bot(telegramtest.EventNew, 12, btn("Ya"), nil), "[2] Ya"},           // the answer to the input replaces 11
		{bot(telegramtest.EventNew, 13, btn("A", "B"), nil), "[3] A  [4] B"}, // the same answer: 12 stays
		{bot(telegramtest.EventEdit, 12, btn("Ya", "Tidak"), nil), "[2] Ya  [5] Tidak"},
		{bot(telegramtest.EventDelete, 13, nil, nil), "deleted"},
		{turn(), ""},
		{bot(telegramtest.EventNew, 14, btn("C"), nil), "[2] C"},
	} {
		if !strings.Contains(step.got, step.want) {
			t.Errorf("shown %q; want %q", step.got, step.want)
		}
	}
	d.input("1") // the contact button of the reply keyboard
	found := false
	for _, e := range fake.Transcript(chat) {
		found = found || e.From == telegramtest.FromUser && e.Kind == telegramtest.KindContact
	}
	if !found {
		t.Errorf("typing 1 did not share the contact:\n%s", telegramtest.FormatTranscript(fake.Transcript(chat)))
	}
}

// TestDemoNotPaidShortcut: in the demo a citizen can take the /cek
// answer's "not received yet" button although the menu follows the answer
// (both keyboards of one answer keep their numbers), with a sample the demo
// prints for it, and answer the description with a voice note (:voice)
// (issue 11 items 8 and 13, issue 12 item 13).
func TestDemoNotPaidShortcut(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests

	samples, err := synthetic.Registry(&bytes.Buffer{}, 2000, 1) // the demo's registry
	if err != nil {
		t.Fatal(err)
	}
	var nik, name string
	for _, s := range samples {
		if len(s.Unpaid) > 0 {
			nik, name = s.NIK.Digits(), s.Name
		}
	}
	if nik == "" {
		t.Fatalf("no sample with an unpaid program: %+v", samples)
	}
	var out strings.Builder
	input := strings.Join([]string{"/start", "1", "/cek", nik, name,
		"1",      // ❗ the "not received yet" button of the answer, not the menu's first entry
		"1",      // 📍 the NIK's district, suggested
		"1",      // the first desa/kelurahan
		":voice", // the description as a voice note
	}, "\n") + "\n"
	if err := run(context.Background(), []string{"demo"}, func(string) string { return "" },
		strings.NewReader(input), &syncWriter{w: &out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "not paid yet") {
		t.Errorf("the demo does not print a sample to try the shortcut with:\n%s", got)
	}
	if !strings.Contains(got, "Jenis pengaduan: Bantuan belum/tidak diterima") {
		t.Fatalf("pressing the answer's first button did not start the pre-filled complaint:\n%s", got)
	}
	if !strings.Contains(got, "Kirim foto pendukung") {
		t.Errorf("the voice note was not taken as the description:\n%s", got)
	}
}
