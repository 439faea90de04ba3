package telegramtest

import (
	"encoding/json"
	"strings"

	"github.com/go-telegram/bot/models"
)

// Button is an inline keyboard button as recorded in the transcript.
type Button struct {
	Text         string
	CallbackData string // empty for URL and other buttons
	URL          string
}

// KeyboardButton is a reply keyboard button as recorded in the transcript.
type KeyboardButton struct {
	Text            string
	RequestContact  bool
	RequestLocation bool
}

// markup is a decoded and validated reply_markup.
type markup struct {
	inline         *models.InlineKeyboardMarkup // as echoed in Message.reply_markup
	buttons        [][]Button
	keyboard       [][]KeyboardButton
	removeKeyboard bool
	forceReply     bool
}

// wireInlineButton distinguishes absent from empty fields, which the models
// types cannot. The embedded models button takes the fields not named
// here (style, icon), so that a plain button is decoded once (buttonOf).
type wireInlineButton struct {
	models.InlineKeyboardButton
	Text                         string           `json:"text"`
	URL                          *string          `json:"url"`
	CallbackData                 *string          `json:"callback_data"`
	WebApp                       *json.RawMessage `json:"web_app"`
	LoginURL                     *json.RawMessage `json:"login_url"`
	SwitchInlineQuery            *string          `json:"switch_inline_query"`
	SwitchInlineQueryCurrentChat *string          `json:"switch_inline_query_current_chat"`
	SwitchInlineQueryChosenChat  *json.RawMessage `json:"switch_inline_query_chosen_chat"`
	CopyText                     *struct {
		Text string `json:"text"`
	} `json:"copy_text"`
	CallbackGame *json.RawMessage `json:"callback_game"`
	Pay          bool             `json:"pay"`
}

type wireMarkup struct {
	InlineKeyboard *[][]json.RawMessage `json:"inline_keyboard"`
	Keyboard       *[][]json.RawMessage `json:"keyboard"`
	RemoveKeyboard bool                 `json:"remove_keyboard"`
	ForceReply     bool                 `json:"force_reply"`
}

// parseMarkup decodes the reply_markup parameter. allowReply is false for
// edits, which only take inline keyboards.
func parseMarkup(p *params, allowReply bool) (*markup, *apiError) {
	var w wireMarkup
	ok, err := p.json("reply_markup", &w)
	if !ok {
		return &markup{}, nil
	}
	if err != nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	m := &markup{}
	switch {
	case w.InlineKeyboard != nil:
		m.inline = &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}
		for _, row := range *w.InlineKeyboard {
			var brow []Button
			var mrow []models.InlineKeyboardButton
			for _, raw := range row {
				var b wireInlineButton
				if err := json.Unmarshal(raw, &b); err != nil {
					return nil, badRequest("can't parse inline keyboard button: Field \"text\" must be of type String")
				}
				mb, err := buttonOf(b, raw)
				if err != nil {
					return nil, badRequest("can't parse inline keyboard button")
				}
				if aerr := validateInlineButton(b); aerr != nil {
					return nil, aerr
				}
				bt := Button{Text: b.Text}
				if b.CallbackData != nil {
					bt.CallbackData = *b.CallbackData
				}
				if b.URL != nil {
					bt.URL = *b.URL
				}
				brow = append(brow, bt)
				mrow = append(mrow, mb)
			}
			if len(brow) == 0 {
				continue
			}
			m.buttons = append(m.buttons, brow)
			m.inline.InlineKeyboard = append(m.inline.InlineKeyboard, mrow)
		}
		if len(m.buttons) == 0 {
			m.inline = nil
		}
	case w.Keyboard != nil:
		if !allowReply {
			return nil, badRequest("inline keyboard expected")
		}
		for _, row := range *w.Keyboard {
			var krow []KeyboardButton
			for _, raw := range row {
				var kb models.KeyboardButton
				if err := json.Unmarshal(raw, &kb); err != nil {
					// A plain string is a shortcut for a button with that text.
					var s string
					if json.Unmarshal(raw, &s) != nil {
						return nil, badRequest("can't parse keyboard button")
					}
					kb.Text = s
				}
				if strings.TrimSpace(kb.Text) == "" {
					return nil, badRequest("keyboard button text must be non-empty")
				}
				krow = append(krow, KeyboardButton{Text: kb.Text, RequestContact: kb.RequestContact, RequestLocation: kb.RequestLocation})
			}
			if len(krow) > 0 {
				m.keyboard = append(m.keyboard, krow)
			}
		}
		if len(m.keyboard) == 0 {
			return nil, badRequest("keyboard must be non-empty")
		}
	case w.RemoveKeyboard:
		if !allowReply {
			return nil, badRequest("inline keyboard expected")
		}
		m.removeKeyboard = true
	case w.ForceReply:
		if !allowReply {
			return nil, badRequest("inline keyboard expected")
		}
		m.forceReply = true
	default:
		return nil, badRequest("can't find field \"inline_keyboard\"")
	}
	return m, nil
}

