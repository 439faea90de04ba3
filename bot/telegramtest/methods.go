package telegramtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// methodDownload is the pseudo-method of file downloads, for FailNext,
// Calls and Stats.
const methodDownload = "download"

type methodSpec struct {
	name    string
	fn      func(*Server, *call) (any, *apiError)
	sending bool // subject to Limits
}

var methodTable map[string]methodSpec

func init() {
	specs := []methodSpec{
		{name: "getMe", fn: (*Server).mGetMe},
		{name: "getUpdates", fn: (*Server).mGetUpdates},
		{name: "sendMessage", fn: (*Server).mSendMessage, sending: true},
		{name: "sendPhoto", fn: (*Server).mSendPhoto, sending: true},
		{name: "sendDocument", fn: (*Server).mSendDocument, sending: true},
		{name: "sendLocation", fn: (*Server).mSendLocation, sending: true},
		{name: "sendChatAction", fn: (*Server).mSendChatAction},
		{name: "editMessageText", fn: (*Server).mEditMessageText, sending: true},
		{name: "editMessageCaption", fn: (*Server).mEditMessageCaption, sending: true},
		{name: "editMessageReplyMarkup", fn: (*Server).mEditMessageReplyMarkup, sending: true},
		{name: "deleteMessage", fn: (*Server).mDeleteMessage},
		{name: "answerCallbackQuery", fn: (*Server).mAnswerCallbackQuery},
		{name: "getFile", fn: (*Server).mGetFile},
		{name: "getChat", fn: (*Server).mGetChat},
		{name: "setMyCommands", fn: (*Server).mSetMyCommands},
		{name: "getMyCommands", fn: (*Server).mGetMyCommands},
		{name: "deleteMyCommands", fn: (*Server).mDeleteMyCommands},
		{name: "setWebhook", fn: (*Server).mSetWebhook},
		{name: "deleteWebhook", fn: (*Server).mDeleteWebhook},
		{name: "getWebhookInfo", fn: (*Server).mGetWebhookInfo},
		{name: methodDownload, fn: (*Server).mDownload},
	}
	methodTable = make(map[string]methodSpec, len(specs))
	for _, sp := range specs {
		methodTable[strings.ToLower(sp.name)] = sp
	}
}

// lookupMethod finds a method by name; Telegram method names are case
// insensitive.
func lookupMethod(name string) (methodSpec, bool) {
	sp, ok := methodTable[strings.ToLower(name)]
	return sp, ok
}

// ---- parameter helpers ----

