package telegramtest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-telegram/bot/models"
)

// User is a Telegram user the test or demo acts as. Their private chat with
// the bot has the same id as the user.
type User struct {
	ID           int64
	FirstName    string
	Username     string
	LanguageCode string
}

func (u User) model() models.User {
	return models.User{ID: u.ID, FirstName: u.FirstName, Username: u.Username, LanguageCode: u.LanguageCode}
}

var (
	// ErrNoSuchMessage is returned by PressButton when the chat has no
	// (undeleted) bot message with that id.
	ErrNoSuchMessage = errors.New("telegramtest: no such bot message")
	// ErrNoSuchButton is returned by PressButton when the message has no
	// inline button with that callback data.
	ErrNoSuchButton = errors.New("telegramtest: no such button")
)

func mustUser(u User) {
	if u.ID <= 0 {
		panic(fmt.Sprintf("telegramtest: user id must be positive, got %d", u.ID))
	}
}

// privateChatLocked returns u's private chat, keeping its names current.
func (s *Server) privateChatLocked(u User) *chatState {
	cs := s.chatLocked(u.ID)
	cs.chat.FirstName, cs.chat.Username = u.FirstName, u.Username
	return cs
}

// userMessageLocked records a message from u in cs and queues the update
// carrying it. fill sets the content of both the message and the entry.
func (s *Server) userMessageLocked(u User, cs *chatState, fill func(m *models.Message, e *Entry)) int64 {
	from := u.model()
	now := s.now()
	m := &models.Message{ID: cs.nextMessageID(), From: &from, Date: int(now.Unix()), Chat: cs.chat}
	e := Entry{From: FromUser, UserID: u.ID, MessageID: m.ID, Kind: KindText, Date: now}
	fill(m, &e)
	id := s.enqueueLocked(models.Update{Message: m})
	e.UpdateID = id
	s.appendLocked(cs, &record{entry: e, msg: m})
	return id
}

// SendText sends a plain text message from u to the bot (no entities; see
// SendCommand) and returns the update id.
func (s *Server) SendText(u User, text string) int64 {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		m.Text, e.Text, e.RawText = text, text, text
	})
}

// SendCommand sends a command such as "/start" or "/lapor 123" from u, with
// the bot_command entity Telegram clients attach, and returns the update id.
func (s *Server) SendCommand(u User, command string) int64 {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		m.Text, e.Text, e.RawText = command, command, command
		m.Entities = commandEntities(command)
		e.Entities = m.Entities
	})
}

// commandEntities returns the bot_command entity of a text starting with
// "/", if any.
func commandEntities(text string) []models.MessageEntity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	cmd := text
	if i := strings.IndexAny(text, " \n\t"); i >= 0 {
		cmd = text[:i]
	}
	if len(cmd) < 2 {
		return nil
	}
	return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: utf16Len(cmd)}}
}

// SendToGroup sends a text message from u to the group groupChatID
// (negative; below -1000000000000 it is a supergroup) and returns the update
// id. A text starting with "/" carries a bot_command entity.
func (s *Server) SendToGroup(u User, groupChatID int64, text string) int64 {
	mustUser(u)
	if groupChatID >= 0 {
		panic(fmt.Sprintf("telegramtest: group chat id must be negative, got %d", groupChatID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userMessageLocked(u, s.chatLocked(groupChatID), func(m *models.Message, e *Entry) {
		m.Text, e.Text, e.RawText = text, text, text
		m.Entities = commandEntities(text)
		e.Entities = m.Entities
	})
}

// SendPhoto sends a photo with an optional caption from u. The fake creates
// a deterministic JPEG in two sizes; fileID is the largest, which getFile and
// the download URL serve.
func (s *Server) SendPhoto(u User, caption string) (updateID int64, fileID string) {
	return s.SendPhotoData(u, caption, nil)
}

// SendPhotoData is SendPhoto with the given image bytes as the only size
// (nil: generated JPEG).
func (s *Server) SendPhotoData(u User, caption string, data []byte) (updateID int64, fileID string) {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	sizes := s.newPhotoLocked(data)
	fileID = sizes[len(sizes)-1].FileID
	updateID = s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		m.Photo, m.Caption = sizes, caption
		e.Kind, e.Text, e.RawText, e.FileID = KindPhoto, caption, caption, fileID
	})
	return updateID, fileID
}

// SendDocument sends a file from u and returns the update id and file id.
func (s *Server) SendDocument(u User, fileName, mimeType string, data []byte, caption string) (updateID int64, fileID string) {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newDocumentLocked(fileName, mimeType, append([]byte(nil), data...))
	updateID = s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		m.Document = &models.Document{FileID: f.id, FileUniqueID: f.uniqueID, FileName: f.name, MimeType: f.mimeType, FileSize: int64(len(f.data))}
		m.Caption = caption
		e.Kind, e.Text, e.RawText, e.FileID, e.FileName = KindDocument, caption, caption, f.id, f.name
	})
	return updateID, f.id
}

