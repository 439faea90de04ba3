package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// Side tells who produced a transcript entry.
type Side string

const (
	FromBot  Side = "bot"
	FromUser Side = "user"
)

// Kind is the kind of a transcript entry.
type Kind string

const (
	KindText           Kind = "text"
	KindPhoto          Kind = "photo"
	KindDocument       Kind = "document"
	KindLocation       Kind = "location"
	KindContact        Kind = "contact"
	KindSticker        Kind = "sticker"
	KindVoice          Kind = "voice"
	KindOther          Kind = "other"           // a user message of a kind the fake does not model
	KindCallback       Kind = "callback"        // a user pressed an inline button
	KindCallbackAnswer Kind = "callback_answer" // the bot answered a callback query
)

// Revision is an earlier version of an edited message.
type Revision struct {
	Text   string
	Inline [][]Button
	// EditedAt is when this version was replaced.
	EditedAt time.Time
}

// Entry is one item of a chat transcript: a message from either side, a
// button press or the bot's answer to it. Entries returned by the Server are
// copies; changing them has no effect on the fake.
type Entry struct {
	// Seq orders entries of all chats: a later entry has a greater Seq.
	Seq    int64
	ChatID int64
	From   Side
	// UserID is the sender (FromUser) or the presser (KindCallback); 0 for
	// the bot.
	UserID int64
	// MessageID is the message's id; for KindCallback and KindCallbackAnswer
	// it is the id of the message whose button was pressed (0 if unknown).
	MessageID int
	Kind      Kind
	// Text is the text or caption as the user sees it: HTML tags removed and
	// character references resolved. For KindCallbackAnswer it is the answer
	// text.
	Text string
	// RawText is the text or caption as the bot sent it, and ParseMode the
	// parse mode it was sent with.
	RawText   string
	ParseMode string
	Entities  []models.MessageEntity
	// Inline is the message's current inline keyboard, by rows.
	Inline [][]Button
	// Keyboard is the reply keyboard sent with the message, by rows;
	// RemoveKeyboard and ForceReply record the other reply markups.
	Keyboard       [][]KeyboardButton
	RemoveKeyboard bool
	ForceReply     bool
	// ReplyTo is the message this one replies to, if any.
	ReplyTo int
	Deleted bool
	// Edits holds the earlier versions of the message, oldest first.
	Edits []Revision
	// Data is the callback data of a press (KindCallback); CallbackID links
	// a press to its answer.
	Data       string
	CallbackID string
	ShowAlert  bool // KindCallbackAnswer: shown as an alert
	// FileID is the file of a photo (largest size), document, sticker or
	// voice message; FileName the document's name.
	FileID   string
	FileName string
	Location *models.Location
	Contact  *models.Contact
	// UpdateID is the update that carried a user entry to the bot.
	UpdateID int64
	Date     time.Time
}

// IsBotMessage reports whether e is a message sent by the bot (not a
// callback answer).
func (e Entry) IsBotMessage() bool {
	return e.From == FromBot && e.Kind != KindCallbackAnswer
}