// buttonOf is the models button of a decoded wire button (raw is its
// JSON): built from the wire fields for the kinds they hold as plain
// values, decoded again into the models type for the others (web app,
// login URL, chosen-chat inline query, game), whose objects the wire
// type keeps raw. The fake parses every button of every message a bot
// sends: once instead of twice per button is much of its cost in the
// pipeline benchmark.
func buttonOf(b wireInlineButton, raw json.RawMessage) (models.InlineKeyboardButton, error) {
	var mb models.InlineKeyboardButton
	if b.WebApp != nil || b.LoginURL != nil || b.SwitchInlineQueryChosenChat != nil || b.CallbackGame != nil {
		err := json.Unmarshal(raw, &mb)
		return mb, err
	}
	mb = b.InlineKeyboardButton
	mb.Text, mb.Pay = b.Text, b.Pay
	for _, f := range []struct {
		dst *string
		src *string
	}{{&mb.URL, b.URL}, {&mb.CallbackData, b.CallbackData}, {&mb.SwitchInlineQuery, b.SwitchInlineQuery},
		{&mb.SwitchInlineQueryCurrentChat, b.SwitchInlineQueryCurrentChat}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if b.CopyText != nil {
		mb.CopyText.Text = b.CopyText.Text
	}
	return mb, nil
}

func validateInlineButton(b wireInlineButton) *apiError {
	if b.Text == "" {
		return badRequest("can't parse inline keyboard button: Text must be non-empty")
	}
	actions := 0
	if b.CallbackData != nil {
		actions++
		if n := len(*b.CallbackData); n < 1 || n > 64 {
			return badRequest("BUTTON_DATA_INVALID")
		}
	}
	if b.URL != nil {
		actions++
		u := *b.URL
		if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "tg://")) || len(u) < 8 {
			return badRequest("BUTTON_URL_INVALID")
		}
	}
	for _, present := range []bool{
		b.WebApp != nil, b.LoginURL != nil, b.SwitchInlineQuery != nil,
		b.SwitchInlineQueryCurrentChat != nil, b.SwitchInlineQueryChosenChat != nil,
		b.CallbackGame != nil, b.Pay,
		// go-telegram/bot always sends copy_text; only a non-empty one counts.
		b.CopyText != nil && b.CopyText.Text != "",
	} {
		if present {
			actions++
		}
	}
	if actions == 0 {
		return badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
	}
	return nil
}

// buttonsOf converts a models inline keyboard into transcript buttons.
func buttonsOf(kb *models.InlineKeyboardMarkup) [][]Button {
	if kb == nil {
		return nil
	}
	var rows [][]Button
	for _, row := range kb.InlineKeyboard {
		var r []Button
		for _, b := range row {
			r = append(r, Button{Text: b.Text, CallbackData: b.CallbackData, URL: b.URL})
		}
		if len(r) > 0 {
			rows = append(rows, r)
		}
	}
	return rows
}
