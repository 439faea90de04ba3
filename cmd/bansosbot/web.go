package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/web"
)

// The M&E web dashboard (web/): served on BANSOSBOT_WEB, entered through
// the bot's /dasbor links, which point at BANSOSBOT_WEB_URL.

// dashboardURL is the dashboard's public address ("" when it is off).
func (c *Config) dashboardURL() string {
	if c.Web == "" {
		return ""
	}
	if c.WebURL != "" {
		return strings.TrimRight(c.WebURL, "/")
	}
	return "http://" + c.Web
}

func (c *Config) validateWeb() error {
	if c.WebURL == "" {
		return nil
	}
	u, err := url.Parse(c.WebURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("BANSOSBOT_WEB_URL %q is not an http(s) URL", c.WebURL)
	}
	return nil
}

// serveWeb starts the dashboard listener when BANSOSBOT_WEB is set.
func (m *Main) serveWeb() error {
	if m.Config.Web == "" {
		return nil
	}
	var tl *web.TelegramLogin
	if bot := strings.TrimPrefix(m.Config.WebTelegramLogin, "@"); bot != "" {
		tl = &web.TelegramLogin{Bot: bot, Token: m.Config.Token}
	}
	srv, err := web.New(web.Config{DB: m.DB, Engine: m.Engine, Now: m.Now, Log: m.Log.With("component", "web"),
		Secure: strings.HasPrefix(m.Config.dashboardURL(), "https://"), Files: m.fileProxy, TelegramLogin: tl})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Web)
	if err != nil {
		return fmt.Errorf("BANSOSBOT_WEB: %w", err)
	}
	m.webAddr = ln.Addr().String()
	m.web = bot.NewHTTPServer(srv, m.Listen)
	go func() {
		if err := m.web.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("dashboard listener", "err", err)
		}
	}()
	m.Log.Info("dashboard listening", "addr", m.webAddr, "url", m.Config.dashboardURL())
	return nil
}

// WebAddr is the dashboard's listening address ("" when off).
func (m *Main) WebAddr() string { return m.webAddr }

func (m *Main) closeWeb() {
	if m.web == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m.web.Shutdown(ctx)
}

// fileProxy streams a Telegram file (a ticket's photo) to the dashboard
// through the Bot API (getFile, then the file download), so the browser
// never sees the token.
func (m *Main) fileProxy(w http.ResponseWriter, r *http.Request, fileID string) {
	api := strings.TrimRight(m.Config.APIURL, "/")
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/bot"+m.Config.Token+"/getFile?file_id="+url.QueryEscape(fileID), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, "file unavailable", http.StatusBadGateway)
		return
	}
	var gf struct {
		OK     bool `json:"ok"`
		Result struct {
			FilePath string `json:"file_path"`
		} `json:"result"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&gf)
	resp.Body.Close()
	if err != nil || !gf.OK || gf.Result.FilePath == "" {
		http.Error(w, "file unavailable", http.StatusBadGateway)
		return
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, api+"/file/bot"+m.Config.Token+"/"+gf.Result.FilePath, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		if err == nil {
			resp.Body.Close()
		}
		http.Error(w, "file unavailable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Disposition", "inline")
	io.Copy(w, io.LimitReader(resp.Body, 20<<20))
}
