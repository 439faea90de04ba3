package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/web"
)

// Users of the fixture.
const (
	admin      = 1
	supervisor = 2 // of province 32
	worker     = 3 // of kabupaten 32.01
	inactive   = 4 // a former worker of 32.01
	citizen    = 5
	worker33   = 6 // of 33.01, named like a formula
)

type fixture struct {
	t       *testing.T
	db      *store.DB
	engine  *flows.Engine
	srv     *httptest.Server
	now     time.Time
	tickets map[string]bansosbot.TicketNo // by label
}

// newFixture: a store with staff of every role and tickets in 32.01,
// 32.02 and 33.01 (one PUNGLI in 32.01), counters kept, and the dashboard
// served over httptest.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC), tickets: map[string]bansosbot.TicketNo{}}
	db, err := store.Open(filepath.Join(t.TempDir(), "web.db"), store.Options{NoSync: true, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.engine = flows.NewEngine(flows.Config{Now: func() time.Time { return f.now }, TicketKey: []byte("k"), DashboardURL: "http://dash.example"})
	db.SetTallier(func(tx *store.Tx, tk *bansosbot.Ticket) (*bansosbot.TicketTally, error) {
		return f.engine.Tally(tx, tk)
	})
	err = db.Update(func(tx *store.Tx) error {
		for _, s := range []*bansosbot.Staff{
			{UserID: admin, Name: "Admin", Role: bansosbot.RoleAdmin, Active: true},
			{UserID: supervisor, Name: "Sari", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32"}, Active: true},
			{UserID: worker, Name: "Wawan", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01"}, Active: true},
			{UserID: inactive, Name: "Lama", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01"}, Active: false},
			{UserID: worker33, Name: "=HYPERLINK(\"http://evil\")", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"33.01"}, Active: true},
		} {
			if err := tx.PutStaff(s); err != nil {
				return err
			}
		}
		add := func(label string, region bansosbot.RegionCode, cat string, assignee int64, resolved bool) error {
			id, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			created := f.now.Add(-time.Duration(id) * 24 * time.Hour)
			tk := &bansosbot.Ticket{ID: id, No: bansosbot.NewTicketNo(id, []byte("k")), Region: region, Category: cat,
				Status: bansosbot.StatusInProgress, CreatedAt: created, Assignee: assignee, CitizenID: citizen,
				Description: "Rumah saya di RT 3, hubungi 081234567890 atau NIK 3201011203850001", Phone: "+6281234567890",
				Attachments: []bansosbot.Attachment{{FileID: "photo-" + label}}}
			c, _ := f.engine.Config().Categories.Get(cat)
			tk.HideReporter = c.HideReporter
			f.engine.Schedule(tk, created)
			tk.FirstResponseAt = created.Add(4 * time.Hour)
			if resolved {
				tk.Status, tk.ResolvedAt = bansosbot.StatusResolved, created.Add(48*time.Hour)
			}
			if _, err := tx.AppendEvent(tk, bansosbot.Event{At: created, Role: "citizen", Kind: bansosbot.EventCreated, Text: tk.Description}); err != nil {
				return err
			}
			f.tickets[label] = tk.No
			return tx.PutTicket(tk)
		}
		for _, a := range []struct {
			label    string
			region   bansosbot.RegionCode
			cat      string
			assignee int64
			resolved bool
		}{
			{"bogor1", "32.01.01.2001", "PAYMENT_NOT_RECEIVED", worker, true},
			{"bogor2", "32.01.02", "DATA_ERROR", worker, false},
			{"pungli", "32.01.01", "PUNGLI", supervisor, false},
			{"sukabumi", "32.02.01", "KKS_CARD", 0, true},
			{"cilacap", "33.01.01", "OTHER", worker33, false},
		} {
			if err := add(a.label, a.region, a.cat, a.assignee, a.resolved); err != nil {
				return err
			}
		}
		return tx.PutProfile(&bansosbot.Profile{UserID: worker, Lang: "en"})
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{DB: db, Engine: f.engine, Now: func() time.Time { return f.now },
		Files: func(w http.ResponseWriter, r *http.Request, fileID string) { io.WriteString(w, "file "+fileID) }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(srv)
	t.Cleanup(f.srv.Close)
	return f
}

// link makes a login link for the user as /dasbor does.
func (f *fixture) link(userID int64) string {
	f.t.Helper()
	token := flows.NewToken()
	err := f.db.Update(func(tx *store.Tx) error {
		return tx.PutWebLogin(flows.TokenHash(token), userID, f.now.Add(flows.DashboardLinkTTL), f.now)
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return token
}

// client is a browser: it keeps cookies and does not follow redirects.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) login(c *http.Client, token string) *http.Response {
	f.t.Helper()
	resp, err := c.PostForm(f.srv.URL+flows.DashboardLoginPath, url.Values{"t": {token}})
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// as logs a new browser in as the user.
func (f *fixture) as(userID int64) *http.Client {
	f.t.Helper()
	c := f.client()
	if resp := f.login(c, f.link(userID)); resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("login of %d: %s; want 303", userID, resp.Status)
	}
	return c
}

func (f *fixture) get(c *http.Client, path string) (int, string) {
	f.t.Helper()
	resp, err := c.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) audits(action string) []bansosbot.AuditEntry {
	f.t.Helper()
	var out []bansosbot.AuditEntry
	err := f.db.View(func(tx *store.Tx) error {
		return tx.AuditLog(0, func(e bansosbot.AuditEntry) bool {
			if e.Action == action {
				out = append(out, e)
			}
			return true
		})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func TestLoginLinkIsSingleUse(t *testing.T) {
	f := newFixture(t)
	token := f.link(worker)
	c := f.client()
	// The link's page only shows a button: fetching it (a link preview)
	// does not use it.
	if code, body := f.get(c, flows.DashboardLoginPath+"?t="+token); code != 200 || !strings.Contains(body, `name="t" value="`+token+`"`) {
		t.Fatalf("login page: %d\n%s", code, body)
	}
	if resp := f.login(c, token); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %s; want 303", resp.Status)
	}
	if code, _ := f.get(c, "/dasbor/"); code != 200 {
		t.Fatalf("overview after login: %d; want 200", code)
	}
	other := f.client()
	if resp := f.login(other, token); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second use: %s; want 403", resp.Status)
	}
	if code, _ := f.get(other, "/dasbor/"); code != http.StatusForbidden {
		t.Fatalf("overview without a session: %d; want 403", code)
	}
	logins := f.audits("web_login")
	if len(logins) != 2 || !logins[0].Allowed || logins[1].Allowed || logins[1].Reason != "used" || logins[1].Actor != worker {
		t.Fatalf("audited logins: %+v; want one allowed, one refused as used", logins)
	}
}

func TestLoginLinkExpires(t *testing.T) {
	f := newFixture(t)
	token := f.link(worker)
	f.now = f.now.Add(flows.DashboardLinkTTL + time.Second)
	if resp := f.login(f.client(), token); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("expired link: %s; want 403", resp.Status)
	}
	if l := f.audits("web_login"); len(l) != 1 || l[0].Reason != "expired" {
		t.Fatalf("audit: %+v; want expired", l)
	}
}

func TestSessionEnds(t *testing.T) {
	f := newFixture(t)
	c := f.as(worker)
	// Deactivation ends it at once.
	err := f.db.Update(func(tx *store.Tx) error {
		s, err := tx.Staff(worker)
		if err != nil {
			return err
		}
		s.Active = false
		return tx.PutStaff(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := f.get(c, "/dasbor/"); code != http.StatusForbidden {
		t.Fatalf("deactivated staff: %d; want 403", code)
	}
	// After 12 hours.
	c = f.as(supervisor)
	f.now = f.now.Add(web.SessionTTL)
	if code, _ := f.get(c, "/dasbor/"); code != http.StatusForbidden {
		t.Fatalf("12 hours later: %d; want 403", code)
	}
	// Logging out.
	f.now = f.now.Add(-web.SessionTTL)
	c = f.as(admin)
	resp, err := c.PostForm(f.srv.URL+"/keluar", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := f.get(c, "/dasbor/"); code != http.StatusForbidden {
		t.Fatalf("after logging out: %d; want 403", code)
	}
	// A deactivated or unknown user, or a citizen, cannot log in.
	for _, id := range []int64{inactive, citizen, 999} {
		if resp := f.login(f.client(), f.link(id)); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("login of %d: %s; want 403", id, resp.Status)
		}
	}
}

func TestForgedCookie(t *testing.T) {
	f := newFixture(t)
	f.as(worker)
	c := f.client()
	u, _ := url.Parse(f.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "dasbor_sesi", Value: flows.NewToken()}})
	if code, _ := f.get(c, "/dasbor/"); code != http.StatusForbidden {
		t.Fatalf("forged cookie: %d; want 403", code)
	}
}

func TestRegionScoping(t *testing.T) {
	f := newFixture(t)
	w := f.as(worker)
	// The worker's overview: 32.01's tickets without the PUNGLI one.
	code, body := f.get(w, "/dasbor/")
	if code != 200 || !strings.Contains(body, `id="received">2<`) {
		t.Fatalf("worker overview: %d; want 2 received\n%s", code, body)
	}
	for _, path := range []string{"/dasbor/?r=33", "/dasbor/wilayah?r=33.01", "/dasbor/tiket?r=32.02", "/dasbor/?r=", "/dasbor/tiket/" + string(f.tickets["cilacap"]),
		"/dasbor/tiket/" + string(f.tickets["sukabumi"]), "/dasbor/tiket/" + string(f.tickets["pungli"]), "/dasbor/?r=bogus"} {
		if code, _ := f.get(w, path); code != http.StatusNotFound {
			t.Errorf("worker of 32.01 GET %s: %d; want 404", path, code)
		}
	}
	if n := len(f.audits("web_view")); n != 8 {
		t.Errorf("%d forged URLs audited; want 8", n)
	}
	if code, body := f.get(w, "/dasbor/tiket/"+string(f.tickets["bogor1"])); code != 200 || strings.Contains(body, "3201011203850001") || strings.Contains(body, "081234567890") {
		t.Fatalf("worker's own ticket: %d, or a NIK or phone shown\n%s", code, body)
	}
	// The supervisor of 32 sees 32.02 and the PUNGLI case, not 33.
	s := f.as(supervisor)
	if code, body := f.get(s, "/dasbor/"); code != 200 || !strings.Contains(body, `id="received">4<`) {
		t.Fatalf("supervisor overview: %d; want 4 received\n%s", code, body)
	}
	for path, want := range map[string]int{"/dasbor/tiket/" + string(f.tickets["sukabumi"]): 200, "/dasbor/tiket/" + string(f.tickets["pungli"]): 200,
		"/dasbor/tiket/" + string(f.tickets["cilacap"]): 404, "/dasbor/wilayah?r=32": 200, "/dasbor/?r=33": 404} {
		if code, _ := f.get(s, path); code != want {
			t.Errorf("supervisor GET %s: %d; want %d", path, code, want)
		}
	}
	// The admin: national.
	a := f.as(admin)
	if code, body := f.get(a, "/dasbor/"); code != 200 || !strings.Contains(body, `id="received">5<`) {
		t.Fatalf("admin overview: %d; want 5 received\n%s", code, body)
	}
	if code, body := f.get(a, "/dasbor/wilayah"); code != 200 || !strings.Contains(body, `data-code="33"`) || !strings.Contains(body, `data-code="32"`) {
		t.Fatalf("admin regions: %d\n%s", code, body)
	}
}

func TestPungliVisibility(t *testing.T) {
	f := newFixture(t)
	pungli := string(f.tickets["pungli"])
	if _, body := f.get(f.as(worker), "/dasbor/tiket"); strings.Contains(body, pungli) || !strings.Contains(body, string(f.tickets["bogor1"])) {
		t.Fatalf("worker's ticket list shows the PUNGLI case or misses their own\n%s", body)
	}
	if _, body := f.get(f.as(worker), "/dasbor/tiket?format=csv"); strings.Contains(body, pungli) {
		t.Fatalf("worker's CSV shows the PUNGLI case\n%s", body)
	}
	if _, body := f.get(f.as(supervisor), "/dasbor/tiket"); !strings.Contains(body, pungli) {
		t.Fatalf("supervisor's list misses the PUNGLI case\n%s", body)
	}
	// The supervisor handling it sees the case, not who reported it: no
	// NIK, phone or account of the citizen on its page or in its CSV.
	for _, path := range []string{"/dasbor/tiket/" + pungli, "/dasbor/tiket/" + pungli + "?format=csv"} {
		code, body := f.get(f.as(supervisor), path)
		if code != 200 || !strings.Contains(body, "RT 3") {
			t.Fatalf("supervisor GET %s: %d; want the case\n%s", path, code, body)
		}
		for _, secret := range []string{"3201011203850001", "081234567890", "6281234567890", "citizen_id", "Pelapor", "Reporter"} {
			if strings.Contains(body, secret) {
				t.Errorf("supervisor GET %s shows %q", path, secret)
			}
		}
	}
	if code, _ := f.get(f.as(worker), "/dasbor/petugas"); code != http.StatusForbidden {
		t.Fatalf("worker on the staff page: %d; want 403", code)
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(f.as(admin), "/dasbor/petugas?format=csv")
	if code != 200 || !strings.Contains(body, `"'=HYPERLINK(""http://evil"")"`) {
		t.Fatalf("staff CSV: %d; want the formula defused\n%s", code, body)
	}
	// A citizen's text in a ticket's history: the history CSV defuses it.
	err := f.db.Update(func(tx *store.Tx) error {
		tk, err := tx.TicketByNo(f.tickets["bogor1"])
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(tk, bansosbot.Event{At: f.now, Role: "citizen", Kind: bansosbot.EventMessage, Text: `=HYPERLINK("http://evil","klik")`}); err != nil {
			return err
		}
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	code, body = f.get(f.as(admin), "/dasbor/tiket/"+string(f.tickets["bogor1"])+"?format=csv")
	if code != 200 || !strings.Contains(body, `"'=HYPERLINK(""http://evil"",""klik"")"`) || strings.Contains(body, `,"=HYPERLINK`) {
		t.Fatalf("history CSV: %d; want the citizen's formula defused\n%s", code, body)
	}
	for _, path := range []string{"/dasbor/?format=csv", "/dasbor/wilayah?format=csv", "/dasbor/tiket?format=csv",
		"/dasbor/tiket/" + string(f.tickets["bogor1"]) + "?format=csv"} {
		resp, err := f.as(admin).Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("%s: %s %s; want a CSV", path, resp.Status, ct)
		}
	}
}

func TestEveryPageInBothLanguages(t *testing.T) {
	f := newFixture(t)
	c := f.as(admin)
	pages := []string{"/dasbor/", "/dasbor/?period=week", "/dasbor/?period=custom&from=2026-10-01&to=2026-11-19", "/dasbor/wilayah",
		"/dasbor/wilayah?r=32", "/dasbor/wilayah?r=32.01", "/dasbor/wilayah?r=32.01.01", "/dasbor/tiket", "/dasbor/tiket?overdue=1&status=in_progress",
		"/dasbor/tiket/" + string(f.tickets["bogor1"]), "/dasbor/petugas"}
	for _, lang := range []struct{ code, word string }{{"id", "Keluar"}, {"en", "Log out"}} {
		for _, p := range pages {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			code, body := f.get(c, p+sep+"lang="+lang.code)
			if code != 200 || !strings.Contains(body, lang.word) || strings.Contains(body, "[dashboard.") || strings.Contains(body, "[status.") {
				t.Errorf("%s in %s: %d, or a missing text\n%s", p, lang.code, code, body)
			}
		}
	}
	// The worker's profile language (en) is the default.
	if _, body := f.get(f.as(worker), "/dasbor/"); !strings.Contains(body, "Log out") {
		t.Errorf("worker with an English profile gets another language")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	resp, err := f.as(worker).Get(f.srv.URL + "/dasbor/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{"Content-Security-Policy": "frame-ancestors 'none'", "Referrer-Policy": "no-referrer",
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s: %q; want %q", h, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP allows scripts: %q", csp)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS over plain http")
	}
	c := f.client()
	token := f.link(worker)
	resp, err = c.PostForm(f.srv.URL+flows.DashboardLoginPath, url.Values{"t": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Cookies()
	if len(ck) == 0 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie: %+v; want HttpOnly, SameSite=Strict", ck)
	}
}

// TestDashboardCommand: /dasbor gives staff a working one-time link and
// refuses citizens.
func TestDashboardCommand(t *testing.T) {
	f := newFixture(t)
	run := func(user int64) []flows.Reply {
		var replies []flows.Reply
		err := f.db.Update(func(tx *store.Tx) error {
			o, err := f.engine.Handle(context.Background(), tx, flows.Input{UserID: user, ChatID: user, ChatType: "private", Text: "/dasbor", Command: "/dasbor"})
			replies = o.Replies
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return replies
	}
	var link string
	for _, r := range run(worker) {
		for _, m := range r.Text {
			if m.Key == "dashboard.link" {
				link, _ = m.Args["URL"].(string)
			}
		}
	}
	if !strings.HasPrefix(link, "http://dash.example/masuk?t=") {
		t.Fatalf("worker's /dasbor: no link (%q)", link)
	}
	token := strings.TrimPrefix(link, "http://dash.example/masuk?t=")
	if resp := f.login(f.client(), token); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the link: %s; want 303", resp.Status)
	}
	for _, r := range run(citizen) {
		for _, m := range r.Text {
			if m.Key == "dashboard.link" {
				t.Fatalf("a citizen got a dashboard link")
			}
		}
	}
}

// TestAttachmentsThroughTheProxy: a photo of a ticket in the viewer's area
// comes through the file proxy; one of another region is 404.
func TestAttachmentsThroughTheProxy(t *testing.T) {
	f := newFixture(t)
	w := f.as(worker)
	if code, body := f.get(w, "/dasbor/tiket/"+string(f.tickets["bogor1"])+"/berkas/1"); code != 200 || body != "file photo-bogor1" {
		t.Fatalf("own ticket's photo: %d %q", code, body)
	}
	for _, path := range []string{"/dasbor/tiket/" + string(f.tickets["cilacap"]) + "/berkas/1", "/dasbor/tiket/" + string(f.tickets["pungli"]) + "/berkas/1",
		"/dasbor/tiket/" + string(f.tickets["bogor1"]) + "/berkas/2"} {
		if code, body := f.get(w, path); code != http.StatusNotFound || strings.Contains(body, "file photo") {
			t.Errorf("worker of 32.01 GET %s: %d; want 404", path, code)
		}
	}
}

// widgetLogin signs a Telegram Login Widget answer for the user as
// Telegram does: an HMAC-SHA256 of the sorted fields keyed by the SHA-256
// of the bot token.
func widgetLogin(token string, userID int64, authDate time.Time, extra ...string) url.Values {
	q := url.Values{"id": {strconv.FormatInt(userID, 10)}, "first_name": {"Wawan"}, "username": {"wawan_pendamping"},
		"auth_date": {strconv.FormatInt(authDate.Unix(), 10)}}
	var fields []string
	for k, v := range q {
		fields = append(fields, k+"="+v[0])
	}
	slices.Sort(fields)
	key := sha256.Sum256([]byte(token))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(strings.Join(fields, "\n")))
	q.Set("hash", hex.EncodeToString(mac.Sum(nil)))
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1]) // changed after signing
	}
	return q
}

// TestTelegramLoginWidget: off by default; when on, a signed answer of an
// active staff member not older than a day opens a session; a forged or
// changed hash, an old auth_date, another bot's token or a citizen get
// 403, all audited; the login page shows Telegram's button and allows
// telegram.org's script there only.
func TestTelegramLoginWidget(t *testing.T) {
	f := newFixture(t)
	const token = "123456:bot-token"
	if code, _ := f.get(f.client(), web.TelegramLoginPath+"?"+widgetLogin(token, worker, f.now).Encode()); code != http.StatusNotFound {
		t.Fatalf("widget login while off: %d; want 404", code)
	}
	if _, body := f.get(f.client(), flows.DashboardLoginPath); strings.Contains(body, "telegram.org") {
		t.Fatalf("login page shows the widget while it is off\n%s", body)
	}
	srv, err := web.New(web.Config{DB: f.db, Engine: f.engine, Now: func() time.Time { return f.now },
		TelegramLogin: &web.TelegramLogin{Bot: "bansos_bot", Token: token}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(srv)
	t.Cleanup(f.srv.Close)

	resp, err := f.client().Get(f.srv.URL + flows.DashboardLoginPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `data-telegram-login="bansos_bot"`) || !strings.Contains(string(body), `data-auth-url="`+f.srv.URL+web.TelegramLoginPath+`"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src https://telegram.org") {
		t.Fatalf("login page with the widget: CSP %q\n%s", resp.Header.Get("Content-Security-Policy"), body)
	}
	resp, err = f.client().Get(f.srv.URL + "/dasbor/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Fatalf("other pages allow scripts: %q", csp)
	}

	c := f.client()
	resp, err = c.Get(f.srv.URL + web.TelegramLoginPath + "?" + widgetLogin(token, worker, f.now.Add(-23*time.Hour)).Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed widget login of a worker: %s; want 303", resp.Status)
	}
	if code, body := f.get(c, "/dasbor/"); code != 200 || !strings.Contains(body, `id="received">2<`) {
		t.Fatalf("overview after the widget login: %d\n%s", code, body)
	}
	for _, bad := range []struct {
		name   string
		q      url.Values
		reason string
	}{
		{"changed name", widgetLogin(token, worker, f.now, "first_name", "Admin"), "telegram_hash"},
		{"another user's id", widgetLogin(token, worker, f.now, "id", strconv.Itoa(admin)), "telegram_hash"},
		{"another bot's token", widgetLogin("654321:other-bot", admin, f.now), "telegram_hash"},
		{"no hash", widgetLogin(token, admin, f.now, "hash", ""), "telegram_hash"},
		{"a day and a minute old", widgetLogin(token, worker, f.now.Add(-web.TelegramAuthMaxAge-time.Minute)), "telegram_expired"},
		{"from the future", widgetLogin(token, worker, f.now.Add(time.Hour)), "telegram_expired"},
		{"a citizen", widgetLogin(token, citizen, f.now), "not_staff"},
		{"deactivated staff", widgetLogin(token, inactive, f.now), "not_staff"},
	} {
		c := f.client()
		code, _ := f.get(c, web.TelegramLoginPath+"?"+bad.q.Encode())
		if code != http.StatusForbidden {
			t.Errorf("%s: %d; want 403", bad.name, code)
		}
		if code, _ := f.get(c, "/dasbor/"); code != http.StatusForbidden {
			t.Errorf("%s: the overview answers %d; want 403", bad.name, code)
		}
		logins := f.audits("web_login")
		if last := logins[len(logins)-1]; last.Allowed || last.Reason != bad.reason {
			t.Errorf("%s: audited %+v; want refused as %s", bad.name, last, bad.reason)
		}
	}
	if logins := f.audits("web_login"); !logins[0].Allowed || logins[0].Reason != "telegram" || logins[0].Actor != worker {
		t.Errorf("the widget login audited as %+v", logins[0])
	}
}
