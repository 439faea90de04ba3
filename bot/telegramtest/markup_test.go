package telegramtest

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/go-telegram/bot/models"
)

// TestButtonOfEqualsModelsDecode: a button the fake echoes (built from its
// wire fields, decoded once) is the button decoding its JSON into the
// models type gives, for every kind of button and its optional fields.
func TestButtonOfEqualsModelsDecode(t *testing.T) {
	for _, raw := range []string{
		`{"text":"a","callback_data":"x"}`,
		`{"text":"a","callback_data":"x","copy_text":{"text":""}}`,
		`{"text":"a","url":"https://example.org","style":"primary","icon_custom_emoji_id":"5"}`,
		`{"text":"a","copy_text":{"text":"copied"}}`,
		`{"text":"a","switch_inline_query":"q"}`,
		`{"text":"a","switch_inline_query_current_chat":""}`,
		`{"text":"a","pay":true}`,
		`{"text":"a","web_app":{"url":"https://example.org/app"}}`,
		`{"text":"a","login_url":{"url":"https://example.org/login","forward_text":"f"}}`,
		`{"text":"a","switch_inline_query_chosen_chat":{"query":"q","allow_user_chats":true}}`,
		`{"text":"a","callback_game":{}}`,
	} {
		var b wireInlineButton
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got, err := buttonOf(b, json.RawMessage(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var want models.InlineKeyboardButton
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", raw, got, want)
		}
	}
}
