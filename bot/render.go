package bot

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
)

// Telegram's limits on text (characters after entity parsing; we count
// the HTML source, which is never shorter, so we stay within them).
const (
	maxText    = 4096
	maxCaption = 1024
)

// call is one Telegram request as stored in the outbox: everything needed
// to make it again after a restart, already rendered.
type call struct {
	Method     string              `json:"m"`
	ChatID     int64               `json:"c"`
	Text       string              `json:"t,omitempty"`
	Buttons    [][]button          `json:"b,omitempty"`
	Keyboard   *keyboard           `json:"k,omitempty"`
	MessageID  int                 `json:"mid,omitempty"`
	CallbackID string              `json:"cb,omitempty"`
	Alert      bool                `json:"alert,omitempty"`
	FileID     string              `json:"file,omitempty"`
	PNG        []byte              `json:"png,omitempty"`
	Location   *bansosbot.Location `json:"loc,omitempty"`
	// Prompt marks the message as the prompt of a session step
	// (flows.Reply.Prompt): once sent, its message id is recorded
	// (prompt.go).
	Prompt *bansosbot.Prompt `json:"p,omitempty"`
	// Ann is the announcement the call carries (flows.Reply.Announcement),
	// kept on the outbox item rather than in the payload.
	Ann uint64 `json:"-"`
}

type button struct {
	Text string `json:"t"`
	Data string `json:"d"`
}

type keyboard struct {
	Rows   [][]keyButton `json:"r,omitempty"`
	Remove bool          `json:"rm,omitempty"`
}

type keyButton struct {
	Text     string `json:"t"`
	Contact  bool   `json:"c,omitempty"`
	Location bool   `json:"l,omitempty"`
}

// Telegram methods the outbox makes.
const (
	mSendMessage    = "sendMessage"
	mEditText       = "editMessageText"
	mEditMarkup     = "editMessageReplyMarkup"
	mAnswerCallback = "answerCallbackQuery"
	mDeleteMessage  = "deleteMessage"
	mSendPhoto      = "sendPhoto"
	mSendVoice      = "sendVoice"
	mSendLocation   = "sendLocation"
)

// Renderer turns replies into Telegram calls with the locale catalogs.
type Renderer struct {
	cat *locales.Catalog
	loc *time.Location // for times without a zone of their own
	// Chart draws a chart as PNG; nil renders charts as text only.
	Chart func(lang string, title string, c *flows.Chart) ([]byte, error)
}

// NewRenderer returns a renderer; loc is the default time zone.
func NewRenderer(cat *locales.Catalog, loc *time.Location) *Renderer {
	if loc == nil {
		loc = time.UTC
	}
	return &Renderer{cat: cat, loc: loc}
}

// Msg renders one localized message as Telegram HTML. String arguments
// are escaped; nested messages are rendered in the same language.
func (r *Renderer) Msg(lang string, m flows.Msg) string {
	if m.Key == "" {
		return ""
	}
	var args map[string]any
	if len(m.Args) > 0 {
		args = make(map[string]any, len(m.Args))
		for k, v := range m.Args {
			args[k] = r.arg(lang, v)
		}
	}
	return r.cat.Text(lang, m.Key, args)
}

func (r *Renderer) arg(lang string, v any) any {
	switch a := v.(type) {
	case string:
		if a == flows.ErasedMarker {
			return r.cat.Text(lang, "general.erased", nil)
		}
		return html.EscapeString(a)
	case flows.Msg:
		return r.Msg(lang, a)
	case []flows.Msg:
		parts := make([]string, 0, len(a))
		for _, m := range a {
			parts = append(parts, r.Msg(lang, m))
		}
		return strings.Join(parts, "\n")
	case flows.Localized:
		s := a[lang]
		if s == "" {
			s = a[bansosbot.Languages[0]]
		}
		return html.EscapeString(s)
	case flows.Time:
		return html.EscapeString(r.Time(lang, a))
	case bansosbot.TicketNo:
		return html.EscapeString(string(a))
	case bansosbot.RegionCode:
		return html.EscapeString(string(a))
	}
	return v
}

// Time formats an instant the Indonesian or English way:
// "26 November 2026 10.00 WIB" / "26 November 2026, 10:00 WIB".
func (r *Renderer) Time(lang string, t flows.Time) string {
	if t.T.IsZero() {
		return "-"
	}
	loc := t.Loc
	if loc == nil {
		loc = r.loc
	}
	lt := t.T.In(loc)
	date := fmt.Sprintf("%d %s %d", lt.Day(), r.cat.Text(lang, "month."+strconv.Itoa(int(lt.Month())), nil), lt.Year())
	if t.DateOnly {
		return date
	}
	if lang == "en" {
		return date + ", " + lt.Format("15:04 MST")
	}
	return date + " " + lt.Format("15.04 MST")
}