func chatIDParam(p *params) (int64, *apiError) {
	if !p.has("chat_id") || strings.TrimSpace(p.str("chat_id")) == "" {
		return 0, badRequest("chat_id is empty")
	}
	if strings.HasPrefix(strings.TrimSpace(p.str("chat_id")), "@") {
		return 0, badRequest("chat not found")
	}
	id, _, err := p.int("chat_id")
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

func messageIDParam(p *params) (int, *apiError) {
	id, ok, err := p.int("message_id")
	if !ok {
		return 0, badRequest("message identifier is not specified")
	}
	if err != nil || id <= 0 {
		return 0, badRequest("message identifier is not specified")
	}
	return int(id), nil
}

// formatted is a text or caption after parse_mode processing.
type formatted struct {
	raw       string
	plain     string
	parseMode string
	entities  []models.MessageEntity
}

// formatText applies parse_mode to field and checks the length limit:
// 1..4096 characters for texts, 0..1024 for captions.
func formatText(p *params, field, entitiesField string, caption bool) (formatted, *apiError) {
	f := formatted{raw: p.str(field), parseMode: p.str("parse_mode")}
	if !caption && strings.TrimSpace(f.raw) == "" {
		return f, badRequest("message text is empty")
	}
	switch strings.ToLower(f.parseMode) {
	case "":
		f.plain = f.raw
		if p.has(entitiesField) {
			if _, err := p.json(entitiesField, &f.entities); err != nil {
				return f, badRequest("can't parse entities JSON object")
			}
		}
	case "html":
		plain, ents, err := parseHTML(f.raw)
		if err != nil {
			return f, badRequest("can't parse entities: " + err.Error())
		}
		f.plain, f.entities = plain, ents
	case "markdown", "markdownv2":
		f.plain = f.raw
	default:
		return f, badRequest("unsupported parse_mode")
	}
	if caption {
		if textLength(f.plain) > 1024 {
			return f, badRequest("message caption is too long")
		}
		return f, nil
	}
	if strings.TrimSpace(f.plain) == "" {
		return f, badRequest("message text is empty")
	}
	if textLength(f.plain) > 4096 {
		return f, badRequest("message is too long")
	}
	return f, nil
}

// replyToLocked resolves reply_parameters / reply_to_message_id.
func (s *Server) replyToLocked(chatID int64, p *params) (*models.Message, *apiError) {
	var id int64
	allowMissing := p.bool("allow_sending_without_reply")
	if p.has("reply_parameters") {
		var rp struct {
			MessageID                int64 `json:"message_id"`
			AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
		}
		if _, err := p.json("reply_parameters", &rp); err != nil {
			return nil, badRequest("can't parse reply parameters JSON object")
		}
		id, allowMissing = rp.MessageID, allowMissing || rp.AllowSendingWithoutReply
	} else if n, ok, err := p.int("reply_to_message_id"); ok && err == nil {
		id = n
	}
	if id == 0 {
		return nil, nil
	}
	if cs := s.chats[chatID]; cs != nil {
		if rec := cs.byID[int(id)]; rec != nil && !rec.entry.Deleted {
			m := *rec.msg
			m.ReplyToMessage = nil
			return &m, nil
		}
	}
	if allowMissing {
		return nil, nil
	}
	return nil, badRequest("message to be replied not found")
}

// newBotMessageLocked starts a bot message in cs.
func (s *Server) newBotMessageLocked(cs *chatState, c *call) *models.Message {
	from := s.botUser
	return &models.Message{ID: cs.nextMessageID(), From: &from, Date: int(c.now.Unix()), Chat: cs.chat}
}

// commitBotLocked records a bot message in the transcript.
func (s *Server) commitBotLocked(cs *chatState, c *call, msg *models.Message, e Entry, mk *markup, replyTo *models.Message) *models.Message {
	msg.ReplyMarkup = mk.inline
	msg.ReplyToMessage = replyTo
	e.From = FromBot
	e.MessageID = msg.ID
	e.Date = c.now
	e.Inline = mk.buttons
	e.Keyboard = mk.keyboard
	e.RemoveKeyboard = mk.removeKeyboard
	e.ForceReply = mk.forceReply
	if replyTo != nil {
		e.ReplyTo = replyTo.ID
	}
	s.appendLocked(cs, &record{entry: e, msg: msg})
	return msg
}

// ---- methods ----

func (s *Server) mGetMe(c *call) (any, *apiError) {
	u := s.botUser
	return &u, nil
}

var (
	errConflictWebhook = &apiError{code: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	errConflictPoll    = &apiError{code: 409, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
)

func (s *Server) mGetUpdates(c *call) (any, *apiError) {
	if s.webhook.url != "" {
		return nil, errConflictWebhook
	}
	offset, _, err1 := c.p.int("offset")
	limit, _, err2 := c.p.int("limit")
	timeout, _, err3 := c.p.int("timeout")
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return nil, badRequest(err.Error())
		}
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout = max(timeout, 0)
	if aerr := s.setAllowedLocked(c.p); aerr != nil {
		return nil, aerr
	}
	// An offset confirms every update before it.
	switch {
	case offset > 0:
		i := 0
		for i < len(s.pending) && s.pending[i].ID < offset {
			i++
		}
		s.pending = s.pending[i:]
	case offset < 0:
		if keep := int(-offset); keep < len(s.pending) {
			s.pending = s.pending[len(s.pending)-keep:]
		}
	}
	s.pollGen++
	gen := s.pollGen
	s.notifyLocked() // terminates an older getUpdates still waiting
	c.applied()

	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if s.webhook.url != "" {
			return nil, errConflictWebhook
		}
		if s.pollGen != gen {
			return nil, errConflictPoll
		}
		out := make([]models.Update, 0)
		for _, u := range s.pending {
			if u.ID >= offset && len(out) < int(limit) {
				out = append(out, u)
			}
		}
		if len(out) > 0 || timeout == 0 {
			return out, nil
		}
		if timer == nil {
			timer = time.NewTimer(time.Duration(timeout) * time.Second)
		}
		s.polling++
		s.notifyLocked()
		ch := s.changed
		s.mu.Unlock()
		var gone, done bool
		select {
		case <-ch:
		case <-timer.C:
			done = true
		case <-c.ctx.Done():
			gone = true
		case <-s.closed:
			done = true
		}
		s.mu.Lock()
		s.polling--
		s.notifyLocked()
		if gone {
			return nil, errGone
		}
		if done {
			return make([]models.Update, 0), nil
		}
	}
}

// outgoing is what every sending method reads first: the chat, the text
// or caption (formatted), the reply markup and the message replied to.
type outgoing struct {
	chatID  int64
	f       formatted
	mk      *markup
	replyTo *models.Message
}

// outgoingLocked reads the common parameters of a sending method; field
// and entitiesField name the text or the caption ("" for none).
func (s *Server) outgoingLocked(c *call, field, entitiesField string, caption bool) (outgoing, *apiError) {
	var o outgoing
	var aerr *apiError
	if o.chatID, aerr = chatIDParam(c.p); aerr != nil {
		return o, aerr
	}
	if field != "" {
		if o.f, aerr = formatText(c.p, field, entitiesField, caption); aerr != nil {
			return o, aerr
		}
	}
	if o.mk, aerr = parseMarkup(c.p, true); aerr != nil {
		return o, aerr
	}
	o.replyTo, aerr = s.replyToLocked(o.chatID, c.p)
	return o, aerr
}

func (s *Server) mSendMessage(c *call) (any, *apiError) {
	o, aerr := s.outgoingLocked(c, "text", "entities", false)
	if aerr != nil {
		return nil, aerr
	}
	cs := s.chatLocked(o.chatID)
	msg := s.newBotMessageLocked(cs, c)
	msg.Text, msg.Entities = o.f.plain, o.f.entities
	e := Entry{Kind: KindText, Text: o.f.plain, RawText: o.f.raw, ParseMode: o.f.parseMode, Entities: o.f.entities}
	return s.commitBotLocked(cs, c, msg, e, o.mk, o.replyTo), nil
}

func (s *Server) mSendPhoto(c *call) (any, *apiError) {
	o, aerr := s.outgoingLocked(c, "caption", "caption_entities", true)
	if aerr != nil {
		return nil, aerr
	}
	chatID, f, mk, replyTo := o.chatID, o.f, o.mk, o.replyTo
	var sizes []models.PhotoSize
	file, aerr := s.resolveInputFile(c.p, "photo", func(u *upload) *fileRecord {
		sizes = s.newPhotoLocked(u.Data)
		return s.files[sizes[len(sizes)-1].FileID]
	})
	if aerr != nil {
		return nil, aerr
	}
	if file.kind != filePhoto {
		return nil, badRequest("type of file mismatch")
	}
	if sizes == nil {
		sizes = file.sizes
	}
	cs := s.chatLocked(chatID)
	msg := s.newBotMessageLocked(cs, c)
	msg.Photo = append([]models.PhotoSize(nil), sizes...)
	msg.Caption, msg.CaptionEntities = f.plain, f.entities
	e := Entry{Kind: KindPhoto, Text: f.plain, RawText: f.raw, ParseMode: f.parseMode, Entities: f.entities, FileID: sizes[len(sizes)-1].FileID}
	return s.commitBotLocked(cs, c, msg, e, mk, replyTo), nil
}

func (s *Server) mSendDocument(c *call) (any, *apiError) {
	o, aerr := s.outgoingLocked(c, "caption", "caption_entities", true)
	if aerr != nil {
		return nil, aerr
	}
	chatID, f, mk, replyTo := o.chatID, o.f, o.mk, o.replyTo
	file, aerr := s.resolveInputFile(c.p, "document", func(u *upload) *fileRecord {
		name := u.Filename
		if name == "" {
			name = "document"
		}
		data := u.Data
		if data == nil {
			data = []byte("telegramtest document " + name)
		}
		return s.newDocumentLocked(name, u.ContentType, data)
	})
	if aerr != nil {
		return nil, aerr
	}
	cs := s.chatLocked(chatID)
	msg := s.newBotMessageLocked(cs, c)
	msg.Document = &models.Document{FileID: file.id, FileUniqueID: file.uniqueID, FileName: file.name, MimeType: file.mimeType, FileSize: int64(len(file.data))}
	msg.Caption, msg.CaptionEntities = f.plain, f.entities
	e := Entry{Kind: KindDocument, Text: f.plain, RawText: f.raw, ParseMode: f.parseMode, Entities: f.entities, FileID: file.id, FileName: file.name}
	return s.commitBotLocked(cs, c, msg, e, mk, replyTo), nil
}

func (s *Server) mSendLocation(c *call) (any, *apiError) {
	chatID, aerr := chatIDParam(c.p)
	if aerr != nil {
		return nil, aerr
	}
	lat, okLat, err1 := c.p.float("latitude")
	lon, okLon, err2 := c.p.float("longitude")
	if !okLat || !okLon || err1 != nil || err2 != nil {
		return nil, badRequest("wrong latitude or longitude specified")
	}
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil, badRequest("wrong latitude or longitude specified")
	}
	mk, aerr := parseMarkup(c.p, true)
	if aerr != nil {
		return nil, aerr
	}
	replyTo, aerr := s.replyToLocked(chatID, c.p)
	if aerr != nil {
		return nil, aerr
	}
	cs := s.chatLocked(chatID)
	msg := s.newBotMessageLocked(cs, c)
	loc := models.Location{Latitude: lat, Longitude: lon}
	msg.Location = &loc
	e := Entry{Kind: KindLocation, Location: &models.Location{Latitude: lat, Longitude: lon}}
	return s.commitBotLocked(cs, c, msg, e, mk, replyTo), nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) mSendChatAction(c *call) (any, *apiError) {
	if _, aerr := chatIDParam(c.p); aerr != nil {
		return nil, aerr
	}
	if !chatActions[c.p.str("action")] {
		return nil, badRequest("wrong parameter action in request")
	}
	return true, nil
}

