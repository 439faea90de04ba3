// Package web is the read-only monitoring and evaluation dashboard for
// Dinas Sosial and the ministry, served by the bot itself: overview,
// regions with a tile map, tickets, staff workload, CSV downloads.
// Pages are rendered on the server with html/template and work without
// JavaScript; charts are inline SVG; the style sheet is embedded.
//
// Staff log in through the bot: /dasbor gives a one-time link (flows),
// whose page opens a session (a cookie with a random id, stored hashed,
// 12 hours, ended by "Keluar" or when the staff member is deactivated).
// Every page is scoped to the staff member's regions as in the bot, and
// the figures come from the report counters (store/tally.go).
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
)

//go:embed templates/*.html static/*
var assets embed.FS

// SessionTTL is how long a dashboard session lasts.
const SessionTTL = 12 * time.Hour

// Cookie names.
const (
	sessionCookie = "dasbor_sesi"
	langCookie    = "dasbor_bahasa"
)

// Config configures a Server.
type Config struct {
	DB      *store.DB
	Engine  *flows.Engine
	Catalog *locales.Catalog // default: locales.MustDefault()
	Now     func() time.Time // default: time.Now
	Log     *slog.Logger
	// Secure marks cookies Secure and sends HSTS: set it when the
	// dashboard is reached over https (a reverse proxy terminating TLS).
	Secure bool
	// Files, when set, serves a ticket's photos through the bot (the Bot
	// API's getFile): it writes the file with the id to w.
	Files func(w http.ResponseWriter, r *http.Request, fileID string)
	// TelegramLogin, when set, also offers the Telegram Login Widget on
	// the login page (telegram.go); off by default.
	TelegramLogin *TelegramLogin
}

// Server serves the dashboard.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template
}

// New returns a dashboard server.
func New(cfg Config) (*Server, error) {
	if cfg.Catalog == nil {
		cfg.Catalog = locales.MustDefault()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	for _, name := range []string{"message", "login", "overview", "regions", "tickets", "ticket", "staff"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		s.pages[name] = t
	}
	static, _ := fs.Sub(assets, "static")
	s.mux.Handle("GET /dasbor/static/", http.StripPrefix("/dasbor/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET "+flows.DashboardLoginPath, s.loginPage)
	s.mux.HandleFunc("POST "+flows.DashboardLoginPath, s.login)
	s.mux.HandleFunc("GET "+TelegramLoginPath, s.telegramLogin)
	s.mux.HandleFunc("POST /keluar", s.logout)
	s.mux.HandleFunc("GET /dasbor/{$}", s.auth(s.overview))
	s.mux.HandleFunc("GET /dasbor/wilayah", s.auth(s.regions))
	s.mux.HandleFunc("GET /dasbor/tiket", s.auth(s.tickets))
	s.mux.HandleFunc("GET /dasbor/tiket/{no}", s.auth(s.ticket))
	s.mux.HandleFunc("GET /dasbor/tiket/{no}/berkas/{i}", s.auth(s.file))
	s.mux.HandleFunc("GET /dasbor/petugas", s.auth(s.staff))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dasbor/", http.StatusSeeOther)
	})
	return s, nil
}

// ServeHTTP implements http.Handler, with the security headers on every
// answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if !strings.HasPrefix(r.URL.Path, "/dasbor/static/") {
		h.Set("Cache-Control", "no-store")
	}
	if s.cfg.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(w, r)
}

// viewer is the logged-in staff member of a request.
type viewer struct {
	Staff *bansosbot.Staff
	Lang  string
	// Areas are the outermost regions the staff member covers ("" for
	// admins: the nation).
	Areas []bansosbot.RegionCode
}

type handler func(w http.ResponseWriter, r *http.Request, v *viewer)

// auth resolves the session cookie to an active staff member; anything
// else is 403.
func (s *Server) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := s.lang(w, r, "")
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			s.message(w, r, lang, http.StatusForbidden, "login_needed")
			return
		}
		var v *viewer
		now := s.cfg.Now()
		err = s.cfg.DB.View(func(tx *store.Tx) error {
			sess, err := tx.WebSession(flows.TokenHash(c.Value))
			if err != nil || sess == nil || !now.Before(sess.Expires) {
				return err
			}
			st, err := tx.Staff(sess.UserID)
			if err != nil || st == nil || !st.Active {
				return err
			}
			profLang := ""
			if p, err := tx.Profile(st.UserID); err == nil && p != nil {
				profLang = p.Lang
			}
			v = &viewer{Staff: st, Lang: s.lang(w, r, profLang), Areas: areas(st)}
			return nil
		})
		if err != nil {
			s.fail(w, r, lang, err)
			return
		}
		if v == nil {
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
			s.message(w, r, lang, http.StatusForbidden, "login_needed")
			return
		}
		h(w, r, v)
	}
}

// areas are the outermost regions a staff member covers.
func areas(st *bansosbot.Staff) []bansosbot.RegionCode {
	if st.Role == bansosbot.RoleAdmin {
		return []bansosbot.RegionCode{""}
	}
	var out []bansosbot.RegionCode
	for _, r := range st.Regions {
		covered := false
		for _, o := range st.Regions {
			if o != r && o.Covers(r) {
				covered = true
			}
		}
		if !covered {
			out = append(out, r)
		}
	}
	return out
}

