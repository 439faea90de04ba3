package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// consentBot is a tiny bot driven by the real client: /start asks for
// consent with an inline keyboard, pressing "yes" answers the query, edits
// the question (dropping its keyboard) and asks for a location with a reply
// keyboard, and a location is acknowledged with the keyboard removed.
func consentBot(t *testing.T) tg.HandlerFunc {
	return func(ctx context.Context, b *tg.Bot, u *models.Update) {
		var err error
		switch {
		case u.Message != nil && u.Message.Text == "/start":
			_, err = b.SendMessage(ctx, &tg.SendMessageParams{
				ChatID:    u.Message.Chat.ID,
				Text:      "Selamat datang, <b>" + u.Message.From.FirstName + "</b>!\nSetuju &amp; lanjut?",
				ParseMode: models.ParseModeHTML,
				ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
					{Text: "Setuju", CallbackData: "consent:yes"},
					{Text: "Tolak", CallbackData: "consent:no"},
				}}},
			})
		case u.CallbackQuery != nil:
			q := u.CallbackQuery
			if _, err = b.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: "Tersimpan"}); err != nil {
				break
			}
			if q.Message.Message == nil {
				t.Errorf("callback without message: %+v", q)
				return
			}
			chatID := q.Message.Message.Chat.ID
			if _, err = b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: chatID, MessageID: q.Message.Message.ID, Text: "Terima kasih"}); err != nil {
				break
			}
			_, err = b.SendMessage(ctx, &tg.SendMessageParams{
				ChatID: chatID,
				Text:   "Kirim lokasi Anda",
				ReplyMarkup: &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{
					{{Text: "Kirim lokasi", RequestLocation: true}},
					{{Text: "Batal"}},
				}, ResizeKeyboard: true, OneTimeKeyboard: true},
			})
		case u.Message != nil && u.Message.Location != nil:
			_, err = b.SendMessage(ctx, &tg.SendMessageParams{
				ChatID:      u.Message.Chat.ID,
				Text:        "Lokasi diterima",
				ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true},
			})
		}
		// At the end of the test the client is stopped while the answer to
		// the last send may still be on its way.
		if err != nil && ctx.Err() == nil {
			t.Errorf("handler: update %d: %v", u.ID, err)
		}
	}
}

