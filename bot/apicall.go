package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// apiCall makes one Bot API call with its parameters as a JSON body and
// decodes the result into dest (when not nil). The library's own calls
// stream a multipart form through a pipe from a goroutine of their own,
// which the HTTP transport sends chunked with a write to the socket per
// part (a dozen for a message with buttons), and Telegram (or the fake)
// then parses the form: at 64 chats the outbox's calls took a third of
// the bot's CPU time. A JSON body of known length goes out in one write.
// Telegram takes either encoding alike; calls with a file (an upload or
// a file id) still go through the library's multipart form.
//
// Errors are the library's (tg.TooManyRequestsError with retry_after,
// tg.ErrorForbidden, tg.ErrorBadRequest, ...), made the way it makes
// them, so the outbox classifies them as before.
func (s *Server) apiCall(ctx context.Context, method string, params, dest any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.APIURL+"/bot"+s.cfg.Token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return redactToken(err, s.cfg.Token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("error do request for method %s, %w", method, redactToken(err, s.cfg.Token))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("error read response body for method %s, %w", method, err)
	}
	// The result is decoded into dest in the same pass (or skipped).
	var r struct {
		OK          bool   `json:"ok"`
		Result      any    `json:"result"`
		Description string `json:"description"`
		ErrorCode   int    `json:"error_code"`
		Parameters  struct {
			RetryAfter      int `json:"retry_after"`
			MigrateToChatID int `json:"migrate_to_chat_id"`
		} `json:"parameters"`
	}
	r.Result = dest
	if dest == nil {
		r.Result = new(ignored)
	}
	err = json.Unmarshal(raw, &r)
	if err != nil && !r.OK {
		return fmt.Errorf("error decode response body for method %s, HTTP %d: %w", method, resp.StatusCode, err)
	}
	if !r.OK {
		return apiError(method, r.ErrorCode, r.Description, r.Parameters.RetryAfter, r.Parameters.MigrateToChatID)
	}
	if err != nil {
		return fmt.Errorf("error decode response result for method %s, %w", method, err)
	}
	return nil
}

// ignored is a JSON value not needed (a call's result nobody reads): the
// decoder only finds its end.
type ignored struct{}

func (*ignored) UnmarshalJSON([]byte) error { return nil }

// messageParams are the parameters of sendMessage, editMessageText and
// editMessageReplyMarkup as the outbox sends them: the library's params
// types take a dozen more fields each to walk.
type messageParams struct {
	ChatID      int64            `json:"chat_id"`
	MessageID   int              `json:"message_id,omitempty"`
	Text        string           `json:"text,omitempty"`
	ParseMode   models.ParseMode `json:"parse_mode,omitempty"`
	LinkPreview *linkPreview     `json:"link_preview_options,omitempty"`
	ReplyMarkup any              `json:"reply_markup,omitempty"`
}

type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// inlineMarkup is an inline keyboard of callback buttons (the library's
// button type sends an empty copy_text object with each).
type inlineMarkup struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// apiError is the error go-telegram/bot returns for a failed call.
func apiError(method string, code int, desc string, retryAfter, migrateTo int) error {
	switch code {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tg.ErrorForbidden, desc)
	case http.StatusBadRequest:
		if migrateTo != 0 {
			return &tg.MigrateError{Message: fmt.Sprintf("%s: %s", tg.ErrorBadRequest, desc), MigrateToChatID: migrateTo}
		}
		return fmt.Errorf("%w, %s", tg.ErrorBadRequest, desc)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tg.ErrorUnauthorized, desc)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tg.ErrorNotFound, desc)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tg.ErrorConflict, desc)
	case http.StatusTooManyRequests:
		return &tg.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", tg.ErrorTooManyRequests, desc), RetryAfter: retryAfter}
	}
	return fmt.Errorf("error response from telegram for method %s, %d %s", method, code, desc)
}