// editableLocked finds the bot message an edit method targets.
func (s *Server) editableLocked(c *call) (*record, *apiError) {
	if c.p.has("inline_message_id") {
		return nil, badRequest("MESSAGE_ID_INVALID (inline messages are not supported by telegramtest)")
	}
	rec, aerr := s.targetLocked(c, "edit")
	if aerr != nil {
		return nil, aerr
	}
	if rec.entry.From != FromBot {
		return nil, badRequest("message can't be edited")
	}
	return rec, nil
}

const errNotModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func sameEntities(a, b []models.MessageEntity) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func sameInline(a, b *models.InlineKeyboardMarkup) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// applyEditLocked records an edit: the old version goes to Edits and the
// message is replaced (never mutated in place, so earlier snapshots such as
// callback queries keep the old content).
func (s *Server) applyEditLocked(rec *record, c *call, f *formatted, mk *markup) *models.Message {
	old := rec.entry
	rec.entry.Edits = append(rec.entry.Edits, Revision{Text: old.Text, Inline: old.Inline, EditedAt: c.now})
	m := *rec.msg
	if f != nil {
		if old.Kind == KindText {
			m.Text, m.Entities = f.plain, f.entities
		} else {
			m.Caption, m.CaptionEntities = f.plain, f.entities
		}
		rec.entry.Text, rec.entry.RawText, rec.entry.ParseMode, rec.entry.Entities = f.plain, f.raw, f.parseMode, f.entities
	}
	m.ReplyMarkup = mk.inline
	m.EditDate = int(c.now.Unix())
	rec.msg = &m
	rec.entry.Inline = mk.buttons
	s.publishLocked(EventEdit, &rec.entry)
	s.notifyLocked()
	return rec.msg
}