func TestEndToEndWithRealClient(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	events, cancel := srv.Subscribe()
	defer cancel()
	startBot(t, srv, consentBot(t))

	srv.SendCommand(alice, "/start")
	msgs, err := srv.WaitBotMessages(ctx, alice.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	q := msgs[0]
	if q.Text != "Selamat datang, Alice!\nSetuju & lanjut?" || q.ParseMode != "HTML" || len(q.Entities) != 1 || q.Entities[0].Type != models.MessageEntityTypeBold || q.Entities[0].Offset != 16 || q.Entities[0].Length != 5 {
		t.Fatalf("question: %#v", q)
	}

	if _, err := srv.PressButton(alice, q.MessageID, "consent:maybe"); !errors.Is(err, ErrNoSuchButton) {
		t.Fatalf("press of a missing button: %v", err)
	}
	if _, err := srv.PressButton(alice, 99, "consent:yes"); !errors.Is(err, ErrNoSuchMessage) {
		t.Fatalf("press on a missing message: %v", err)
	}
	if _, err := srv.PressButton(alice, q.MessageID, "consent:yes"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitBotMessages(ctx, alice.ID, 2); err != nil {
		t.Fatal(err)
	}
	srv.SendLocation(alice, -6.2, 106.816666)
	if _, err := srv.WaitBotMessages(ctx, alice.ID, 3); err != nil {
		t.Fatal(err)
	}

	want := `user#1: /start
bot#2 (edited): Terima kasih
user: press bot#2 consent:yes
bot: answer "Tersimpan"
bot#3: Kirim lokasi Anda {Kirim lokasi|location} / {Batal}
user#4: [location -6.2,106.816666]
bot#5: Lokasi diterima {remove keyboard}
`
	if got := FormatTranscript(srv.Transcript(alice.ID)); got != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s", got, want)
	}
	edited, _ := srv.Message(alice.ID, 2)
	if len(edited.Edits) != 1 || edited.Edits[0].Text != q.Text || len(edited.Edits[0].Inline) != 1 || len(edited.Inline) != 0 {
		t.Fatalf("edit history: %#v", edited)
	}
	last, ok := srv.LastBotMessage(alice.ID)
	if !ok || !last.RemoveKeyboard || last.MessageID != 5 {
		t.Fatalf("last: %#v", last)
	}
	if _, err := srv.PressButton(alice, 2, "consent:yes"); !errors.Is(err, ErrNoSuchButton) {
		t.Fatalf("press on the edited message: %v", err)
	}

	// Subscribers saw every change, in order.
	var lines []string
	for len(lines) < 8 {
		select {
		case ev := <-events:
			lines = append(lines, ev.String())
		case <-ctx.Done():
			t.Fatalf("events so far: %q", lines)
		}
	}
	if lines[1] != "bot#2: Selamat datang, Alice!\\nSetuju & lanjut? [Setuju|consent:yes] [Tolak|consent:no]" ||
		lines[3] != `bot: answer "Tersimpan"` || lines[4] != "edit bot#2 (edited): Terima kasih" {
		t.Fatalf("events: %q", lines)
	}

	st := srv.Stats()
	if st["sendMessage"].OK != 3 || st["answerCallbackQuery"].OK != 1 || st["editMessageText"].OK != 1 || st["getUpdates"].Calls == 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestCallbackQueries(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)

	m, err := b.SendMessage(ctx, &tg.SendMessageParams{
		ChatID: alice.ID, Text: "Pilih",
		ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
			{{Text: "A", CallbackData: "a"}}, {{Text: "B", CallbackData: "b"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 1 || m.Chat.ID != alice.ID || m.From == nil || !m.From.IsBot || m.ReplyMarkup == nil || len(m.ReplyMarkup.InlineKeyboard) != 2 {
		t.Fatalf("sent message: %+v", m)
	}
	id, err := srv.PressButton(alice, m.ID, "b")
	if err != nil {
		t.Fatal(err)
	}
	ups := getUpdates(t, ctx, srv, id, 0)
	if len(ups) != 1 || ups[0].CallbackQuery == nil {
		t.Fatalf("updates: %+v", ups)
	}
	cq := ups[0].CallbackQuery
	if cq.Data != "b" || cq.From.ID != alice.ID || cq.Message.Message == nil || cq.Message.Message.ID != m.ID || cq.Message.Message.Text != "Pilih" || cq.ChatInstance == "" {
		t.Fatalf("callback query: %+v", cq)
	}
	if ok, err := b.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: "Awas", ShowAlert: true}); err != nil || !ok {
		t.Fatalf("answer: %v %v", ok, err)
	}
	// A query can be answered once.
	if _, err := b.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: cq.ID}); !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), "query is too old") {
		t.Fatalf("second answer: %v", err)
	}

	// Stale press on a deleted message: PressRaw sends an inaccessible message.
	if ok, err := b.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: alice.ID, MessageID: m.ID}); err != nil || !ok {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if _, err := b.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: alice.ID, MessageID: m.ID}); !errors.Is(err, tg.ErrorBadRequest) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := srv.PressButton(alice, m.ID, "a"); !errors.Is(err, ErrNoSuchMessage) {
		t.Fatalf("press on deleted: %v", err)
	}
	id = srv.PressRaw(alice, alice.ID, m.ID, "forged")
	ups = getUpdates(t, ctx, srv, id, 0)
	if len(ups) != 1 || ups[0].CallbackQuery.Message.Type != models.MaybeInaccessibleMessageTypeInaccessibleMessage || ups[0].CallbackQuery.Message.InaccessibleMessage.MessageID != m.ID {
		t.Fatalf("raw press: %+v", ups[0].CallbackQuery)
	}
	want := "bot#1 (deleted): Pilih [A|a] / [B|b]\nuser: press bot#1 b\nbot: answer alert \"Awas\"\nuser: press bot#1 forged\n"
	if got := FormatTranscript(srv.Transcript(alice.ID)); got != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s", got, want)
	}
}

