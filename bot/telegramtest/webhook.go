package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

type webhookState struct {
	url              string
	secret           string
	maxConnections   int
	lastErrorDate    int
	lastErrorMessage string
}

func (s *Server) webhookInfoLocked() models.WebhookInfo {
	info := models.WebhookInfo{
		URL:                s.webhook.url,
		PendingUpdateCount: len(s.pending),
		LastErrorDate:      s.webhook.lastErrorDate,
		LastErrorMessage:   s.webhook.lastErrorMessage,
	}
	if s.webhook.url != "" {
		info.IPAddress = "127.0.0.1"
		info.MaxConnections = s.webhook.maxConnections
		if info.MaxConnections == 0 {
			info.MaxConnections = 40
		}
	}
	for t := range s.allowed {
		info.AllowedUpdates = append(info.AllowedUpdates, t)
	}
	return info
}

// WebhookInfo returns what getWebhookInfo would answer.
func (s *Server) WebhookInfo() models.WebhookInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookInfoLocked()
}

// webhookLoop delivers pending updates to the webhook, one at a time and in
// order, retrying an update until the webhook accepts it with a 2xx answer.
func (s *Server) webhookLoop() {
	defer s.wg.Done()
	client := &http.Client{Timeout: s.cfg.webhookTimeout}
	for {
		s.mu.Lock()
		err := s.waitLocked(s.bgCtx, func() bool { return s.webhook.url != "" && len(s.pending) > 0 })
		if err != nil {
			s.mu.Unlock()
			return
		}
		upd := s.pending[0]
		target, secret := s.webhook.url, s.webhook.secret
		body, merr := json.Marshal(&upd)
		s.mu.Unlock()
		if merr != nil {
			// Cannot happen with models types; drop the update rather than spin.
			s.mu.Lock()
			s.removeDeliveredLocked(upd.ID)
			s.mu.Unlock()
			continue
		}

		deliveryErr := postWebhook(s.bgCtx, client, target, secret, body)

		s.mu.Lock()
		if deliveryErr == nil {
			s.removeDeliveredLocked(upd.ID)
			s.mu.Unlock()
			continue
		}
		if s.bgCtx.Err() != nil {
			s.mu.Unlock()
			return
		}
		s.webhook.lastErrorDate = int(s.now().Unix())
		s.webhook.lastErrorMessage = deliveryErr.Error()
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("telegramtest: webhook delivery of update %d failed: %v", upd.ID, deliveryErr)
		t := time.NewTimer(s.cfg.webhookRetryDelay)
		select {
		case <-t.C:
		case <-s.closed:
			t.Stop()
			return
		}
	}
}

func (s *Server) removeDeliveredLocked(id int64) {
	if len(s.pending) > 0 && s.pending[0].ID == id {
		s.pending = s.pending[1:]
	}
	s.notifyLocked()
}

// postWebhook POSTs one update; any answer but 2xx is an error, worded like
// Telegram's last_error_message.
func postWebhook(ctx context.Context, client *http.Client, target, secret string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("Bad webhook: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "connection refused") {
			return fmt.Errorf("Connection refused")
		}
		return fmt.Errorf("Connection error: %v", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("Wrong response from the webhook: %s", resp.Status)
	}
	return nil
}

func validSecretToken(t string) bool {
	if len(t) < 1 || len(t) > 256 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Server) mSetWebhook(c *call) (any, *apiError) {
	target := strings.TrimSpace(c.p.str("url"))
	if target == "" {
		return s.deleteWebhookLocked(c, "Webhook is already deleted", "Webhook was deleted")
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, badRequest("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
	}
	secret := c.p.str("secret_token")
	if secret != "" && !validSecretToken(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	if aerr := s.setAllowedLocked(c.p); aerr != nil {
		return nil, aerr
	}
	maxConn, _, err := c.p.int("max_connections")
	if err != nil {
		return nil, badRequest(err.Error())
	}
	if c.p.bool("drop_pending_updates") {
		s.pending = nil
	}
	desc := "Webhook was set"
	if s.webhook.url == target && s.webhook.secret == secret {
		desc = "Webhook is already set"
	}
	s.webhook.url = target
	s.webhook.secret = secret
	s.webhook.maxConnections = int(maxConn)
	s.webhook.lastErrorDate = 0
	s.webhook.lastErrorMessage = ""
	s.pollGen++ // terminates a waiting getUpdates with 409
	s.notifyLocked()
	return withDescription{value: true, desc: desc}, nil
}

func (s *Server) mDeleteWebhook(c *call) (any, *apiError) {
	return s.deleteWebhookLocked(c, "Webhook is already deleted", "Webhook was deleted")
}

func (s *Server) deleteWebhookLocked(c *call, already, done string) (any, *apiError) {
	desc := done
	if s.webhook.url == "" {
		desc = already
	}
	if c.p.bool("drop_pending_updates") {
		s.pending = nil
	}
	s.webhook = webhookState{}
	s.notifyLocked()
	return withDescription{value: true, desc: desc}, nil
}

func (s *Server) mGetWebhookInfo(c *call) (any, *apiError) {
	return s.webhookInfoLocked(), nil
}