// SendLocation shares a location from u.
func (s *Server) SendLocation(u User, lat, lon float64) int64 {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		m.Location = &models.Location{Latitude: lat, Longitude: lon}
		e.Kind, e.Location = KindLocation, &models.Location{Latitude: lat, Longitude: lon}
	})
}

// SendContact shares u's own contact (contact.user_id == u.ID), as a
// request_contact keyboard button does.
func (s *Server) SendContact(u User, phone string) int64 {
	return s.SendContactCard(u, models.Contact{PhoneNumber: phone, FirstName: u.FirstName, UserID: u.ID})
}

// SendContactCard shares an arbitrary contact from u, for example somebody
// else's (contact.user_id != u.ID) to test that the bot rejects it.
func (s *Server) SendContactCard(u User, contact models.Contact) int64 {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		c1, c2 := contact, contact
		m.Contact, e.Kind, e.Contact = &c1, KindContact, &c2
	})
}

// SendSticker sends a sticker from u.
func (s *Server) SendSticker(u User) int64 {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFileLocked(fileSticker, ".webp", webpSticker(s.nextFile+1))
	f.width, f.height, f.mimeType = 512, 512, "image/webp"
	return s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		m.Sticker = &models.Sticker{FileID: f.id, FileUniqueID: f.uniqueID, Type: "regular", Width: 512, Height: 512, Emoji: "👍", FileSize: len(f.data)}
		e.Kind, e.FileID = KindSticker, f.id
	})
}

// SendVoice sends a 3 second voice note from u.
func (s *Server) SendVoice(u User) int64 {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFileLocked(fileVoice, ".oga", oggVoice(s.nextFile+1))
	f.mimeType = "audio/ogg"
	return s.userMessageLocked(u, s.privateChatLocked(u), func(m *models.Message, e *Entry) {
		m.Voice = &models.Voice{FileID: f.id, FileUniqueID: f.uniqueID, Duration: 3, MimeType: "audio/ogg", FileSize: int64(len(f.data))}
		e.Kind, e.FileID = KindVoice, f.id
	})
}

// PressButton presses the inline button with callback data on bot message
// messageID of u's private chat and returns the update id. It fails with
// ErrNoSuchMessage or ErrNoSuchButton (nothing is sent) when the message or
// button does not exist; use PressRaw for stale or forged presses.
func (s *Server) PressButton(u User, messageID int, data string) (int64, error) {
	return s.PressButtonInChat(u, u.ID, messageID, data)
}

