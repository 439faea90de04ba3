package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/go-telegram/bot/models"
)

func testRenderer() *Renderer {
	loc, _ := time.LoadLocation("Asia/Jakarta")
	return NewRenderer(locales.MustDefault(), loc)
}

func TestRenderEscapesUserText(t *testing.T) {
	r := testRenderer()
	got := r.Msg("en", flows.T("general.unknown_command", "Command", `<b>x</b> & "y"`))
	if want := "Unknown command &lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;."; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestRenderTime(t *testing.T) {
	r := testRenderer()
	at := time.Date(2026, 12, 1, 2, 5, 0, 0, time.UTC) // 09:05 WIB
	makassar, _ := time.LoadLocation("Asia/Makassar")
	tests := []struct {
		lang string
		t    flows.Time
		want string
	}{
		{"id", flows.Time{T: at}, "1 Desember 2026 09.05 WIB"},
		{"en", flows.Time{T: at}, "1 December 2026, 09:05 WIB"},
		{"id", flows.Time{T: at, Loc: makassar}, "1 Desember 2026 10.05 WITA"},
		{"id", flows.Time{T: at, DateOnly: true}, "1 Desember 2026"},
		{"en", flows.Time{}, "-"},
	}
	for _, tt := range tests {
		if got := r.Time(tt.lang, tt.t); got != tt.want {
			t.Errorf("Time(%s, %v) = %q; want %q", tt.lang, tt.t, got, tt.want)
		}
	}
}

func TestRenderMergesAndSplits(t *testing.T) {
	r := testRenderer()
	replies := []flows.Reply{
		{Action: flows.AnswerCallback, ChatID: 1, CallbackID: "q1"},
		{Action: flows.Send, ChatID: 1, Text: []flows.Msg{flows.T("lang.set")}},
		{Action: flows.Send, ChatID: 1, Text: []flows.Msg{flows.T("menu.title")}, Buttons: [][]flows.Button{{{Label: flows.T("menu.help"), Data: "mn..help"}}}},
		{Action: flows.Send, ChatID: 2, Text: []flows.Msg{flows.T("menu.hint")}},
	}
	calls, err := r.Render(replies)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 {
		t.Fatalf("calls = %d; want answer, one merged message to chat 1, one to chat 2", len(calls))
	}
	if calls[1].Method != mSendMessage || !strings.Contains(calls[1].Text, "Bahasa diatur") || !strings.Contains(calls[1].Text, "Menu utama") || len(calls[1].Buttons) != 1 {
		t.Errorf("merged call = %+v", calls[1])
	}
	if calls[1].Buttons[0][0].Text != "❓ Bantuan" {
		t.Errorf("button label %q; want plain text", calls[1].Buttons[0][0].Text)
	}

	// A long text with a keyboard: split on lines, buttons on the last part.
	long := strings.Repeat("baris panjang <b>tebal</b> &amp; lainnya\n", 300) // ~12k characters
	parts := splitText(long, maxText)
	if len(parts) < 3 {
		t.Fatalf("parts = %d; want at least 3", len(parts))
	}
	var joined []string
	for _, p := range parts {
		if n := utf8.RuneCountInString(p); n > maxText {
			t.Errorf("part of %d characters; want at most %d", n, maxText)
		}
		if !strings.HasSuffix(p, "</b> &amp; lainnya") {
			t.Errorf("part not cut at a line end: ...%q", p[max(0, len(p)-30):])
		}
		joined = append(joined, p)
	}
	if strings.Join(joined, "\n") != strings.TrimSuffix(long, "\n") {
		t.Error("split lost or changed text")
	}
}

func TestMarkupOfCalls(t *testing.T) {
	if m := markup(call{Keyboard: &keyboard{Rows: [][]keyButton{{{Text: "Kirim nomor", Contact: true}}}}}); m == nil {
		t.Fatal("no reply keyboard")
	} else if kb, ok := m.(*models.ReplyKeyboardMarkup); !ok || !kb.Keyboard[0][0].RequestContact || !kb.OneTimeKeyboard {
		t.Errorf("reply keyboard = %#v", m)
	}
	if m := markup(call{Keyboard: &keyboard{Remove: true}}); m == nil {
		t.Error("no keyboard removal")
	}
	if m := markup(call{}); m != nil {
		t.Errorf("markup of a plain call = %#v; want none", m)
	}
}

// FuzzSplitText: pieces are within the limit and together hold the whole
// text (only newlines at the cuts may go).
func FuzzSplitText(f *testing.F) {
	f.Add("a\nb\nc", 2)
	f.Add("<b>bold</b> &amp; text", 7)
	f.Add(strings.Repeat("x", 50), 10)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 16 || n > 5000 || !utf8.ValidString(s) {
			return
		}
		parts := splitText(s, n)
		total := 0
		for _, p := range parts {
			if utf8.RuneCountInString(p) > n {
				t.Fatalf("part longer than %d: %q", n, p)
			}
			total += len(strings.ReplaceAll(p, "\n", ""))
		}
		if want := len(strings.ReplaceAll(s, "\n", "")); total != want {
			t.Fatalf("split kept %d non-newline bytes of %d", total, want)
		}
	})
}

