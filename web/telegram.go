package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot/store"
)

// The Telegram Login Widget (https://core.telegram.org/widgets/login),
// off by default: the login page shows Telegram's button, and Telegram
// sends the browser back to TelegramLoginPath with the account's id,
// names, auth_date and a hash, an HMAC-SHA256 of the other fields keyed
// by the SHA-256 of the bot token. A valid hash not older than a day of
// an active staff member opens a session like a /dasbor link.

// TelegramLoginPath is where the widget sends the browser back to.
const TelegramLoginPath = "/masuk/telegram"

// TelegramAuthMaxAge is how old a widget login (auth_date) may be.
const TelegramAuthMaxAge = 24 * time.Hour

// TelegramLogin turns the Telegram Login Widget on.
type TelegramLogin struct {
	Bot   string // the bot's username (without @), which the widget names
	Token string // the bot token, which keys the hash
}

// checkTelegramAuth checks a widget login's fields: the user id, or the
// reason to refuse ("telegram_hash", "telegram_expired").
func checkTelegramAuth(q url.Values, token string, now time.Time) (int64, string) {
	hash, err := hex.DecodeString(q.Get("hash"))
	if err != nil || len(hash) != sha256.Size {
		return 0, "telegram_hash"
	}
	var fields []string
	for k, v := range q {
		if k != "hash" && len(v) > 0 {
			fields = append(fields, k+"="+v[0])
		}
	}
	slices.Sort(fields)
	key := sha256.Sum256([]byte(token))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(strings.Join(fields, "\n")))
	if !hmac.Equal(mac.Sum(nil), hash) {
		return 0, "telegram_hash"
	}
	id, err := strconv.ParseInt(q.Get("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, "telegram_hash"
	}
	at, err := strconv.ParseInt(q.Get("auth_date"), 10, 64)
	if err != nil {
		return id, "telegram_hash"
	}
	age := now.Sub(time.Unix(at, 0))
	if age > TelegramAuthMaxAge || age < -5*time.Minute {
		return id, "telegram_expired"
	}
	return id, ""
}

// telegramLogin is the widget's return: a checked login opens a session.
func (s *Server) telegramLogin(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(w, r, "")
	if s.cfg.TelegramLogin == nil {
		http.NotFound(w, r)
		return
	}
	id, reason := checkTelegramAuth(r.URL.Query(), s.cfg.TelegramLogin.Token, s.cfg.Now())
	s.openSession(w, r, lang, func(*store.Tx) (int64, string, error) { return id, reason, nil })
}