func (s *Server) mEditMessageText(c *call) (any, *apiError) { return s.editTextLocked(c, false) }

func (s *Server) mEditMessageCaption(c *call) (any, *apiError) { return s.editTextLocked(c, true) }

// editTextLocked replaces a message's text, or a photo's or document's
// caption, and its inline keyboard: like Telegram, an edit without
// reply_markup removes the keyboard, and an edit that changes nothing is
// refused as "not modified".
func (s *Server) editTextLocked(c *call, caption bool) (any, *apiError) {
	rec, aerr := s.editableLocked(c)
	if aerr != nil {
		return nil, aerr
	}
	field, entitiesField, current, currentEntities := "text", "entities", rec.msg.Text, rec.msg.Entities
	if caption {
		if rec.entry.Kind != KindPhoto && rec.entry.Kind != KindDocument {
			return nil, badRequest("there is no caption in the message to edit")
		}
		field, entitiesField, current, currentEntities = "caption", "caption_entities", rec.msg.Caption, rec.msg.CaptionEntities
	} else if rec.entry.Kind != KindText {
		return nil, badRequest("there is no text in the message to edit")
	}
	f, aerr := formatText(c.p, field, entitiesField, caption)
	if aerr != nil {
		return nil, aerr
	}
	mk, aerr := parseMarkup(c.p, false)
	if aerr != nil {
		return nil, aerr
	}
	if f.plain == current && sameEntities(f.entities, currentEntities) && sameInline(mk.inline, rec.msg.ReplyMarkup) {
		return nil, badRequest(errNotModified)
	}
	return s.applyEditLocked(rec, c, &f, mk), nil
}