// Text renders paragraphs joined by newlines.
func (r *Renderer) Text(lang string, msgs []flows.Msg) string {
	parts := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if s := r.Msg(lang, m); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

// Render turns replies into calls. Consecutive messages to one chat where
// the earlier has no buttons are merged into one (fewer messages, and
// Telegram allows about one per second per chat); texts over Telegram's
// limit are split on line boundaries.
func (r *Renderer) Render(replies []flows.Reply) ([]call, error) {
	var out []call
	for _, rep := range replies {
		cs, err := r.render(rep)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			c.Ann = rep.Announcement
			if n := len(out); n > 0 && mergeable(out[n-1], c) {
				out[n-1].Text += "\n\n" + c.Text
				out[n-1].Buttons, out[n-1].Keyboard, out[n-1].Prompt = c.Buttons, c.Keyboard, c.Prompt
				continue
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func mergeable(prev, next call) bool {
	return prev.Method == mSendMessage && next.Method == mSendMessage && prev.ChatID == next.ChatID && prev.Ann == next.Ann &&
		len(prev.Buttons) == 0 && prev.Keyboard == nil &&
		utf8.RuneCountInString(prev.Text)+utf8.RuneCountInString(next.Text)+2 <= maxText
}

func (r *Renderer) render(rep flows.Reply) ([]call, error) {
	lang := rep.Lang
	if lang == "" {
		lang = locales.Default
	}
	text := r.Text(lang, rep.Text)
	base := call{ChatID: rep.ChatID}
	switch rep.Action {
	case flows.Send:
		if text == "" {
			return nil, fmt.Errorf("bot: empty message for chat")
		}
		chunks := splitText(text, maxText)
		out := make([]call, 0, len(chunks))
		for i, ch := range chunks {
			c := base
			c.Method, c.Text = mSendMessage, ch
			if i == len(chunks)-1 {
				c.Buttons, c.Keyboard, c.Prompt = r.buttons(lang, rep.Buttons), r.keyboard(lang, rep.Keyboard), rep.Prompt
			}
			out = append(out, c)
		}
		return out, nil
	case flows.Edit:
		base.Method, base.Text, base.MessageID = mEditText, truncate(text, maxText), rep.MessageID
		base.Buttons = r.buttons(lang, rep.Buttons)
	case flows.EditButtons:
		base.Method, base.MessageID = mEditMarkup, rep.MessageID
		base.Buttons = r.buttons(lang, rep.Buttons)
	case flows.AnswerCallback:
		base.Method, base.CallbackID, base.Alert = mAnswerCallback, rep.CallbackID, rep.Alert
		base.Text = truncate(html2plain(text), 200) // toasts are plain text, at most 200 characters
	case flows.Delete:
		base.Method, base.MessageID = mDeleteMessage, rep.MessageID
	case flows.SendPhoto:
		base.Method, base.FileID, base.Text = mSendPhoto, rep.FileID, truncate(text, maxCaption)
		base.Buttons = r.buttons(lang, rep.Buttons)
	case flows.SendVoice:
		base.Method, base.FileID, base.Text = mSendVoice, rep.FileID, truncate(text, maxCaption)
	case flows.SendLocation:
		if rep.Location == nil {
			return nil, fmt.Errorf("bot: location reply without a location")
		}
		base.Method, base.Location = mSendLocation, rep.Location
	case flows.SendChart:
		if rep.Chart == nil || r.Chart == nil {
			return r.render(flows.Reply{Action: flows.Send, ChatID: rep.ChatID, Lang: lang, Text: rep.Text, Buttons: rep.Buttons})
		}
		png, err := r.Chart(lang, r.Msg(lang, rep.Chart.Title), rep.Chart)
		if err != nil {
			return nil, fmt.Errorf("bot: draw chart: %w", err)
		}
		base.Method, base.PNG, base.Text = mSendPhoto, png, truncate(text, maxCaption)
	default:
		return nil, fmt.Errorf("bot: unknown reply action %d", rep.Action)
	}
	return []call{base}, nil
}

func (r *Renderer) buttons(lang string, rows [][]flows.Button) [][]button {
	if len(rows) == 0 {
		return nil
	}
	out := make([][]button, 0, len(rows))
	for _, row := range rows {
		bs := make([]button, 0, len(row))
		for _, b := range row {
			// Button labels are plain text: render, then undo HTML escaping.
			bs = append(bs, button{Text: html2plain(r.Msg(lang, b.Label)), Data: b.Data})
		}
		out = append(out, bs)
	}
	return out
}

func (r *Renderer) keyboard(lang string, k *flows.Keyboard) *keyboard {
	if k == nil {
		return nil
	}
	out := &keyboard{Remove: k.Remove}
	for _, row := range k.Rows {
		var kr []keyButton
		for _, b := range row {
			kr = append(kr, keyButton{Text: html2plain(r.Msg(lang, b.Label)), Contact: b.RequestContact, Location: b.RequestLocation})
		}
		out.Rows = append(out.Rows, kr)
	}
	return out
}

// html2plain strips tags and unescapes entities, for places where Telegram
// shows plain text (button labels, callback toasts).
func html2plain(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// splitText cuts s into pieces of at most n runes, at line boundaries
// where possible, never inside an HTML tag or entity.
func splitText(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		r := []rune(s)
		cut := -1
		for i := n; i > n/2; i-- { // prefer the last newline in the second half
			if r[i] == '\n' {
				cut = i
				break
			}
		}
		if cut < 0 {
			cut = safeCut(r, n)
		}
		out = append(out, strings.TrimRight(string(r[:cut]), "\n"))
		s = strings.TrimLeft(string(r[cut:]), "\n")
	}
	if s = strings.TrimRight(s, "\n"); s != "" {
		out = append(out, s)
	}
	return out
}

// safeCut moves a cut at n back so that it does not split a tag or an
// entity.
func safeCut(r []rune, n int) int {
	for i := n - 1; i >= 0 && i > n-12; i-- {
		if r[i] == ';' || r[i] == '>' {
			break
		}
		if r[i] == '&' || r[i] == '<' {
			return i
		}
	}
	return n
}