// String renders e as one compact line for logs and golden transcripts, e.g.
//
//	bot#12: Setuju dengan syarat? [Setuju|consent:yes] [Tolak|consent:no]
//	user#13: [photo] foto rumah
//	user: press bot#12 consent:yes
//	bot: answer "Tersimpan"
//
// Keyboard rows are separated by " / ", reply keyboard buttons are shown in
// braces, newlines in text as "\n". Edited and deleted messages are marked
// "(edited)", "(edited 2x)" and "(deleted)". Users other than the private
// chat's owner are shown as user(ID).
func (e Entry) String() string {
	var b strings.Builder
	b.WriteString(string(e.From))
	if e.From == FromUser && e.UserID != 0 && e.UserID != e.ChatID {
		fmt.Fprintf(&b, "(%d)", e.UserID)
	}
	switch e.Kind {
	case KindCallback:
		fmt.Fprintf(&b, ": press bot#%d %s", e.MessageID, e.Data)
		return b.String()
	case KindCallbackAnswer:
		b.WriteString(": answer")
		if e.ShowAlert {
			b.WriteString(" alert")
		}
		if e.Text != "" {
			fmt.Fprintf(&b, " %q", e.Text)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "#%d", e.MessageID)
	switch n := len(e.Edits); {
	case n == 1:
		b.WriteString(" (edited)")
	case n > 1:
		fmt.Fprintf(&b, " (edited %dx)", n)
	}
	if e.Deleted {
		b.WriteString(" (deleted)")
	}
	b.WriteString(":")
	var parts []string
	switch e.Kind {
	case KindText:
	case KindDocument:
		if e.FileName != "" {
			parts = append(parts, "[document "+e.FileName+"]")
		} else {
			parts = append(parts, "[document]")
		}
	case KindLocation:
		if e.Location != nil {
			parts = append(parts, "[location "+formatFloat(e.Location.Latitude)+","+formatFloat(e.Location.Longitude)+"]")
		} else {
			parts = append(parts, "[location]")
		}
	case KindContact:
		if e.Contact != nil {
			parts = append(parts, "[contact "+e.Contact.PhoneNumber+"]")
		} else {
			parts = append(parts, "[contact]")
		}
	default:
		parts = append(parts, "["+string(e.Kind)+"]")
	}
	if e.Text != "" {
		parts = append(parts, strings.ReplaceAll(e.Text, "\n", `\n`))
	}
	if len(e.Inline) > 0 {
		parts = append(parts, formatRows(e.Inline, func(bt Button) string {
			switch {
			case bt.CallbackData != "":
				return "[" + bt.Text + "|" + bt.CallbackData + "]"
			case bt.URL != "":
				return "[" + bt.Text + "|url:" + bt.URL + "]"
			}
			return "[" + bt.Text + "]"
		}))
	}
	if len(e.Keyboard) > 0 {
		parts = append(parts, formatRows(e.Keyboard, func(kb KeyboardButton) string {
			switch {
			case kb.RequestContact:
				return "{" + kb.Text + "|contact}"
			case kb.RequestLocation:
				return "{" + kb.Text + "|location}"
			}
			return "{" + kb.Text + "}"
		}))
	}
	if e.RemoveKeyboard {
		parts = append(parts, "{remove keyboard}")
	}
	if e.ForceReply {
		parts = append(parts, "{force reply}")
	}
	for _, p := range parts {
		b.WriteString(" ")
		b.WriteString(p)
	}
	return b.String()
}

func formatRows[T any](rows [][]T, f func(T) string) string {
	var out []string
	for _, row := range rows {
		var r []string
		for _, x := range row {
			r = append(r, f(x))
		}
		out = append(out, strings.Join(r, " "))
	}
	return strings.Join(out, " / ")
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// FormatTranscript renders entries one per line (see Entry.String), each
// line ending in a newline.
func FormatTranscript(entries []Entry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// clone returns a deep copy of e.
func (e Entry) clone() Entry {
	c := e
	c.Entities = append([]models.MessageEntity(nil), e.Entities...)
	if len(c.Entities) == 0 {
		c.Entities = nil
	}
	c.Inline = cloneRows(e.Inline)
	c.Keyboard = cloneRows(e.Keyboard)
	if e.Edits != nil {
		c.Edits = make([]Revision, len(e.Edits))
		for i, r := range e.Edits {
			c.Edits[i] = Revision{Text: r.Text, Inline: cloneRows(r.Inline), EditedAt: r.EditedAt}
		}
	}
	if e.Location != nil {
		l := *e.Location
		c.Location = &l
	}
	if e.Contact != nil {
		ct := *e.Contact
		c.Contact = &ct
	}
	return c
}

func cloneRows[T any](rows [][]T) [][]T {
	if rows == nil {
		return nil
	}
	out := make([][]T, len(rows))
	for i, r := range rows {
		out[i] = append([]T(nil), r...)
	}
	return out
}

// EventType tells what changed in a transcript.
type EventType string

const (
	EventNew    EventType = "new"    // an entry was appended
	EventEdit   EventType = "edit"   // a bot message was edited
	EventDelete EventType = "delete" // a message was deleted
)

// Event reports a transcript change to subscribers. Entry is the entry after
// the change.
type Event struct {
	Type  EventType
	Entry Entry
}

// String renders the event as a line, e.g. "edit bot#12 (edited): ...".
func (ev Event) String() string {
	if ev.Type == EventNew {
		return ev.Entry.String()
	}
	return string(ev.Type) + " " + ev.Entry.String()
}
