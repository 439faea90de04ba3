package bansosbot

import "time"

// ConsentVersion is the version of the privacy notice a user agrees to. Bump
// it when the notice changes materially: users are then asked again.
const ConsentVersion = 1

// Languages the bot speaks; the first is the default.
var Languages = []string{"id", "en"}

// NormalizeLang maps a Telegram language_code (e.g. "en-US") to a supported
// language, falling back to Indonesian.
func NormalizeLang(code string) string {
	if len(code) >= 2 {
		for _, l := range Languages {
			if code[:2] == l {
				return l
			}
		}
	}
	return Languages[0]
}

// Profile is what the bot keeps about one Telegram user, citizen or staff:
// the chosen language and the consent given to the privacy notice. No name,
// username or phone is kept here.
type Profile struct {
	UserID         int64     `json:"user_id"`
	Lang           string    `json:"lang"`
	ConsentVersion int       `json:"consent_version,omitempty"` // 0: not given
	ConsentAt      time.Time `json:"consent_at,omitzero"`
	Unreachable    bool      `json:"unreachable,omitempty"` // the user blocked the bot (403)
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Consented reports whether the user agreed to the current privacy notice.
func (p *Profile) Consented() bool {
	return p != nil && p.ConsentVersion >= ConsentVersion
}

// Session is the state of one user's conversation with the bot: which flow
// runs, its FSM state, the flow's draft and a step counter that stamps the
// buttons of the latest prompt, so that a button from an older message is
// recognised as stale.
type Session struct {
	UserID    int64     `json:"user_id"`
	Flow      string    `json:"flow,omitempty"`
	State     string    `json:"state,omitempty"`
	Step      uint32    `json:"step"`
	Draft     []byte    `json:"draft,omitempty"` // flow-specific JSON
	UpdatedAt time.Time `json:"updated_at"`
	// Held is a message that arrived while an idle flow asked "continue or
	// discard?" (flows.Input as JSON); it is handled if the user continues.
	Held []byte `json:"held,omitempty"`
	// Parked is an unfinished complaint set aside when another flow
	// started in its middle (/cek during /lapor); /lapor offers it again.
	Parked *ParkedFlow `json:"parked,omitempty"`
}

// Prompt is a conversation prompt: the message that asked the question of
// one session step (Flow and Step, as its buttons carry them). A reply
// marks itself as the prompt of its step; once the outbox delivered it,
// the store keeps its MessageID per chat, so that an answer typed instead
// of pressed can remove the prompt's buttons as a press does.
type Prompt struct {
	MessageID int    `json:"m,omitempty"`
	Flow      string `json:"f"`
	Step      uint32 `json:"s"`
}

// ParkedFlow is a flow set aside: its state and draft as they were.
type ParkedFlow struct {
	Flow  string    `json:"flow"`
	State string    `json:"state"`
	Draft []byte    `json:"draft,omitempty"`
	At    time.Time `json:"at"`
}

// Idle reports whether the session has not moved for longer than d.
func (s *Session) Idle(now time.Time, d time.Duration) bool {
	return s != nil && !s.UpdatedAt.IsZero() && now.Sub(s.UpdatedAt) > d
}
