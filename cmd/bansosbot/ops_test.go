package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	bolt "go.etcd.io/bbolt"
)

// ---- helpers ----

// fixtureTicket is one ticket of flows/testdata/ops_fixture.json.
type fixtureTicket struct {
	Ticket bansosbot.Ticket  `json:"ticket"`
	Events []bansosbot.Event `json:"events"`
}

// seedFixture stores the report fixture of the flows tests (eight tickets
// with their histories; see flows.TestReportNovember) into the data
// directory's database, numbered under cfg's secret as the bot numbers.
func seedFixture(t *testing.T, cfg Config) []fixtureTicket {
	t.Helper()
	raw, err := os.ReadFile("../../flows/testdata/ops_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx []fixtureTicket
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *store.Tx) error {
		for i := range fx {
			tk := &fx[i].Ticket
			if _, err := tx.NextTicketSeq(); err != nil {
				return err
			}
			tk.No = bansosbot.NewTicketNo(tk.ID, cfg.key("ticket-number"))
			tk.Events = len(fx[i].Events)
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			for _, ev := range fx[i].Events {
				ev.TicketID = tk.ID
				if err := tx.PutEvent(ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// secretEnv is an environment with only the configuration's secret.
func secretEnv(cfg Config) func(string) string {
	return func(k string) string {
		if k == "BANSOSBOT_SECRET" {
			return cfg.Secret
		}
		return ""
	}
}

// cli runs the command line and returns its output.
func cli(t *testing.T, env func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, errOut syncWriter
	var o, e strings.Builder
	out.w, errOut.w = &o, &e
	err := run(context.Background(), args, env, strings.NewReader(""), &out, &errOut)
	return o.String() + e.String(), err
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitStatus polls url until it answers code.
func waitStatus(t *testing.T, url string, code int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, body := httpGet(t, url)
		if got == code {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d (%s) for %v; want %d", url, got, body, within, code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type sample struct {
	labels map[string]string
	value  float64
}

// scrapeMetrics reads /metrics in the text format.
func scrapeMetrics(t *testing.T, addr string) map[string][]sample {
	t.Helper()
	code, body := httpGet(t, "http://"+addr+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	out := map[string][]sample{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				s.value = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.value = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				s.value = float64(m.GetHistogram().GetSampleCount())
			}
			out[name] = append(out[name], s)
		}
	}
	return out
}

// sum adds the samples of a metric whose labels include match.
func sum(ms map[string][]sample, name string, match ...string) float64 {
	total := 0.0
	for _, s := range ms[name] {
		ok := true
		for i := 0; i+1 < len(match); i += 2 {
			if s.labels[match[i]] != match[i+1] {
				ok = false
			}
		}
		if ok {
			total += s.value
		}
	}
	return total
}

// ---- metrics ----

// TestE2EMetricsAfterScenario drives the bot through a scenario (a
// status check answered from the registry, a flood, a 429 and a blocked
// chat from Telegram, an escalation) and scrapes /metrics: the counters
// match what happened, and no label value carries a NIK, a name, a user
// id or message text.
func TestE2EMetricsAfterScenario(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	cfg.HTTP = freePort(t)
	m := e.start(cfg)
	defer m.Close()
	env := secretEnv(cfg)
	ctx := context.Background()

	csvPath := filepath.Join(t.TempDir(), "reg.csv")
	out, err := cli(t, env, "-data", e.dir, "registry", "gen", "-n", "200", "-out", csvPath)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(out[strings.Index(out, "NIK "):])
	nik, name := fields[1], fields[3]+" "+fields[4]
	if _, err := cli(t, env, "-data", e.dir, "registry", "import", "-date", "2026-10-01", csvPath); err != nil {
		t.Fatal(err)
	}

	updates := 0
	citizen := telegramtest.User{ID: 7101, FirstName: "Wawan", Username: "wawan_sby", LanguageCode: "id"}
	blocked := telegramtest.User{ID: 7102, FirstName: "Ratna", Username: "ratna_k", LanguageCode: "id"}
	flooder := telegramtest.User{ID: 7103, FirstName: "Joko", Username: "joko_flood", LanguageCode: "id"}
	e.onboard(citizen)
	updates += 2 // /start, agree
	seen := map[int64]int{citizen.ID: len(e.fake.BotMessages(citizen.ID))}
	e.fake.SendCommand(citizen, "/cek")
	e.expect(seen, citizen.ID, "NIK")
	e.fake.SendText(citizen, nik)
	e.expect(seen, citizen.ID, "nama lengkap")
	e.fake.SendText(citizen, strings.ToLower(name))
	e.expect(seen, citizen.ID, "Hasil cek status bansos")
	updates += 3

	// Telegram refuses one send with 429, and one chat has blocked the bot.
	e.fake.FailNext("sendMessage", 1, telegramtest.TooManyRequests(1))
	e.fake.SendCommand(citizen, "/tidakada")
	e.expect(seen, citizen.ID, "/tidakada")
	e.fake.FailChat(blocked.ID, telegramtest.Forbidden())
	e.fake.SendText(blocked, "Halo, saya Ratna dari Bogor")
	updates += 2

	// 32 messages in a minute: the per-user limit (30) refuses two.
	for i := 0; i < 32; i++ {
		e.fake.SendCommand(flooder, fmt.Sprintf("/banjir%d", i))
	}
	updates += 32

	// An overdue ticket and a supervisor: the escalation job fires steps.
	var tk *bansosbot.Ticket
	err = m.DB.Update(func(tx *store.Tx) error {
		if err := tx.PutStaff(&bansosbot.Staff{UserID: 7104, Name: "Dewi Lestari", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32.01"}, Active: true}); err != nil {
			return err
		}
		seq, err := tx.NextTicketSeq()
		if err != nil {
			return err
		}
		now := time.Now()
		tk = &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, cfg.key("ticket-number")), Category: "OTHER", Region: "32.01.01",
			Description: "Rumah Bu Wati di Gang Mawar belum didata", Status: bansosbot.StatusNew, CreatedAt: now.Add(-30 * 24 * time.Hour),
			DueResponse: now.Add(-20 * 24 * time.Hour), DueResolve: now.Add(30 * 24 * time.Hour), NextCheck: now.Add(-time.Hour)}
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.escalate(ctx); err != nil {
		t.Fatal(err)
	}

	// Everything handled and sent (or parked).
	addr := cfg.HTTP
	deadline := time.Now().Add(30 * time.Second)
	var ms map[string][]sample
	for {
		ms = scrapeMetrics(t, addr)
		if int(sum(ms, "bansosbot_updates_handled_total")) == updates && sum(ms, "bansosbot_outbox_depth") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %v of %d updates, outbox %v", sum(ms, "bansosbot_updates_handled_total"), updates, sum(ms, "bansosbot_outbox_depth"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := m.Server.Flush(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	ms = scrapeMetrics(t, addr)
	stats := e.fake.Stats()
	var ok, tooMany, forbidden int
	for _, method := range []string{"sendMessage", "editMessageText", "answerCallbackQuery", "deleteMessage", "sendPhoto", "sendLocation", "editMessageReplyMarkup", "sendVoice"} {
		ok += stats[method].OK
		tooMany += stats[method].TooManyRequests
		forbidden += stats[method].Forbidden
	}
	var escalations []string
	dead, _ := m.DB.DeadLetters()
	m.DB.View(func(tx *store.Tx) error {
		events, err := tx.Events(tk.ID)
		for _, ev := range events {
			if ev.Kind == bansosbot.EventEscalated {
				escalations = append(escalations, ev.Args["step"])
			}
		}
		return err
	})
	if len(escalations) < 2 {
		t.Fatalf("escalation steps fired: %v; want the warning and the breach at least", escalations)
	}
	count := func(steps []string, s string) float64 {
		n := 0
		for _, x := range steps {
			if x == s {
				n++
			}
		}
		return float64(n)
	}
	for _, c := range []struct {
		name  string
		got   float64
		want  float64
		match []string
	}{
		{"updates received", sum(ms, "bansosbot_updates_received_total"), float64(updates), nil},
		{"updates handled ok", sum(ms, "bansosbot_updates_handled_total", "result", "ok"), float64(updates), nil},
		{"latency observations", sum(ms, "bansosbot_update_handling_seconds"), float64(updates), nil},
		{"sends ok", sum(ms, "bansosbot_telegram_calls_total", "result", "ok"), float64(ok), nil},
		{"sends 429", sum(ms, "bansosbot_telegram_calls_total", "result", "429"), float64(tooMany), nil},
		{"sends 403", sum(ms, "bansosbot_telegram_calls_total", "result", "403"), float64(forbidden), nil},
		{"registry lookups", sum(ms, "bansosbot_registry_lookups_total", "result", "answered"), 1, nil},
		{"message refusals", sum(ms, "bansosbot_rate_limit_refusals_total", "limit", "messages"), 2, nil},
		{"warnings", sum(ms, "bansosbot_escalations_total", "step", "warning"), count(escalations, "warning"), nil},
		{"breaches", sum(ms, "bansosbot_escalations_total", "step", "breach"), count(escalations, "breach"), nil},
		{"escalations", sum(ms, "bansosbot_escalations_total", "step", "escalate"), count(escalations, "escalate"), nil},
		{"dead letters stored", sum(ms, "bansosbot_dead_letters"), float64(len(dead)), nil},
		{"dead letters parked", sum(ms, "bansosbot_dead_letters_total", "kind", "outbox"), float64(len(dead)), nil},
		{"new tickets in 32", sum(ms, "bansosbot_tickets", "status", "new", "province", "32"), 1, nil},
		{"overdue in 32", sum(ms, "bansosbot_tickets_overdue", "province", "32"), 1, nil},
		{"inbox", sum(ms, "bansosbot_inbox_depth"), 0, nil},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v; want %v", c.name, c.got, c.want)
		}
	}
	if tooMany < 1 || forbidden < 1 || len(dead) < 1 {
		t.Errorf("the scenario did not produce a 429 (%d), a 403 (%d) and a dead letter (%d)", tooMany, forbidden, len(dead))
	}

	// No personal data in any label value.
	forbiddenText := []string{nik, nik[:12], name, strings.ToLower(name), "Wawan", "wawan_sby", "Ratna", "ratna_k", "Joko", "joko_flood",
		"Dewi Lestari", "Halo, saya Ratna", "/tidakada", "banjir", "Gang Mawar", string(tk.No), "7101", "7102", "7103", "7104"}
	labels := 0
	for metric, samples := range ms {
		for _, s := range samples {
			for k, v := range s.labels {
				labels++
				for _, bad := range forbiddenText {
					if strings.Contains(strings.ToLower(v), strings.ToLower(bad)) {
						t.Errorf("%s{%s=%q} carries %q", metric, k, v, bad)
					}
				}
			}
		}
	}
	t.Logf("%d metric families, %d label values scanned", len(ms), labels)
}

// ---- readiness ----

// readyz reads /readyz: its status code and the instance status.
func readyz(t *testing.T, base string) (int, instanceStatus, string) {
	t.Helper()
	code, body := httpGet(t, base+"/readyz")
	var st instanceStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	return code, st, body
}

// TestE2EReadyzFollowsTheBotAPI: /readyz turns unready once the Bot API
// has failed for longer than the threshold (2 minutes), and ready again
// when it answers; /healthz stays ok. An outbox message that cannot be
// delivered while the API answers makes it unready too (after 15
// minutes). The bot runs on a fake clock that the test moves.
func TestE2EReadyzFollowsTheBotAPI(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	e, clk := newClockE2E(t)
	cfg := e.config()
	cfg.HTTP = freePort(t)
	m := e.start(cfg)
	defer m.Close()
	if m.ReadyAPIDown != 0 || m.ReadyOutboxStuck != 0 {
		t.Fatal("this test is about the default thresholds")
	}
	base := "http://" + cfg.HTTP
	waitStatus(t, base+"/readyz", http.StatusOK, 5*time.Second)

	e.fake.SetDown(true)
	downAt := clk.Now()
	var body string
	e.until("/readyz unready while Telegram is down", func() bool {
		var code int
		code, _, body = readyz(t, base)
		return code == http.StatusServiceUnavailable
	})
	if d := clk.Now().Sub(downAt); d <= defaultReadyAPIDown {
		t.Errorf("unready after %v; want only after the %v threshold", d, defaultReadyAPIDown)
	}
	var st instanceStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Ready || st.Checks["telegram"] == "ok" || st.Checks["store"] != "ok" {
		t.Errorf("/readyz while Telegram is down = %s; want the telegram check failing", body)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while Telegram is down; want 200 (the process is alive)", code)
	}
	e.fake.SetDown(false)
	e.until("/readyz ready once Telegram answers", func() bool { code, _, _ := readyz(t, base); return code == http.StatusOK })

	// Telegram keeps refusing one chat's messages while the API answers:
	// stuck. (A 429 each time: a 5xx would also count the API as failing
	// at each try, and whether /readyz blamed Telegram or the outbox would
	// depend on when the poller last got an answer.)
	u := telegramtest.User{ID: 7201, FirstName: "S", LanguageCode: "id"}
	e.fake.FailChat(u.ID, telegramtest.TooManyRequests(60))
	stuckAt := clk.Now()
	e.fake.SendCommand(u, "/x")
	e.until("/readyz unready for the stuck outbox", func() bool {
		var code int
		code, _, body = readyz(t, base)
		return code == http.StatusServiceUnavailable && strings.Contains(body, `"outbox":"a message has waited`)
	})
	if d := clk.Now().Sub(stuckAt); d <= defaultReadyOutboxStuck {
		t.Errorf("unready for the outbox after %v; want only after the %v threshold", d, defaultReadyOutboxStuck)
	}
	e.fake.ClearFaults()
	e.until("/readyz ready once the chat is served", func() bool { code, _, _ := readyz(t, base); return code == http.StatusOK })
	e.waitBot(u.ID, 1)
}

// TestE2EReadyzIgnoresAGroupBacklog: a group's backlog drains at its send
// window (one message a minute here) and its oldest message grows older
// than the 15-minute threshold, yet the group is served: /readyz stays
// ready. A chat that gets nothing delivered still makes it unready (issue
// 10 item 5). The bot runs on a fake clock that the test moves.
func TestE2EReadyzIgnoresAGroupBacklog(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	e, _ := newClockE2E(t)
	cfg := e.config()
	cfg.HTTP = freePort(t)
	m := e.start(cfg, func(m *Main) {
		tune := m.Tune
		m.Tune = func(b *bot.Config) { // one message a minute to a group
			tune(b)
			b.Limits.GroupPerMinute = 1
		}
	})
	defer m.Close()
	base := "http://" + cfg.HTTP
	waitStatus(t, base+"/readyz", http.StatusOK, 5*time.Second)

	const group, n = int64(-100777), 40
	enqueue := func(k int) {
		err := m.DB.Update(func(tx *store.Tx) error {
			for i := range k {
				payload := fmt.Sprintf(`{"m":"sendMessage","c":%d,"t":"pesan %d"}`, group, i)
				if _, err := tx.Enqueue(store.OutboxItem{ChatID: group, Payload: json.RawMessage(payload)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	enqueue(n)
	oldest := 0.0
	e.until("the group's backlog drained", func() bool {
		code, st, body := readyz(t, base)
		if code != http.StatusOK {
			t.Fatalf("/readyz = %d %s while a group's backlog drains; want 200", code, body)
		}
		oldest = max(oldest, st.OutboxOldestSeconds)
		return st.Outbox == 0 && len(e.fake.Transcript(group)) >= n
	})
	if oldest <= defaultReadyOutboxStuck.Seconds() {
		t.Fatalf("the backlog's oldest message waited at most %.1f s; the test needs it older than the %v threshold", oldest, defaultReadyOutboxStuck)
	}

	// Telegram now refuses the group's messages while the API answers
	// (429s; see TestE2EReadyzFollowsTheBotAPI): nothing goes out.
	e.fake.FailChat(group, telegramtest.TooManyRequests(60))
	enqueue(1)
	e.until("/readyz unready for the group that gets nothing", func() bool {
		code, _, body := readyz(t, base)
		return code == http.StatusServiceUnavailable && strings.Contains(body, `"outbox":"a message has waited`)
	})
}

// TestE2EWebhookSharesTheMonitoringListener: with BANSOSBOT_HTTP equal to
// BANSOSBOT_WEBHOOK_LISTEN, one listener serves the webhook and /metrics.
func TestE2EWebhookSharesTheMonitoringListener(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	addr := freePort(t)
	cfg.HTTP, cfg.WebhookListen, cfg.WebhookSecret = addr, addr, "shared-secret"
	cfg.WebhookURL = "http://" + addr + "/telegram/hook"
	m := e.start(cfg)
	defer m.Close()
	e.onboard(telegramtest.User{ID: 7301, FirstName: "W", LanguageCode: "id"})
	ms := scrapeMetrics(t, addr)
	if got := sum(ms, "bansosbot_updates_received_total"); got != 2 { // /start, agree
		t.Errorf("updates received through the shared listener = %v; want 2", got)
	}
	waitStatus(t, "http://"+addr+"/readyz", http.StatusOK, 5*time.Second)
}

// ---- backups and restore ----

// queries are what the bot and the operators read from a store; a
// restored copy must answer them all alike.
func queries(t *testing.T, db *store.DB, cfg Config) string {
	t.Helper()
	var b strings.Builder
	err := db.View(func(tx *store.Tx) error {
		err := tx.AllTickets(func(tk *bansosbot.Ticket) error {
			raw, _ := json.Marshal(tk)
			fmt.Fprintf(&b, "ticket %s\n", raw)
			events, err := tx.Events(tk.ID)
			for _, ev := range events {
				raw, _ := json.Marshal(ev)
				fmt.Fprintf(&b, "  event %s\n", raw)
			}
			if byNo, err := tx.TicketByNo(tk.No); err != nil || byNo.ID != tk.ID {
				fmt.Fprintf(&b, "  by number: %v %v\n", byNo, err)
			}
			return err
		})
		if err != nil {
			return err
		}
		mine, err := tx.CitizenTickets(9001)
		fmt.Fprintf(&b, "citizen 9001: %d tickets\n", len(mine))
		tx.RegionTickets("32.01", []bansosbot.Status{bansosbot.StatusNew, bansosbot.StatusInProgress, bansosbot.StatusResolved}, func(tk *bansosbot.Ticket) bool {
			fmt.Fprintf(&b, "open in 32.01: %d\n", tk.ID)
			return true
		})
		tx.AllStaff(func(s *bansosbot.Staff) bool { fmt.Fprintf(&b, "staff %d %s\n", s.UserID, s.Name); return true })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var rep strings.Builder
	if err := runReport(context.Background(), cfg, db, []string{"--period", "2026-11", "--format", "csv"}, &rep); err != nil {
		t.Fatal(err)
	}
	return b.String() + rep.String()
}

// TestBackupJobAndRestore: the scheduled backup keeps the newest
// BackupKeep files; restoring one into a fresh directory gives the same
// answers to every query; a restore is refused while a bot runs on the
// directory, for a file from a newer version, a damaged file and one made
// under another secret.
func TestBackupJobAndRestore(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	cfg.BackupKeep = "2"
	seedFixture(t, cfg)
	clock := time.Date(2026, 12, 1, 19, 30, 0, 0, time.UTC)
	var mu sync.Mutex
	m := e.start(cfg, func(m *Main) {
		m.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	m.cron.Stop() // no job may change the data between the backup and the comparison
	m.DB.Update(func(tx *store.Tx) error {
		return tx.PutStaff(&bansosbot.Staff{UserID: 801, Name: "Sari", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01"}, Active: true})
	})
	for i := 0; i < 3; i++ {
		if err := m.backupJob(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		clock = clock.Add(24 * time.Hour)
		mu.Unlock()
	}
	os.WriteFile(filepath.Join(cfg.backupDir(), "notes.txt"), []byte("mine"), 0o600) // not a backup: left alone
	entries, _ := os.ReadDir(cfg.backupDir())
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	if want := []string{"bansosbot-20261202T193000Z.db", "bansosbot-20261203T193000Z.db", "notes.txt"}; !slices.Equal(names, want) {
		t.Fatalf("backup directory = %v; want %v", names, want)
	}
	newest := filepath.Join(cfg.backupDir(), names[1])
	if fi, _ := os.Stat(newest); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %04o; want 0600", fi.Mode().Perm())
	}
	env := secretEnv(cfg)

	out, err := cli(t, env, "-data", e.dir, "restore", newest)
	if err == nil || !strings.Contains(err.Error(), "a bansosbot is running") || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore into a running instance's directory: %v %s; want a refusal", err, out)
	}
	want := queries(t, m.DB, cfg) // the bot still works, its data untouched
	m.Close()

	fresh := t.TempDir()
	out, err = cli(t, env, "-data", fresh, "restore", newest)
	if err != nil {
		t.Fatalf("restore into a fresh directory: %v\n%s", err, out)
	}
	freshCfg := cfg
	freshCfg.DataDir = fresh
	db, err := store.Open(freshCfg.DBPath(), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := queries(t, db, freshCfg)
	db.Close()
	if got != want {
		t.Errorf("restored store answers differently:\n--- live\n%s\n--- restored\n%s", want, got)
	}
	if !strings.Contains(want, "staff 801 Sari") || !strings.Contains(want, "TOTAL") {
		t.Errorf("the queries miss the data:\n%s", want)
	}

	// Restoring again keeps the database it replaces.
	if out, err := cli(t, env, "-data", fresh, "restore", filepath.Join(cfg.backupDir(), names[0])); err != nil || !strings.Contains(out, "before-restore-") {
		t.Fatalf("second restore: %v %s", err, out)
	}
	if kept, _ := filepath.Glob(filepath.Join(fresh, "bansosbot.db.before-restore-*")); len(kept) != 1 {
		t.Errorf("kept previous databases: %v; want one", kept)
	}

	// Another secret: refused (the bot would refuse to start on it).
	other := func(k string) string {
		if k == "BANSOSBOT_SECRET" {
			return "another-secret-0123456789"
		}
		return ""
	}
	if out, err := cli(t, other, "-data", t.TempDir(), "restore", newest); err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Errorf("restore under another secret: %v %s; want a refusal", err, out)
	}

	// A file from a newer bansosbot, and a damaged one.
	newer := filepath.Join(t.TempDir(), "newer.db")
	copyFile(t, newest, newer)
	raw, err := bolt.Open(newer, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 8)
		v[7] = byte(store.SchemaVersion() + 1)
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), v)
	})
	raw.Close()
	if out, err := cli(t, env, "-data", t.TempDir(), "restore", newer); err == nil || !strings.Contains(err.Error(), "downgrading is not supported") {
		t.Errorf("restore of a newer file: %v %s; want the downgrade refusal", err, out)
	}
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	data, _ := os.ReadFile(newest)
	os.WriteFile(damaged, data[:len(data)/3], 0o600)
	target := t.TempDir()
	if out, err := cli(t, env, "-data", target, "restore", damaged); err == nil {
		t.Errorf("restore of a truncated file succeeded: %s", out)
	}
	if _, err := os.Stat(filepath.Join(target, store.FileName)); err == nil {
		t.Error("a refused restore left a database behind")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ---- retention ----

// TestE2ERetentionRemovesPersonalDataFromTheFile runs the retention job
// of a running bot with its clock a year after the fixture's tickets were
// closed: the personal data of the closed tickets, an idle draft and an
// old dead letter are gone from the bytes of the bbolt file, what was not
// due is still there, the report's figures are unchanged, and the log
// has counts only.
func TestE2ERetentionRemovesPersonalDataFromTheFile(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	fx := seedFixture(t, cfg)
	const draftText, deadNIK = "Draf-rahasia-rumah-di-Jalan-Anggrek-12", "3201014506870003"
	db, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *store.Tx) error {
		tx.PutSession(&bansosbot.Session{UserID: 9010, Flow: "rp", State: "desc", Step: 3,
			Draft: []byte(`{"desc":"` + draftText + `"}`), UpdatedAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
		return tx.ParkUpdate(store.InboxItem{UpdateID: 77, ChatID: 9010, Update: json.RawMessage(`{"message":{"text":"` + deadNIK + `"}}`)}, "panic")
	})
	db.Close()
	reportBefore, err := cli(t, secretEnv(cfg), "-data", e.dir, "report", "--period", "2026-11", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}

	// Personal data of the tickets that are due (final since November
	// 2026: 1, 5, 6, 7) and of those that are not (2, 3, 4, 8).
	var gone, kept []string
	for _, f := range fx {
		var personal []string
		tk := f.Ticket
		personal = append(personal, tk.Description, tk.Phone, tk.RatingComment)
		for _, a := range tk.Attachments {
			personal = append(personal, a.FileID, a.FileUniqueID)
		}
		if tk.Location != nil {
			personal = append(personal, fmt.Sprint(tk.Location.Lon))
		}
		for _, ev := range f.Events {
			personal = append(personal, ev.Text)
		}
		for _, p := range personal {
			if p == "" {
				continue
			}
			if tk.Status.Final() {
				gone = append(gone, p)
			} else {
				kept = append(kept, p)
			}
		}
	}
	// Drafts are stored as base64 in the session's JSON.
	gone = append(gone, base64.StdEncoding.EncodeToString([]byte(`{"desc":"`+draftText+`"}`)), deadNIK)
	raw, _ := os.ReadFile(cfg.DBPath())
	for _, s := range gone {
		if !bytes.Contains(raw, []byte(s)) {
			t.Fatalf("%q is not in the file before the retention run: the test proves nothing", s)
		}
	}

	var logBuf syncWriter
	var logText strings.Builder
	logBuf.w = &logText
	clock := time.Date(2027, 12, 15, 3, 0, 0, 0, time.UTC)
	m := e.start(cfg, func(m *Main) {
		m.Now = func() time.Time { return clock }
		m.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
	})
	if err := m.retentionJob(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close()

	raw, _ = os.ReadFile(cfg.DBPath())
	for _, s := range gone {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("%q is still in the bbolt file after the retention run", s)
		}
	}
	for _, s := range kept {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("%q of a ticket not due was removed", s)
		}
	}
	reportAfter, err := cli(t, secretEnv(cfg), "-data", e.dir, "report", "--period", "2026-11", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	if reportAfter != reportBefore {
		t.Errorf("the report changed:\n%s\n%s", reportBefore, reportAfter)
	}
	logs := logText.String()
	if !strings.Contains(logs, "tickets_purged=4") || !strings.Contains(logs, "drafts_expired=1") || !strings.Contains(logs, "dead_letters_removed=1") {
		t.Errorf("retention log = %s; want the counts", logs)
	}
	for _, s := range append(gone, kept...) {
		if strings.Contains(logs, s) {
			t.Errorf("the log carries %q", s)
		}
	}
}

// ---- report ----

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Secret: "report-secret-0123456789", TZ: "Asia/Jakarta"}
	seedFixture(t, cfg)
	env := secretEnv(cfg)
	out, err := cli(t, env, "-data", dir, "report", "--period", "2026-11", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]string{}
	for _, r := range rows[1:] {
		byKey[r[1]+"/"+r[3]] = r
	}
	col := func(key, name string) string {
		i := slices.Index(reportColumns, name)
		return byKey[key][i]
	}
	// The hand-computed figures of flows.TestReportNovember.
	for _, c := range []struct{ key, column, want string }{
		{"32/PAYMENT_NOT_RECEIVED", "received", "2"},
		{"32/PAYMENT_NOT_RECEIVED", "resolved", "3"},
		{"32/PAYMENT_NOT_RECEIVED", "median_first_response_hours", "6.5"},
		{"32/PAYMENT_NOT_RECEIVED", "median_resolution_hours", "21.0"},
		{"32/PAYMENT_NOT_RECEIVED", "resolution_on_time_pct", "66.7"},
		{"32/PAYMENT_NOT_RECEIVED", "average_rating", "3.50"},
		{"32/PAYMENT_NOT_RECEIVED", "region_name", "Jawa Barat"},
		{"32/PUNGLI", "first_response_on_time_pct", "0.0"},
		{"32/OTHER", "median_first_response_hours", ""},
		{"73/INFO_REQUEST", "received", "1"},
		{"TOTAL/ALL", "received", "6"},
		{"TOTAL/ALL", "resolved", "4"},
		{"TOTAL/ALL", "median_resolution_hours", "19.0"},
		{"TOTAL/ALL", "first_response_on_time_pct", "75.0"},
	} {
		if got := col(c.key, c.column); got != c.want {
			t.Errorf("%s %s = %q; want %q", c.key, c.column, got, c.want)
		}
	}
	out, err = cli(t, env, "-data", dir, "report", "--period", "2026-11", "--region", "32", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Region string      `json:"region"`
		Rows   []reportRow `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("json report: %v\n%s", err, out)
	}
	total := js.Rows[len(js.Rows)-1]
	if js.Region != "32" || !total.Total || total.Received != 5 || js.Rows[0].Region != "32.01" || *total.MedianResolveH != 21 {
		t.Errorf("json report of 32 = %+v", js)
	}
	out, err = cli(t, env, "-data", dir, "report", "--period", "2026-11", "--lang", "en")
	if err != nil || !strings.Contains(out, "| **Total** | all | 6 | 4 | 6.5 | 19.0 | 75% of 4 | 75% of 4 | 3.5 (2) |") {
		t.Errorf("markdown report: %v\n%s", err, out)
	}
	if _, err := cli(t, env, "-data", dir, "report", "--period", "November"); err == nil {
		t.Error("a bad period was accepted")
	}
}

// ---- doctor ----

func TestDoctor(t *testing.T) {
	fake := telegramtest.NewServer(testToken, telegramtest.WithBot("Bansos Test", "bansos_test_bot"))
	defer fake.Close()
	data := filepath.Join(t.TempDir(), "data")
	os.Mkdir(data, 0o700)
	os.WriteFile(filepath.Join(data, "secret"), []byte("doctor-secret-0123456789abcdef\n"), 0o600)
	vars := map[string]string{"BANSOSBOT_TOKEN": testToken, "BANSOSBOT_API_URL": fake.URL(), "BANSOSBOT_DATA": data, "BANSOSBOT_HTTP": "127.0.0.1:0"}
	env := func(k string) string { return vars[k] }

	out, err := cli(t, env, "doctor")
	if err != nil {
		t.Fatalf("healthy setup: %v\n%s", err, out)
	}
	for _, want := range []string{"getMe: @bansos_test_bot", "no webhook: the bot polls", "no database yet", "\n0 problems, ", "mode 0700", "secret file mode 0600"} {
		if !strings.Contains(out, want) {
			t.Errorf("healthy doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, testToken) || strings.Contains(out, "doctor-secret") {
		t.Errorf("doctor prints the token or the secret:\n%s", out)
	}

	// With a database and a running bot: asked through the control socket.
	cfg, _, err := LoadConfig("bansosbot", nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP = ""
	m := NewMain(cfg, io.Discard)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	out, err = cli(t, env, "doctor")
	if err != nil || !strings.Contains(out, "a bansosbot is running on it: schema") {
		t.Errorf("doctor with a running bot: %v\n%s", err, out)
	}
	m.Close()
	out, _ = cli(t, env, "doctor")
	if !strings.Contains(out, fmt.Sprintf("schema version %d", store.SchemaVersion())) {
		t.Errorf("doctor of a stopped bot's database:\n%s", out)
	}

	// Everything wrong at once.
	os.Chmod(data, 0o755)
	os.Chmod(filepath.Join(data, "secret"), 0o644)
	raw, err := bolt.Open(filepath.Join(data, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 8)
		v[7] = byte(store.SchemaVersion() + 1)
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), v)
	})
	raw.Close()
	// Telegram has another deployment's webhook.
	resp, err := http.Post(fake.URL()+"/bot"+testToken+"/setWebhook", "application/json", strings.NewReader(`{"url":"https://old.example.org/hook"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	vars["BANSOSBOT_WEBHOOK_URL"], vars["BANSOSBOT_WEBHOOK_SECRET"] = "https://bot.example.org/hook", "hook-secret"
	out, err = cli(t, env, "doctor")
	if err == nil {
		t.Fatalf("doctor found nothing wrong:\n%s", out)
	}
	for _, want := range []string{"chmod 700 " + data, "chmod 600 " + filepath.Join(data, "secret"), "downgrading is not supported",
		"Telegram's webhook is https://old.example.org/hook but BANSOSBOT_WEBHOOK_URL is https://bot.example.org/hook"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}

	// A bad configuration is reported, and the rest still checked.
	vars["BANSOSBOT_TZ"] = "Mars/Olympus"
	vars["BANSOSBOT_TOKEN"] = "1:wrong"
	out, err = cli(t, env, "doctor")
	if err == nil || !strings.Contains(out, "FAIL  BANSOSBOT_TZ") || !strings.Contains(out, "Data directory") {
		t.Errorf("doctor with a bad time zone: %v\n%s", err, out)
	}
	delete(vars, "BANSOSBOT_TZ")
	out, _ = cli(t, env, "doctor")
	if !strings.Contains(out, "the token is refused") {
		t.Errorf("doctor with a wrong token:\n%s", out)
	}
}

// ---- configuration ----

func TestOpsOptions(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string // "" for valid
	}{
		{map[string]string{}, ""},
		{map[string]string{"BANSOSBOT_BACKUP_CRON": "off", "BANSOSBOT_RETENTION": "off"}, ""},
		{map[string]string{"BANSOSBOT_BACKUP_CRON": "0 */6 * * *", "BANSOSBOT_BACKUP_KEEP": "28", "BANSOSBOT_RETENTION": "8760h"}, ""},
		{map[string]string{"BANSOSBOT_BACKUP_CRON": "every night"}, "BANSOSBOT_BACKUP_CRON"},
		{map[string]string{"BANSOSBOT_BACKUP_KEEP": "0"}, "BANSOSBOT_BACKUP_KEEP"},
		{map[string]string{"BANSOSBOT_RETENTION": "1y"}, "BANSOSBOT_RETENTION"},
		{map[string]string{"BANSOSBOT_RETENTION": "7d"}, "shorter than 30 days"},
	} {
		cfg, _, err := LoadConfig("bansosbot", nil, func(k string) string { return c.env[k] }, io.Discard)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.env, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: %v; want an error about %s", c.env, err, c.want)
		case c.want == "" && len(c.env) == 0:
			if cfg.backupSchedule() != "30 2 * * *" || cfg.backupKeep() != 7 || cfg.retention() != 365*24*time.Hour ||
				cfg.backupDir() != filepath.Join("data", "backups") {
				t.Errorf("defaults: %q %d %v %s", cfg.backupSchedule(), cfg.backupKeep(), cfg.retention(), cfg.backupDir())
			}
		}
	}
	// Unset (a Config built in code): no scheduled backups, default retention.
	var c Config
	if c.backupSchedule() != "" || c.retention() != flows.DefaultRetention {
		t.Errorf("zero Config: schedule %q retention %v", c.backupSchedule(), c.retention())
	}
}

// TestE2EChartIsSentAsPhoto: a supervisor's /grafik reaches Telegram as a
// sendPhoto upload of a PNG of the chart's size, with the caption.
func TestE2EChartIsSentAsPhoto(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	seedFixture(t, cfg)
	m := e.start(cfg)
	defer m.Close()
	m.DB.Update(func(tx *store.Tx) error {
		return tx.PutStaff(&bansosbot.Staff{UserID: 7401, Name: "Dewi", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32"}, Active: true})
	})
	sup := telegramtest.User{ID: 7401, FirstName: "Dewi", LanguageCode: "id"}
	e.fake.SendCommand(sup, "/grafik")
	msgs := e.waitBot(sup.ID, 1)
	if msgs[0].Kind != telegramtest.KindPhoto || !strings.Contains(msgs[0].Text, "Jawa Barat") || !strings.Contains(msgs[0].Text, "12 minggu") {
		t.Fatalf("answer to /grafik = %s; want a photo captioned with the region", msgs[0])
	}
	data, ok := e.fake.FileData(msgs[0].FileID)
	if !ok {
		t.Fatal("the fake has no data for the photo")
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the photo is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != bot.ChartWidth || b.Dy() != bot.ChartHeight {
		t.Errorf("photo is %dx%d; want %dx%d", b.Dx(), b.Dy(), bot.ChartWidth, bot.ChartHeight)
	}
}
