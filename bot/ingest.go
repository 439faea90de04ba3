package bot

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/clock"
	"github.com/bansosbot/bansosbot/flows"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// allowedUpdates are the update kinds the bot asks Telegram for.
var allowedUpdates = []string{"message", "callback_query", "my_chat_member"}

// poll is the long-polling loop. It asks for updates from the offset kept
// in the store, makes them durable, and only then moves the offset on, so
// Telegram forgets an update only once it is in the inbox.
func (s *Server) poll(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if !s.leases.wait(ctx, leasePoller) { // one poller among replicas
			return
		}
		if backoff > 0 {
			if !clock.Sleep(ctx, s.cfg.Clock, backoff) {
				return
			}
		}
		if !s.waitRoom(ctx) {
			return
		}
		offset, err := s.db.Offset()
		if err != nil {
			s.log.Error("read polling offset", "err", err)
			backoff = nextBackoff(backoff, 5*time.Second)
			continue
		}
		raws, err := s.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.health.apiFailed()
			s.log.Warn("getUpdates failed", "err", err)
			backoff = nextBackoff(backoff, 5*time.Second)
			continue
		}
		s.health.apiOK()
		backoff = 0
		if len(raws) == 0 {
			continue
		}
		items := make([]bansosbot.InboxItem, 0, len(raws))
		decoded := make(map[int64]*models.Update, len(raws))
		next := offset
		for _, raw := range raws {
			it, u, err := inboxItem(raw, s.cfg.Clock.Now())
			if err != nil {
				s.log.Error("undecodable update skipped", "err", err)
				continue
			}
			items = append(items, it)
			decoded[it.UpdateID] = u
			next = max(next, it.UpdateID+1)
		}
		fresh, err := s.db.Accept(items, next)
		if err != nil {
			s.log.Error("accept updates", "err", err)
			backoff = nextBackoff(backoff, 5*time.Second)
			continue
		}
		s.cfg.Metrics.received(fresh)
		s.dispatchAccepted(fresh, decoded)
	}
}

func nextBackoff(d, limit time.Duration) time.Duration {
	if d == 0 {
		return 100 * time.Millisecond
	}
	return min(2*d, limit)
}