// PressButtonInChat is PressButton for any chat, e.g. a group.
func (s *Server) PressButtonInChat(u User, chatID int64, messageID int, data string) (int64, error) {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	var rec *record
	if cs != nil {
		rec = cs.byID[messageID]
	}
	if rec == nil || rec.entry.From != FromBot || rec.entry.Deleted {
		return 0, fmt.Errorf("%w: chat %d message %d\ntranscript:\n%s", ErrNoSuchMessage, chatID, messageID, FormatTranscript(s.transcriptLocked(chatID, false)))
	}
	found := false
	for _, row := range rec.entry.Inline {
		for _, b := range row {
			if b.CallbackData == data {
				found = true
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("%w: %q on %s", ErrNoSuchButton, data, rec.entry.String())
	}
	return s.pressLocked(u, chatID, messageID, data), nil
}

// PressRaw sends a callback query from u for message messageID of chatID
// with any data, without checking that the message or button exists: a
// stale keyboard, a deleted message or forged data. When the fake does not
// know the message, the query carries an inaccessible message.
func (s *Server) PressRaw(u User, chatID int64, messageID int, data string) int64 {
	mustUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pressLocked(u, chatID, messageID, data)
}

func (s *Server) pressLocked(u User, chatID int64, messageID int, data string) int64 {
	cs := s.chatLocked(chatID)
	if chatID == u.ID {
		cs.chat.FirstName, cs.chat.Username = u.FirstName, u.Username
	}
	s.nextCBQ++
	id := fmt.Sprintf("%d%06d", chatID&0xffffff, s.nextCBQ)
	s.callbacks[id] = &callbackState{chatID: chatID, messageID: messageID, userID: u.ID}
	q := &models.CallbackQuery{
		ID:           id,
		From:         u.model(),
		ChatInstance: fmt.Sprintf("ci%d", chatID),
		Data:         data,
	}
	if rec := cs.byID[messageID]; rec != nil && !rec.entry.Deleted {
		m := *rec.msg // messages are replaced, never mutated: a snapshot
		q.Message = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &m}
	} else {
		q.Message = models.MaybeInaccessibleMessage{
			Type:                models.MaybeInaccessibleMessageTypeInaccessibleMessage,
			InaccessibleMessage: &models.InaccessibleMessage{Chat: cs.chat, MessageID: messageID, Date: 0},
		}
	}
	updID := s.enqueueLocked(models.Update{CallbackQuery: q})
	e := Entry{From: FromUser, UserID: u.ID, MessageID: messageID, Kind: KindCallback, Data: data, CallbackID: id, UpdateID: updID, Date: s.now()}
	s.appendLocked(cs, &record{entry: e})
	return updID
}

// InjectUpdate queues a raw update, assigning the next update id when
// upd.ID is 0, and returns its id. Messages and callback queries are also
// recorded in their chat's transcript (message ids of 0 are assigned).
func (s *Server) InjectUpdate(upd models.Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec *record
	var cs *chatState
	if upd.Message != nil {
		mc := *upd.Message // ids are assigned on a copy, not the caller's message
		upd.Message = &mc
	}
	if upd.CallbackQuery != nil {
		qc := *upd.CallbackQuery
		upd.CallbackQuery = &qc
	}
	if m := upd.Message; m != nil {
		_, known := s.chats[m.Chat.ID]
		cs = s.chatLocked(m.Chat.ID)
		if !known && m.Chat.Type != "" {
			cs.chat = m.Chat
		}
		if m.ID == 0 {
			m.ID = cs.nextMessageID()
		} else if m.ID > cs.nextID {
			cs.nextID = m.ID
		}
		if m.Date == 0 {
			m.Date = int(s.now().Unix())
		}
		e := Entry{From: FromUser, MessageID: m.ID, Kind: kindOfMessage(m), Text: m.Text, RawText: m.Text, Entities: m.Entities, Date: s.now()}
		if m.From != nil {
			e.UserID = m.From.ID
		}
		if m.Caption != "" {
			e.Text, e.RawText = m.Caption, m.Caption
		}
		if m.Location != nil {
			l := *m.Location
			e.Location = &l
		}
		if m.Contact != nil {
			c := *m.Contact
			e.Contact = &c
		}
		mc := *m
		rec = &record{entry: e, msg: &mc}
	} else if q := upd.CallbackQuery; q != nil {
		if q.ID == "" {
			s.nextCBQ++
			q.ID = fmt.Sprintf("injected%06d", s.nextCBQ)
		}
		var chatID int64
		var msgID int
		switch {
		case q.Message.Message != nil:
			chatID, msgID = q.Message.Message.Chat.ID, q.Message.Message.ID
		case q.Message.InaccessibleMessage != nil:
			chatID, msgID = q.Message.InaccessibleMessage.Chat.ID, q.Message.InaccessibleMessage.MessageID
		}
		s.callbacks[q.ID] = &callbackState{chatID: chatID, messageID: msgID, userID: q.From.ID}
		if chatID != 0 {
			cs = s.chatLocked(chatID)
			rec = &record{entry: Entry{From: FromUser, UserID: q.From.ID, MessageID: msgID, Kind: KindCallback, Data: q.Data, CallbackID: q.ID, Date: s.now()}}
		}
	}
	id := s.enqueueLocked(upd)
	if rec != nil {
		rec.entry.UpdateID = id
		s.appendLocked(cs, rec)
	}
	return id
}

func kindOfMessage(m *models.Message) Kind {
	switch {
	case len(m.Photo) > 0:
		return KindPhoto
	case m.Document != nil:
		return KindDocument
	case m.Location != nil:
		return KindLocation
	case m.Contact != nil:
		return KindContact
	case m.Sticker != nil:
		return KindSticker
	case m.Voice != nil:
		return KindVoice
	case m.Text != "":
		return KindText
	}
	return KindOther
}