// lang picks the page language: ?lang= (remembered in a cookie), the
// cookie, the profile's language, Indonesian.
func (s *Server) lang(w http.ResponseWriter, r *http.Request, profile string) string {
	if l := r.URL.Query().Get("lang"); l == "id" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 86400, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "id" || c.Value == "en") {
		return c.Value
	}
	if profile != "" {
		return bansosbot.NormalizeLang(profile)
	}
	return "id"
}

// loginPage shows the button that uses a login link. The link is used
// only by the button's POST: a link preview fetching the URL must not use
// it up. With the Telegram Login Widget on, it shows Telegram's button too
// (a script and a frame of telegram.org, allowed on this page only).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(w, r, "")
	data := loginData{Token: r.URL.Query().Get("t")}
	if tl := s.cfg.TelegramLogin; tl != nil {
		scheme := "http"
		if s.cfg.Secure {
			scheme = "https"
		}
		data.Widget, data.AuthURL = tl.Bot, scheme+"://"+r.Host+TelegramLoginPath
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "+
			"script-src https://telegram.org; frame-src https://oauth.telegram.org; frame-ancestors 'none'; base-uri 'none'")
	}
	s.render(w, r, http.StatusOK, "login", &page{Lang: lang, Title: s.text(lang, "login_title"), Data: data})
}

// loginData is what the login page shows.
type loginData struct {
	Token           string // of the /dasbor link
	Widget, AuthURL string // the bot's username for Telegram's button, and where it returns
}

// login uses a login link: single use, unexpired, of an active staff
// member. Every attempt is audited.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(w, r, "")
	token := r.PostFormValue("t")
	now := s.cfg.Now()
	s.openSession(w, r, lang, func(tx *store.Tx) (userID int64, reason string, err error) {
		l, err := tx.UseWebLogin(flows.TokenHash(token))
		switch {
		case err != nil:
			return 0, "", err
		case token == "" || l == nil:
			return 0, "unknown", nil
		case l.Used:
			return l.UserID, "used", nil
		case !now.Before(l.Expires):
			return l.UserID, "expired", nil
		}
		return l.UserID, "", nil
	})
}

// openSession runs check in a transaction (the user logging in, or why
// not), refuses anyone but an active staff member, audits the attempt
// and opens a session; the answer is a redirect to the overview or 403.
func (s *Server) openSession(w http.ResponseWriter, r *http.Request, lang string, check func(tx *store.Tx) (int64, string, error)) {
	now := s.cfg.Now()
	var reason string
	var userID int64
	sid := flows.NewToken()
	err := s.cfg.DB.Update(func(tx *store.Tx) error {
		var err error
		if userID, reason, err = check(tx); err != nil {
			return err
		}
		if reason == "" {
			st, err := tx.Staff(userID)
			if err != nil {
				return err
			}
			if st == nil || !st.Active {
				reason = "not_staff"
			}
		}
		entry := &bansosbot.AuditEntry{At: now, Actor: userID, Role: "web", Action: "web_login", Allowed: reason == "", Reason: reason}
		if reason == "" && r.URL.Path == TelegramLoginPath {
			entry.Reason = "telegram"
		}
		if err := tx.AppendAudit(entry); err != nil {
			return err
		}
		if reason != "" {
			return nil
		}
		return tx.PutWebSession(flows.TokenHash(sid), store.WebSession{UserID: userID, Created: now, Expires: now.Add(SessionTTL)}, now)
	})
	if err != nil {
		s.fail(w, r, lang, err)
		return
	}
	if reason != "" {
		s.cfg.Log.Info("dashboard login refused", "user", userID, "reason", reason)
		s.message(w, r, lang, http.StatusForbidden, "login_"+reason)
		return
	}
	s.cfg.Log.Info("dashboard login", "user", userID)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/dasbor/", http.StatusSeeOther)
}

// logout ends the session (a same-site POST: the cookie is SameSite=Strict).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(w, r, "")
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			s.message(w, r, lang, http.StatusForbidden, "login_needed")
			return
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.DB.Update(func(tx *store.Tx) error { return tx.DeleteWebSession(flows.TokenHash(c.Value)) }); err != nil {
			s.fail(w, r, lang, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	s.message(w, r, lang, http.StatusOK, "logged_out")
}

// notFound answers 404 to a URL naming data outside the viewer's area,
// and audits it.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, v *viewer, ticketID uint64, reason string) {
	err := s.cfg.DB.Update(func(tx *store.Tx) error {
		return tx.AppendAudit(&bansosbot.AuditEntry{At: s.cfg.Now(), Actor: v.Staff.UserID, Role: string(v.Staff.Role),
			Action: "web_view", TicketID: ticketID, Reason: reason})
	})
	if err != nil {
		s.cfg.Log.Error("dashboard audit", "err", err)
	}
	s.message(w, r, v.Lang, http.StatusNotFound, "not_found")
}

var errBadRequest = errors.New("bad request")

func (s *Server) fail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	if errors.Is(err, errBadRequest) {
		s.message(w, r, lang, http.StatusBadRequest, "bad_request")
		return
	}
	s.cfg.Log.Error("dashboard", "path", r.URL.Path, "err", err)
	s.message(w, r, lang, http.StatusInternalServerError, "error")
}

func (s *Server) message(w http.ResponseWriter, r *http.Request, lang string, code int, key string) {
	s.render(w, r, code, "message", &page{Lang: lang, Title: s.text(lang, key+"_title"), Data: s.text(lang, key)})
}

func (s *Server) text(lang, key string) string {
	return s.cfg.Catalog.Text(lang, "dashboard."+key, nil)
}