// getUpdates is a raw call: the update JSON is kept as Telegram sent it.
func (s *Server) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(s.cfg.PollTimeout / time.Second),
		"allowed_updates": allowedUpdates,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.APIURL+"/bot"+s.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, redactToken(err, s.cfg.Token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, redactToken(err, s.cfg.Token)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		Description string            `json:"description"`
		ErrorCode   int               `json:"error_code"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d, undecodable answer", resp.StatusCode)
	}
	if !r.OK {
		return nil, fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	return r.Result, nil
}

// redactToken removes the bot token from URLs in errors before they reach
// a log.
func redactToken(err error, token string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = strings.ReplaceAll(ue.URL, token, "***")
	}
	return err
}

func (s *Server) deleteWebhook(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := s.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
	return err
}

// startWebhook registers the webhook with Telegram and, unless the caller
// mounts the handler itself, serves it.
func (s *Server) startWebhook(ctx context.Context) error {
	if s.cfg.WebhookServe {
		ln, err := net.Listen("tcp", s.cfg.WebhookListen)
		if err != nil {
			return fmt.Errorf("bot: webhook listen %s: %w", s.cfg.WebhookListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle(webhookPath(s.cfg.WebhookURL), s.WebhookHandler())
		s.httpSrv = NewHTTPServer(mux, s.cfg.Timeouts)
		s.inputs.Add(1)
		go func() {
			defer s.inputs.Done()
			if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("webhook server stopped", "err", err)
			}
		}()
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// One connection: Telegram then sends the next update only after we
	// answered the previous one, so each chat's updates arrive (and are
	// dispatched) in order. With more, two updates of one chat could race.
	_, err := s.api.SetWebhook(sctx, &tg.SetWebhookParams{
		URL: s.cfg.WebhookURL, SecretToken: s.cfg.WebhookSecret, AllowedUpdates: allowedUpdates, MaxConnections: 1,
	})
	if err != nil {
		// Telegram may be unreachable now; updates wait there up to 24 h.
		s.log.Warn("setWebhook failed; the webhook keeps listening", "err", err)
	}
	return nil
}

// webhookPath is the path part of the public webhook URL ("/" if none).
func webhookPath(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Path == "" {
		return "/"
	}
	return p.Path
}

// WebhookHandler accepts updates pushed by Telegram. It answers 200 once
// the update is durable and handed to its shard (Telegram retries
// anything else), 503 without storing anything when the shards hold all
// they may keep in memory, and 401 without storing anything when the
// secret header does not match.
func (s *Server) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if s.cfg.WebhookSecret != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.WebhookSecret)) != 1 {
			s.cfg.Metrics.webhookRejected()
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if s.busy() {
			// Nothing stored: Telegram keeps the update and retries.
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		it, u, err := inboxItem(raw, s.cfg.Clock.Now())
		if err != nil {
			// Undecodable: retrying will not help; acknowledge and log.
			s.log.Error("undecodable webhook update dropped", "err", err)
			w.WriteHeader(http.StatusOK)
			return
		}
		fresh, err := s.db.Accept([]bansosbot.InboxItem{it}, 0)
		if err != nil {
			s.log.Error("accept webhook update", "update_id", it.UpdateID, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		s.health.apiOK()
		s.cfg.Metrics.received(fresh)
		// The hand-off never waits (a full shard must not hold Telegram's
		// single connection), and the update is durable: answer now.
		s.dispatchAccepted(fresh, map[int64]*models.Update{it.UpdateID: u})
		w.WriteHeader(http.StatusOK)
	})
}

// inboxItem decodes an update: the item to keep in the inbox (the update
// as Telegram sent it, its id and chat) and the update decoded, handed to
// dispatch so that it is decoded once.
func inboxItem(raw json.RawMessage, now time.Time) (bansosbot.InboxItem, *models.Update, error) {
	u := new(models.Update)
	if err := json.Unmarshal(raw, u); err != nil {
		return bansosbot.InboxItem{}, nil, fmt.Errorf("decode update: %w", err)
	}
	if u.ID <= 0 {
		return bansosbot.InboxItem{}, nil, errors.New("update without update_id")
	}
	return bansosbot.InboxItem{UpdateID: u.ID, ChatID: chatOf(u), Update: raw, ReceivedAt: now}, u, nil
}

func chatOf(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil:
		if m := u.CallbackQuery.Message.Message; m != nil {
			return m.Chat.ID
		}
		return u.CallbackQuery.From.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID
	}
	return 0
}

// toInput converts an update into the flows' input; ok is false for
// updates the flows have nothing to do with.
func toInput(u *models.Update) (flows.Input, bool) {
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil {
			return flows.Input{}, false
		}
		in := flows.Input{
			UpdateID: u.ID, ChatID: m.Chat.ID, ChatType: string(m.Chat.Type),
			UserID: m.From.ID, FirstName: m.From.FirstName, Username: m.From.Username, LangCode: m.From.LanguageCode,
			MessageID: m.ID, Text: m.Text, At: time.Unix(int64(m.Date), 0),
		}
		if in.Text == "" {
			in.Text = m.Caption
		}
		if strings.HasPrefix(m.Text, "/") {
			cmd, args, _ := strings.Cut(m.Text, " ")
			cmd, _, _ = strings.Cut(cmd, "@") // "/start@bansosbot"
			in.Command, in.Args = strings.ToLower(cmd), strings.TrimSpace(args)
		}
		switch {
		case len(m.Photo) > 0:
			p := m.Photo[len(m.Photo)-1] // the largest size
			in.Photo = &bansosbot.Attachment{FileID: p.FileID, FileUniqueID: p.FileUniqueID, AddedAt: in.At}
		case m.Location != nil:
			in.Location = &bansosbot.Location{Lat: m.Location.Latitude, Lon: m.Location.Longitude}
		case m.Contact != nil:
			in.Contact = &flows.Contact{Phone: m.Contact.PhoneNumber, UserID: m.Contact.UserID}
		case m.Sticker != nil:
			in.Media = "sticker"
		case m.Voice != nil:
			in.Media = "voice"
			in.Voice = &bansosbot.Attachment{FileID: m.Voice.FileID, FileUniqueID: m.Voice.FileUniqueID, AddedAt: in.At, Seconds: m.Voice.Duration}
		case m.Audio != nil:
			in.Media = "voice"
		case m.Video != nil || m.VideoNote != nil || m.Animation != nil:
			in.Media = "video"
		case m.Document != nil:
			in.Media = "document"
		case in.Text == "":
			in.Media = "other"
		}
		return in, true
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		in := flows.Input{
			UpdateID: u.ID, ChatID: q.From.ID, ChatType: "private",
			UserID: q.From.ID, FirstName: q.From.FirstName, Username: q.From.Username, LangCode: q.From.LanguageCode,
			Callback: &flows.Callback{ID: q.ID, Data: q.Data},
		}
		if m := q.Message.Message; m != nil {
			in.ChatID, in.ChatType, in.Callback.MessageID = m.Chat.ID, string(m.Chat.Type), m.ID
		}
		return in, true
	}
	return flows.Input{}, false
}