func TestSendMessageValidation(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)

	send := func(text string, mode models.ParseMode, markup models.ReplyMarkup) error {
		_, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: alice.ID, Text: text, ParseMode: mode, ReplyMarkup: markup})
		return err
	}
	bad := []struct {
		name, text string
		mode       models.ParseMode
		markup     models.ReplyMarkup
		want       string
	}{
		{"empty", "", "", nil, "message text is empty"},
		{"blank", "  \n ", "", nil, "message text is empty"},
		{"empty after tags", "<b></b>", models.ParseModeHTML, nil, "message text is empty"},
		{"too long", strings.Repeat("a", 4097), "", nil, "message is too long"},
		{"too long after unescaping", strings.Repeat("&amp;", 4097), models.ParseModeHTML, nil, "message is too long"},
		{"unclosed tag", "<b>tebal", models.ParseModeHTML, nil, "can't parse entities"},
		{"crossed tags", "<b><i>x</b></i>", models.ParseModeHTML, nil, "can't parse entities"},
		{"unsupported tag", "<div>x</div>", models.ParseModeHTML, nil, "Unsupported start tag \"div\""},
		{"stray end tag", "x</b>", models.ParseModeHTML, nil, "can't parse entities"},
		{"unescaped <", "1 < 2", models.ParseModeHTML, nil, "can't parse entities"},
		{"unescaped &", "Tom & Jerry", models.ParseModeHTML, nil, "can't parse entities"},
		{"unknown entity", "&nbsp;", models.ParseModeHTML, nil, "can't parse entities"},
		{"span without spoiler class", "<span>x</span>", models.ParseModeHTML, nil, "can't parse entities"},
		{"callback data too long", "x", "", models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x", CallbackData: strings.Repeat("d", 65)}}}}, "BUTTON_DATA_INVALID"},
		{"text button", "x", "", models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x"}}}}, "Text buttons are unallowed"},
		{"bad url", "x", "", models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x", URL: "javascript:alert(1)"}}}}, "BUTTON_URL_INVALID"},
		{"bad parse mode", "x", "HTML5", nil, "unsupported parse_mode"},
	}
	for _, c := range bad {
		err := send(c.text, c.mode, c.markup)
		if !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want Bad Request containing %q", c.name, err, c.want)
		}
	}
	if n := len(srv.BotMessages(alice.ID)); n != 0 {
		t.Fatalf("rejected messages were recorded: %d", n)
	}

	good := []struct {
		text   string
		mode   models.ParseMode
		markup models.ReplyMarkup
		plain  string
	}{
		{strings.Repeat("a", 4096), "", nil, strings.Repeat("a", 4096)},
		{"<b>" + strings.Repeat("a", 4096) + "</b>", models.ParseModeHTML, nil, strings.Repeat("a", 4096)},
		{strings.Repeat("é", 4096), "", nil, strings.Repeat("é", 4096)},
		{"1 &lt; 2 &amp;&amp; 3 &gt; 2 &#65;&#x42; > ok", models.ParseModeHTML, nil, "1 < 2 && 3 > 2 AB > ok"},
		{`<a href="https://x.org/?a=1&amp;b=2">tautan</a> <tg-spoiler>r</tg-spoiler> <span class="tg-spoiler">s</span>`, models.ParseModeHTML, nil, "tautan r s"},
		{"<pre><code class=\"language-go\">x := 1</code></pre><blockquote expandable>q</blockquote><s>c</s><u>u</u><em>e</em><strong>s</strong><ins>i</ins><del>d</del><strike>k</strike>", models.ParseModeHTML, nil, "x := 1qcuesidk"},
		{"*tidak* divalidasi", models.ParseModeMarkdown, nil, "*tidak* divalidasi"},
		{"64 byte data", "", models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x", CallbackData: strings.Repeat("d", 64)}}}}, "64 byte data"},
		{"kontak", "", models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "Bagikan nomor", RequestContact: true}}}}, "kontak"},
	}
	for i, c := range good {
		m, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: alice.ID, Text: c.text, ParseMode: c.mode, ReplyMarkup: c.markup})
		if err != nil {
			t.Errorf("good %d: %v", i, err)
			continue
		}
		if m.Text != c.plain {
			t.Errorf("good %d: text %q, want %q", i, m.Text, c.plain)
		}
	}
	msgs := srv.BotMessages(alice.ID)
	if len(msgs) != len(good) {
		t.Fatalf("recorded %d messages", len(msgs))
	}
	if e := msgs[4].Entities; len(e) != 3 || e[0].Type != models.MessageEntityTypeTextLink || e[0].URL != "https://x.org/?a=1&b=2" || e[0].Length != 6 {
		t.Errorf("link entities: %+v", e)
	}
	if e := msgs[5].Entities; len(e) < 2 || e[0].Type != models.MessageEntityTypePre || e[0].Language != "go" || e[1].Type != models.MessageEntityTypeExpandableBlockquote {
		t.Errorf("pre entities: %+v", e)
	}
	if got := msgs[8].String(); got != "bot#9: kontak {Bagikan nomor|contact}" {
		t.Errorf("reply keyboard: %s", got)
	}
}