func (s *Server) mEditMessageReplyMarkup(c *call) (any, *apiError) {
	rec, aerr := s.editableLocked(c)
	if aerr != nil {
		return nil, aerr
	}
	mk, aerr := parseMarkup(c.p, false)
	if aerr != nil {
		return nil, aerr
	}
	if sameInline(mk.inline, rec.msg.ReplyMarkup) {
		return nil, badRequest(errNotModified)
	}
	return s.applyEditLocked(rec, c, nil, mk), nil
}

// targetLocked finds the (undeleted) message named by chat_id and
// message_id; what ("edit", "delete") goes into Telegram's error text.
func (s *Server) targetLocked(c *call, what string) (*record, *apiError) {
	chatID, aerr := chatIDParam(c.p)
	if aerr != nil {
		return nil, aerr
	}
	id, aerr := messageIDParam(c.p)
	if aerr != nil {
		return nil, aerr
	}
	if cs := s.chats[chatID]; cs != nil {
		if rec := cs.byID[id]; rec != nil && !rec.entry.Deleted {
			return rec, nil
		}
	}
	return nil, badRequest("message to " + what + " not found")
}

func (s *Server) mDeleteMessage(c *call) (any, *apiError) {
	rec, aerr := s.targetLocked(c, "delete")
	if aerr != nil {
		return nil, aerr
	}
	rec.entry.Deleted = true
	s.publishLocked(EventDelete, &rec.entry)
	s.notifyLocked()
	return true, nil
}

