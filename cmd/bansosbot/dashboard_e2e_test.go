package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The dashboard in a real browser: Debian's chromium, headless, driven
// with chromedp, against the whole program (Main) and the fake Bot API.
// .ci/run installs chromium when it is missing.

const chromiumPath = "/usr/bin/chromium"

// dashboardFixture stores staff and tickets before the bot starts (the
// counters are built by the start-up migration): a supervisor of
// province 32 and a worker of 32.01; in 32.01.01 two tickets (one
// resolved within the SLA), in 32.01.02 a PUNGLI case, in 32.02.01 one,
// in 33.01.01 one.
func dashboardFixture(t *testing.T, cfg Config, now time.Time) map[string]bansosbot.TicketNo {
	t.Helper()
	if err := cfg.ensureSecret(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ecfg, err := NewMain(cfg, nil).engineConfig()
	if err != nil {
		t.Fatal(err)
	}
	engine := flows.NewEngine(ecfg)
	nos := map[string]bansosbot.TicketNo{}
	err = db.Update(func(tx *store.Tx) error {
		for _, s := range []*bansosbot.Staff{
			{UserID: 801, Name: "Sari Supervisor", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32"}, Active: true, CreatedAt: now},
			{UserID: 802, Name: "Wawan Pendamping", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01"}, Active: true, CreatedAt: now},
		} {
			if err := tx.PutStaff(s); err != nil {
				return err
			}
		}
		for i, a := range []struct {
			label    string
			region   bansosbot.RegionCode
			cat      string
			resolved bool
		}{
			{"a", "32.01.01.2001", "PAYMENT_NOT_RECEIVED", true},
			{"b", "32.01.01", "DATA_ERROR", false},
			{"pungli", "32.01.02", "PUNGLI", false},
			{"sukabumi", "32.02.01", "KKS_CARD", false},
			{"cilacap", "33.01.01", "OTHER", false},
		} {
			id, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			created := now.Add(-time.Duration(i+1) * time.Minute)
			tk := &bansosbot.Ticket{ID: id, No: bansosbot.NewTicketNo(id, cfg.key("ticket-number")), Region: a.region, Category: a.cat,
				Status: bansosbot.StatusNew, CreatedAt: created, Description: "Bantuan belum diterima bulan ini"}
			engine.Schedule(tk, created)
			if a.resolved {
				tk.Status, tk.FirstResponseAt, tk.ResolvedAt, tk.Assignee = bansosbot.StatusResolved, created.Add(10*time.Second), created.Add(20*time.Second), 802
			}
			if _, err := tx.AppendEvent(tk, bansosbot.Event{At: created, Role: "citizen", Kind: bansosbot.EventCreated, Text: tk.Description}); err != nil {
				return err
			}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			nos[a.label] = tk.No
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return nos
}

var linkPattern = regexp.MustCompile(`https?://[^\s<"]+/masuk\?t=[A-Za-z0-9_-]+`)

// dashboardLink asks the bot for a login link as the user.
func (e *e2e) dashboardLink(u telegramtest.User) string {
	e.t.Helper()
	e.fake.SendCommand(u, "/dasbor") // staff need no onboarding
	msgs := messages(e.waitBot(u.ID, 1))
	link := linkPattern.FindString(msgs[len(msgs)-1].Text)
	if link == "" {
		e.t.Fatalf("answer to /dasbor: %s; want a login link", msgs[len(msgs)-1])
	}
	return link
}

func TestE2EDashboardInBrowser(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: .ci/run installs chromium", chromiumPath)
		}
		t.Skipf("no %s (apt-get install -y chromium)", chromiumPath)
	}
	e := newE2E(t)
	cfg := e.config()
	cfg.Web = freePort(t)
	now := time.Now()
	nos := dashboardFixture(t, cfg, now)
	m := e.start(cfg)
	defer m.Close()

	shots := t.ArtifactDir()
	downloads := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	// Console errors, exceptions and error entries of the browser log
	// (a CSP violation is one) fail the test.
	var mu sync.Mutex
	var consoleErrors []string
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Source == "network" && strings.Contains(m.Text, "404") {
				continue // the forged URLs below answer 404 on purpose
			}
			if m.Type == chromedp.ConsoleException || m.Type == "error" {
				mu.Lock()
				consoleErrors = append(consoleErrors, m.String())
				mu.Unlock()
			}
		}
	}()
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	status := func(what, url string) int64 {
		t.Helper()
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return resp.Status
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// The supervisor of province 32: /dasbor in the chat, open the link.
	link := e.dashboardLink(telegramtest.User{ID: 801, FirstName: "Sari", LanguageCode: "id"})
	if !strings.HasPrefix(link, "http://"+cfg.Web+"/masuk?t=") {
		t.Fatalf("link %s; want one to %s", link, cfg.Web)
	}
	run("open the link", chromedp.Navigate(link), chromedp.WaitVisible(css("#login")), shot("1-login"))
	run("log in", chromedp.Click(css("#login")), chromedp.WaitVisible(css("#received")))
	today := flows.DateOf(now, bansosbot.RegionCode("32").TimeZone())
	base := "http://" + cfg.Web
	run("overview of two days", chromedp.Navigate(fmt.Sprintf("%s/dasbor/?period=custom&from=%s&to=%s", base, today.AddDays(-1), today)),
		chromedp.WaitVisible(css("#received")), shot("2-overview"))
	// The fixture implies: 4 tickets of province 32 (the PUNGLI case
	// included for a supervisor), 1 resolved, 3 open, 100% on time.
	for sel, want := range map[string]string{"#area": "Jawa Barat", "#received": "4", "#resolved": "1", "#open": "3", "#resolution-on-time": "100%"} {
		if got := text(sel); !strings.Contains(got, want) {
			t.Errorf("overview %s = %q; want %q", sel, got, want)
		}
	}
	// Regions: drill down to the kabupaten 32.01.
	run("regions", chromedp.Click(css(`nav a[href^="/dasbor/wilayah"]`)), chromedp.WaitVisible(css("#regions")), shot("3-regions"))
	run("drill down", chromedp.Click(css(`#regions tr[data-code="32.01"] a`)),
		chromedp.WaitVisible(css(`#regions tr[data-code="32.01.01"]`)), shot("4-kabupaten"))
	if got := text(`#regions tr[data-code="32.01.01"] td:nth-child(2)`); got != "2" {
		t.Errorf("kecamatan 32.01.01 received %q; want 2", got)
	}
	// Tickets of 32.01, then one ticket.
	run("tickets", chromedp.Click(css(`nav a[href^="/dasbor/tiket"]`)), chromedp.WaitVisible(css("#tickets")), shot("5-tickets"))
	run("a ticket", chromedp.Click(css(`#tickets a[href="/dasbor/tiket/`+string(nos["a"])+`"]`)),
		chromedp.WaitVisible(css("#ticket-no")), shot("6-ticket"))
	if got := text("#ticket-no"); got != string(nos["a"]) {
		t.Errorf("ticket page shows %q; want %s", got, nos["a"])
	}
	// CSV of the tickets list.
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatalf("downloads: %v", err)
	}
	run("back to the list", chromedp.Navigate(base+"/dasbor/tiket?r=32.01"), chromedp.WaitVisible(css("#csv")), chromedp.Click(css("#csv")))
	var csvData []byte
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && csvData == nil; time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(downloads, "tiket.csv")); err == nil && len(b) > 0 {
			csvData = b
		}
	}
	if !strings.Contains(string(csvData), string(nos["a"])) || !strings.HasPrefix(string(csvData), "ticket,category") {
		t.Errorf("downloaded CSV: %q; want the tickets of 32.01", csvData)
	}
	// The staff page: the worker's workload (the resolved ticket is his).
	run("staff", chromedp.Click(css(`nav a[href^="/dasbor/petugas"]`)), chromedp.WaitVisible(css("#staff")), shot("7-staff"))
	if got := text("#staff"); !strings.Contains(got, "Wawan Pendamping") {
		t.Errorf("staff page: %q; want the worker of 32.01", got)
	}
	run("english", chromedp.Navigate(base+"/dasbor/?lang=en"), chromedp.WaitVisible(css("#received")), shot("8-overview-en"))
	if got := text("header form.logout button"); got != "Log out" {
		t.Errorf("English page's logout button %q", got)
	}

	// The worker of 32.01 in a fresh session: a 33.x URL is 404.
	link = e.dashboardLink(telegramtest.User{ID: 802, FirstName: "Wawan", LanguageCode: "id"})
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatalf("clear cookies: %v", err)
	}
	run("worker login", chromedp.Navigate(link), chromedp.WaitVisible(css("#login")),
		chromedp.Click(css("#login")), chromedp.WaitVisible(css("#received")))
	if got := text("#received"); got != "2" {
		t.Errorf("worker's overview: %q received; want 2 (the PUNGLI case hidden)", got)
	}
	if got := status("forged region", base+"/dasbor/wilayah?r=33.01"); got != 404 {
		t.Errorf("worker of 32.01 opening the regions of 33.01: status %d; want 404", got)
	}
	run("forged page", chromedp.WaitVisible(css("#message")), shot("9-forged"))
	if got := status("forged ticket", base+"/dasbor/tiket/"+string(nos["cilacap"])); got != 404 {
		t.Errorf("worker of 32.01 opening a 33.01 ticket: status %d; want 404", got)
	}
	mu.Lock()
	errs := slices.Clone(consoleErrors)
	mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	t.Logf("screenshots in %s", shots)
}