func TestEditsAndReplies(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)
	kb := models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "OK", CallbackData: "ok"}}}}

	srv.SendText(alice, "tolong")
	m, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: alice.ID, Text: "Status: baru", ReplyMarkup: kb,
		ReplyParameters: &models.ReplyParameters{MessageID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if m.ReplyToMessage == nil || m.ReplyToMessage.Text != "tolong" {
		t.Fatalf("reply: %+v", m.ReplyToMessage)
	}
	if _, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: alice.ID, Text: "x", ReplyParameters: &models.ReplyParameters{MessageID: 42}}); !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), "replied not found") {
		t.Fatalf("reply to missing: %v", err)
	}

	// Same text and same keyboard: not modified.
	_, err = b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "Status: baru", ReplyMarkup: kb})
	if !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("not modified: %v", err)
	}
	// Same text without keyboard: modified (the keyboard goes away).
	e1, err := b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "Status: baru"})
	if err != nil || e1.ReplyMarkup != nil || e1.EditDate == 0 {
		t.Fatalf("edit dropping keyboard: %+v %v", e1, err)
	}
	e2, err := b.EditMessageReplyMarkup(ctx, &tg.EditMessageReplyMarkupParams{ChatID: alice.ID, MessageID: m.ID, ReplyMarkup: kb})
	if err != nil || e2.ReplyMarkup == nil {
		t.Fatalf("edit markup: %+v %v", e2, err)
	}
	if _, err := b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: alice.ID, MessageID: 1, Text: "hack"}); !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), "can't be edited") {
		t.Fatalf("edit user message: %v", err)
	}
	if _, err := b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: alice.ID, MessageID: 77, Text: "x"}); !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("edit missing: %v", err)
	}
	if _, err := b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "<b>Status</b>: selesai", ParseMode: models.ParseModeHTML}); err != nil {
		t.Fatal(err)
	}
	e, _ := srv.Message(alice.ID, m.ID)
	if got := e.String(); got != "bot#2 (edited 3x): Status: selesai" {
		t.Fatalf("edited entry: %s", got)
	}
	var texts []string
	for _, r := range e.Edits {
		texts = append(texts, fmt.Sprintf("%s/%d", r.Text, len(r.Inline)))
	}
	if got := strings.Join(texts, ";"); got != "Status: baru/1;Status: baru/0;Status: baru/1" {
		t.Fatalf("history: %q", got)
	}

	// Commands per scope and language.
	if _, err := b.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "lapor", Description: "Buat laporan"}}, LanguageCode: "id"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "report", Description: "New report"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "antrian", Description: "Antrian"}}, Scope: &models.BotCommandScopeChat{ChatID: -100}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Bad-Command", Description: "x"}}}); !errors.Is(err, tg.ErrorBadRequest) {
		t.Fatalf("bad command: %v", err)
	}
	got, err := b.GetMyCommands(ctx, &tg.GetMyCommandsParams{LanguageCode: "id"})
	if err != nil || len(got) != 1 || got[0].Command != "lapor" {
		t.Fatalf("GetMyCommands id: %+v %v", got, err)
	}
	got, err = b.GetMyCommands(ctx, &tg.GetMyCommandsParams{Scope: &models.BotCommandScopeAllGroupChats{}})
	if err != nil || len(got) != 0 {
		t.Fatalf("GetMyCommands groups: %+v %v", got, err)
	}
	if c := srv.MyCommands("chat:-100", ""); len(c) != 1 || c[0].Command != "antrian" {
		t.Fatalf("MyCommands chat scope: %+v", c)
	}
	if c := srv.MyCommands("default", ""); len(c) != 1 || c[0].Command != "report" {
		t.Fatalf("MyCommands default: %+v", c)
	}

	if ok, err := b.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: alice.ID, Action: models.ChatActionTyping}); err != nil || !ok {
		t.Fatalf("chat action: %v", err)
	}
	chat, err := b.GetChat(ctx, &tg.GetChatParams{ChatID: alice.ID})
	if err != nil || chat.FirstName != "Alice" || chat.Type != models.ChatTypePrivate {
		t.Fatalf("GetChat: %+v %v", chat, err)
	}
}

func TestGroupsAndOtherUserMessages(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)
	const group = -1001234567890
	id := srv.SendToGroup(alice, group, "/lapor@test_bot banjir")
	srv.SendSticker(budi)
	srv.SendVoice(budi)
	srv.SendContact(budi, "+6281234567890")
	srv.SendContactCard(budi, models.Contact{PhoneNumber: "+628000", FirstName: "Lain", UserID: 9})
	ups := getUpdates(t, ctx, srv, id, 0)
	if len(ups) != 5 {
		t.Fatalf("updates: %d", len(ups))
	}
	gm := ups[0].Message
	if gm.Chat.Type != models.ChatTypeSupergroup || gm.Chat.ID != group || len(gm.Entities) != 1 || gm.Entities[0].Length != len("/lapor@test_bot") {
		t.Fatalf("group message: %+v", gm)
	}
	if ups[1].Message.Sticker == nil || ups[2].Message.Voice == nil || ups[3].Message.Contact.UserID != budi.ID || ups[4].Message.Contact.UserID != 9 {
		t.Fatalf("media updates: %+v", ups)
	}
	if _, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: group, Text: "Diterima"}); err != nil {
		t.Fatal(err)
	}
	want := "user(1001)#1: /lapor@test_bot banjir\nbot#2: Diterima\n"
	if got := FormatTranscript(srv.Transcript(group)); got != want {
		t.Fatalf("group transcript:\n%s", got)
	}
	want = "user#1: [sticker]\nuser#2: [voice]\nuser#3: [contact +6281234567890]\nuser#4: [contact +628000]\n"
	if got := FormatTranscript(srv.Transcript(budi.ID)); got != want {
		t.Fatalf("budi transcript:\n%s", got)
	}
}