func (s *Server) mAnswerCallbackQuery(c *call) (any, *apiError) {
	id := c.p.str("callback_query_id")
	cb := s.callbacks[id]
	if cb == nil || cb.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	text := c.p.str("text")
	if textLength(text) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	cb.answered = true
	cs := s.chatLocked(cb.chatID)
	e := Entry{
		From: FromBot, Kind: KindCallbackAnswer, MessageID: cb.messageID, Text: text,
		ShowAlert: c.p.bool("show_alert"), CallbackID: id, Date: c.now,
	}
	s.appendLocked(cs, &record{entry: e})
	return true, nil
}

func (s *Server) mGetChat(c *call) (any, *apiError) {
	chatID, aerr := chatIDParam(c.p)
	if aerr != nil {
		return nil, aerr
	}
	cs := s.chats[chatID]
	if cs == nil {
		return nil, badRequest("chat not found")
	}
	ch := cs.chat
	return &models.ChatFullInfo{
		ID: ch.ID, Type: ch.Type, Title: ch.Title, Username: ch.Username,
		FirstName: ch.FirstName, LastName: ch.LastName, MaxReactionCount: 11,
	}, nil
}

// ---- bot commands ----

// commandScopeKey renders the scope parameter as "default",
// "all_private_chats", "all_group_chats", "all_chat_administrators",
// "chat:<id>", "chat_administrators:<id>" or "chat_member:<id>:<user>".
func commandScopeKey(p *params) (string, *apiError) {
	if !p.has("scope") {
		return "default", nil
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if _, err := p.json("scope", &sc); err != nil {
		return "", badRequest("can't parse BotCommandScope JSON object")
	}
	chat := strings.Trim(string(sc.ChatID), `"`)
	switch sc.Type {
	case "", "default":
		return "default", nil
	case "all_private_chats", "all_group_chats", "all_chat_administrators":
		return sc.Type, nil
	case "chat", "chat_administrators":
		if chat == "" {
			return "", badRequest("chat not found")
		}
		return sc.Type + ":" + chat, nil
	case "chat_member":
		if chat == "" || sc.UserID == 0 {
			return "", badRequest("chat not found")
		}
		return fmt.Sprintf("chat_member:%s:%d", chat, sc.UserID), nil
	}
	return "", badRequest("unsupported bot command scope type")
}

func commandsKey(p *params) (string, *apiError) {
	scope, aerr := commandScopeKey(p)
	if aerr != nil {
		return "", aerr
	}
	lang := p.str("language_code")
	if lang != "" && (len(lang) != 2 || strings.ToLower(lang) != lang) {
		return "", badRequest("invalid language code specified")
	}
	return scope + "|" + lang, nil
}

func validCommand(cmd string) bool {
	if len(cmd) < 1 || len(cmd) > 32 {
		return false
	}
	for _, c := range cmd {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Server) mSetMyCommands(c *call) (any, *apiError) {
	key, aerr := commandsKey(c.p)
	if aerr != nil {
		return nil, aerr
	}
	var cmds []models.BotCommand
	ok, err := c.p.json("commands", &cmds)
	if !ok {
		return nil, badRequest("parameter \"commands\" is required")
	}
	if err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands specified")
	}
	for _, cmd := range cmds {
		if !validCommand(cmd.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := textLength(cmd.Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	return true, nil
}

func (s *Server) mGetMyCommands(c *call) (any, *apiError) {
	key, aerr := commandsKey(c.p)
	if aerr != nil {
		return nil, aerr
	}
	return append(make([]models.BotCommand, 0), s.commands[key]...), nil
}

func (s *Server) mDeleteMyCommands(c *call) (any, *apiError) {
	key, aerr := commandsKey(c.p)
	if aerr != nil {
		return nil, aerr
	}
	delete(s.commands, key)
	return true, nil
}

// MyCommands returns the commands set with setMyCommands for a scope (see
// below) and language code ("" for all languages). Scopes are written
// "default", "all_private_chats", "all_group_chats",
// "all_chat_administrators", "chat:<chat_id>",
// "chat_administrators:<chat_id>" and "chat_member:<chat_id>:<user_id>".
func (s *Server) MyCommands(scope, languageCode string) []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.commands[scope+"|"+languageCode]...)
}
