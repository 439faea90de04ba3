package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
)

// TestDemoRunTwice: a second demo on the same directory answers the first
// input: the fake continues the update ids from the offset the bot stored
// (issue 12 item 13).
func TestDemoRunTwice(t *testing.T) {
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
// presses it; an edit keeps a message's numbers; a newer message with
// buttons or a deletion gives the numbers out again (issue 12 item 13).
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
	for _, step := range []struct {
		got, want string
	}{
		{bot(telegramtest.EventNew, 10, nil, contact), "[1] 📱 Bagikan nomor"},
		{bot(telegramtest.EventNew, 11, btn("Lewati"), nil), "[2] Lewati"},
		{bot(telegramtest.EventEdit, 11, btn("Lewati", "Kembali"), nil), "[2] Lewati  [3] Kembali"},
		{bot(telegramtest.EventNew, 12, btn("Ya"), nil), "[2] Ya"},
		{bot(telegramtest.EventNew, 13, btn("A", "B"), nil), "[2] A  [3] B"},
		{bot(telegramtest.EventDelete, 13, nil, nil), "deleted"},
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
