package flows

import (
	"time"

	"github.com/bansosbot/bansosbot"
)

// Input is one thing a user did in Telegram, stripped of Telegram's types.
type Input struct {
	UpdateID  int64
	ChatID    int64
	ChatType  string // "private", "group", "supergroup", "channel"
	UserID    int64
	FirstName string // shown to staff where the category allows; never stored for citizens
	Username  string
	LangCode  string // Telegram's language_code; may be empty
	MessageID int
	Text      string // message text or photo caption
	Command   string // "/start", lowercase, without "@botname"; "" when not a command
	Args      string // text after the command
	Callback  *Callback
	Photo     *bansosbot.Attachment
	Location  *bansosbot.Location
	Contact   *Contact
	Media     string // a kind of message flows mostly refuse: "sticker", "voice", "video", "document", "other"
	// Voice is a voice note (Media "voice" too): the description step
	// takes it as the description.
	Voice *bansosbot.Attachment
	At    time.Time
}

// Callback is a press on an inline button.
type Callback struct {
	ID        string
	MessageID int
	Data      string
}

// Contact is a phone number shared with Telegram's contact button.
type Contact struct {
	Phone  string
	UserID int64 // whose contact it is; must be the sender's own
}

// Kind names the input for metrics and logs (no content).
func (in Input) Kind() string {
	switch {
	case in.Callback != nil:
		return "callback"
	case in.Command != "":
		return "command"
	case in.Photo != nil:
		return "photo"
	case in.Location != nil:
		return "location"
	case in.Contact != nil:
		return "contact"
	case in.Media != "":
		return "media"
	case in.Text != "":
		return "text"
	}
	return "other"
}

// Action is what a Reply asks Telegram to do.
type Action int

const (
	Send           Action = iota // a new text message
	Edit                         // replace the text and buttons of MessageID
	AnswerCallback               // stop the button's spinner, optionally with a toast
	Delete                       // delete MessageID (e.g. a message carrying a NIK)
	SendPhoto                    // re-send a stored photo by file id, Text as caption
	SendLocation                 // a map pin
	SendChart                    // a PNG rendered by the bot from Chart
	// EditButtons replaces the inline buttons of MessageID with Buttons
	// and keeps its text; no Buttons removes them (a prompt once answered).
	EditButtons
	// SendVoice re-sends a stored voice note by FileID, Text as caption.
	SendVoice
)

// Msg is a localized text: a locale key and its arguments. Argument values
// are strings (user text, escaped when rendered), numbers, Msg (rendered in
// the same language), Localized, or Time.
type Msg struct {
	Key  string
	Args map[string]any
}

// T builds a Msg from a key and name/value pairs: T("ticket.filed", "No", no).
func T(key string, kv ...any) Msg {
	return Msg{Key: key, Args: bansosbot.Pairs(kv...)}
}

// Localized is a text given per language by configuration (e.g. category
// names); rendered in the reader's language.
type Localized map[string]string

// Time is an instant rendered in the reader's language, in Loc.
type Time struct {
	T        time.Time
	Loc      *time.Location
	DateOnly bool
}

// Button is an inline button. Data is at most 64 bytes.
type Button struct {
	Label Msg
	Data  string
}

// Keyboard is a reply keyboard under the input field.
type Keyboard struct {
	Rows   [][]KeyButton
	Remove bool // remove any reply keyboard
}

// KeyButton is a reply-keyboard button.
type KeyButton struct {
	Label           Msg
	RequestContact  bool
	RequestLocation bool
}

// Reply is something to send, as data; the bot package renders it with the
// locale catalogs and puts it in the outbox in the same transaction.
type Reply struct {
	Action     Action
	ChatID     int64
	Lang       string
	Text       []Msg // paragraphs, joined by a newline
	Buttons    [][]Button
	Keyboard   *Keyboard
	MessageID  int    // Edit, Delete
	CallbackID string // AnswerCallback
	Alert      bool   // AnswerCallback as an alert instead of a toast
	FileID     string // SendPhoto, SendVoice
	Location   *bansosbot.Location
	Chart      *Chart // SendChart
	// Prompt marks a sent message as the prompt of a session step (Ask):
	// the bot records its message id once delivered (MessageID is 0
	// here), so that a typed answer can remove its buttons.
	Prompt *bansosbot.Prompt
	// Announcement is the announcement this message carries (0: a
	// conversation's reply): the outbox sends it with the capacity the
	// conversations leave and reports its outcome (AnnouncementOutcome).
	Announcement uint64
}

// Chart is data the bot draws as a PNG (supervisors' /grafik).
type Chart struct {
	Title  Msg
	Labels []string      // x axis, e.g. ISO weeks
	Series []ChartSeries // lines
}

// ChartSeries is one line of a Chart.
type ChartSeries struct {
	Name   Msg
	Values []float64
}