// FuzzUpdate: any JSON body either is refused or becomes an inbox item
// and an input without panicking.
func FuzzUpdate(f *testing.F) {
	f.Add(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"A"},"text":"/start@bot x"}}`)
	f.Add(`{"update_id":2,"callback_query":{"id":"q","from":{"id":5,"first_name":"A"},"data":"cs.1.yes"}}`)
	f.Add(`{"update_id":3,"message":{"message_id":2,"date":1,"chat":{"id":5,"type":"private"},"photo":[{"file_id":"f","file_unique_id":"u","width":1,"height":1}]}}`)
	f.Add(`{"update_id":0}`)
	f.Fuzz(func(t *testing.T, body string) {
		it, _, err := inboxItem(json.RawMessage(body), time.Now())
		if err != nil {
			return
		}
		var u models.Update
		if json.Unmarshal(it.Update, &u) != nil {
			t.Fatal("accepted an undecodable update")
		}
		if in, ok := toInput(&u); ok && in.Command != "" && !strings.HasPrefix(in.Command, "/") {
			t.Fatalf("command %q without slash", in.Command)
		}
	})
}

// TestRenderEditButtons: removing an answered prompt's buttons is an
// editMessageReplyMarkup of that message without text and without
// buttons, never merged into a message.
func TestRenderEditButtons(t *testing.T) {
	r := testRenderer()
	calls, err := r.Render([]flows.Reply{
		{Action: flows.Send, ChatID: 1, Text: []flows.Msg{flows.T("menu.hint")}},
		{Action: flows.EditButtons, ChatID: 1, MessageID: 77},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[1].Method != mEditMarkup || calls[1].MessageID != 77 || calls[1].Text != "" || len(calls[1].Buttons) != 0 || markup(calls[1]) != nil {
		t.Errorf("calls = %+v; want the message, then editMessageReplyMarkup of 77 without markup", calls)
	}
}

// TestRenderKeepsPromptMark: the prompt mark of a reply (its session
// step) stays on the call that carries its buttons, when the prompt is
// merged into the message before it and when a long one is split (the
// outbox records that call's message id).
func TestRenderKeepsPromptMark(t *testing.T) {
	r := testRenderer()
	ask := &bansosbot.Prompt{Flow: "rp", Step: 7}
	btn := [][]flows.Button{{{Label: flows.T("general.cancel"), Data: "rp.7.x"}}}
	calls, err := r.Render([]flows.Reply{
		{Action: flows.Send, ChatID: 1, Text: []flows.Msg{flows.T("menu.hint")}},
		{Action: flows.Send, ChatID: 1, Text: []flows.Msg{flows.T("menu.title")}, Buttons: btn, Prompt: ask},
		{Action: flows.Send, ChatID: 1, Text: []flows.Msg{flows.T("menu.hint")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].Prompt == nil || *calls[0].Prompt != *ask || len(calls[0].Buttons) != 1 || calls[1].Prompt != nil {
		t.Errorf("calls = %+v; want the merged prompt marked rp/7, the message after it unmarked", calls)
	}
	long := strings.Repeat("baris panjang\n", 800)
	calls, err = r.Render([]flows.Reply{{Action: flows.Send, ChatID: 1, Text: []flows.Msg{flows.T("staff.confirm_r", "No", "BS-X", "Text", long)}, Buttons: btn, Prompt: ask}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(calls); n < 2 || calls[n-1].Prompt == nil || len(calls[n-1].Buttons) == 0 || calls[0].Prompt != nil {
		t.Errorf("%d calls; want a split prompt, the last part (with the buttons) marked and only it", n)
	}
}

// TestRenderSendVoice: a staff member's "play" is a sendVoice of the
// stored file id with a caption.
func TestRenderSendVoice(t *testing.T) {
	calls, err := testRenderer().Render([]flows.Reply{{Action: flows.SendVoice, ChatID: 601, FileID: "AwACAgVOICE", Text: []flows.Msg{flows.T("staff.voice_caption", "No", "BS-1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].Method != mSendVoice || calls[0].FileID != "AwACAgVOICE" || !strings.Contains(calls[0].Text, "BS-1") {
		t.Errorf("calls = %+v; want one sendVoice of the file with its caption", calls)
	}
}

// TestVoiceNoteInput: a voice note comes in with its file id and length
// (the description step takes it); an audio file stays an unsupported
// medium.
func TestVoiceNoteInput(t *testing.T) {
	u := models.Update{ID: 1, Message: &models.Message{ID: 5, Chat: models.Chat{ID: 9, Type: "private"}, From: &models.User{ID: 9},
		Voice: &models.Voice{FileID: "AwACAgVOICE", FileUniqueID: "uv1", Duration: 42}}}
	in, ok := toInput(&u)
	if !ok || in.Media != "voice" || in.Voice == nil || in.Voice.FileID != "AwACAgVOICE" || in.Voice.Seconds != 42 {
		t.Fatalf("voice note input = %+v; want Media voice with the file and its length", in)
	}
	u.Message.Voice, u.Message.Audio = nil, &models.Audio{FileID: "song"}
	if in, _ := toInput(&u); in.Media != "voice" || in.Voice != nil {
		t.Errorf("audio file input = %+v; want an unsupported medium without a voice note", in)
	}
}
