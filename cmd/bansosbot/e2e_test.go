package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/clock/clocktest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/go-telegram/bot/models"
)

// These tests drive the whole program (Main) with the real go-telegram/bot
// client over HTTP against the fake Bot API, on a real bbolt file.

const testToken = "4242:e2e-test-token"

type e2e struct {
	t    *testing.T
	fake *telegramtest.Server
	dir  string
	clk  *clocktest.Fake // newClockE2E: the program runs on it, waits move it
}

func newE2E(t *testing.T, opts ...telegramtest.Option) *e2e {
	t.Helper()
	fake := telegramtest.NewServer(testToken, opts...)
	t.Cleanup(fake.Close)
	return &e2e{t: t, fake: fake, dir: t.TempDir()}
}

func (e *e2e) config() Config {
	return Config{Token: testToken, APIURL: e.fake.URL(), DataDir: e.dir, TZ: "Asia/Jakarta",
		Log: "warn,text", Secret: "e2e-secret-0123456789abcdef"}
}

// tuneE2E is the pipeline of the end-to-end tests: short poll timeouts,
// sends as fast as the fake takes them.
func tuneE2E(b *bot.Config) {
	b.PollTimeout = time.Second
	b.Limits.PerChat = 5 * time.Millisecond
	b.Limits.Global = 1000
	b.MaxBackoff = 5 * time.Second // 12 attempts then take over 50 s
}

// start opens a Main on the test's data directory. Logs go to the test log.
func (e *e2e) start(cfg Config, tweak ...func(*Main)) *Main {
	e.t.Helper()
	m := NewMain(cfg, testWriter{e.t})
	m.Tune = tuneE2E
	if e.clk != nil {
		m.Clock, m.Now = e.clk, e.clk.Now
		tune := m.Tune
		m.Tune = func(b *bot.Config) {
			tune(b)
			b.MaxBackoff = 0                 // the default minute: the clock is fake, fewer steps
			b.Redispatch = 10000 * time.Hour // the sweep's timer stays out of runClock's way
		}
	}
	for _, f := range tweak {
		f(m)
	}
	if err := m.Open(context.Background()); err != nil {
		e.t.Fatalf("open: %v", err)
	}
	return m
}

// newClockE2E is newE2E on a fake clock: start runs the program on it
// (the pipeline's timers, the engine and the store; cron schedules still
// follow the wall clock), the fake Bot API's flood limits and dates follow
// it, and the test's waits for bot messages move it (send windows are on
// it too).
func newClockE2E(t *testing.T, opts ...telegramtest.Option) (*e2e, *clocktest.Fake) {
	clk := clocktest.New(time.Now())
	e := newE2E(t, append(opts, telegramtest.WithClock(clk.Now))...)
	e.clk = clk
	return e, clk
}

// until waits for cond: on the fake clock by moving it, otherwise polling
// for at most 10 s.
func (e *e2e) until(what string, cond func() bool) {
	e.t.Helper()
	if e.clk != nil {
		runClock(e.t, e.clk, what, cond)
		return
	}
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("waiting for %s", what)
		}
	}
}

// runClock moves clk to its earliest timer, again and again, until done
// holds. The outbox sender waits a minute at most before it looks again,
// so no step is longer; when no timer within a minute waits, the program
// is busy, and runClock looks again 20 ms later. The wall-clock deadline
// is a hang guard, not a measure.
func runClock(t *testing.T, clk *clocktest.Fake, what string, done func() bool) {
	t.Helper()
	ctx := ctxTimeout(t, 30*time.Second)
	for !done() {
		limit := clk.Now().Add(time.Minute)
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := clk.WaitTimer(wctx, func(at time.Time) bool { return !at.After(limit) })
		cancel()
		if ctx.Err() != nil {
			t.Fatalf("waiting for %s on the fake clock (at %v)", what, clk.Now())
		}
		if timers := clk.Timers(); err == nil && len(timers) > 0 {
			clk.Set(timers[0]) // the earliest
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitBot waits until the chat has at least n bot messages and returns them.
func (e *e2e) waitBot(chat int64, n int) []telegramtest.Entry {
	e.t.Helper()
	if e.clk != nil {
		e.until(fmt.Sprintf("%d bot messages in chat %d", n, chat), func() bool { return len(e.fake.BotMessages(chat)) >= n })
	}
	msgs, err := e.fake.WaitBotMessages(ctxTimeout(e.t, 20*time.Second), chat, n)
	if err != nil {
		e.t.Fatalf("chat %d: waiting for %d bot messages: %v\ntranscript:\n%s", chat, n, err, telegramtest.FormatTranscript(e.fake.Transcript(chat)))
	}
	return msgs
}

func messages(entries []telegramtest.Entry) []telegramtest.Entry {
	var out []telegramtest.Entry
	for _, e := range entries {
		if e.Kind != telegramtest.KindCallbackAnswer {
			out = append(out, e)
		}
	}
	return out
}

// press presses the button with the payload on the chat's last bot message.
func (e *e2e) press(u telegramtest.User, payload string) {
	e.t.Helper()
	last, ok := lastWithButtons(e.fake.BotMessages(u.ID))
	if !ok {
		e.t.Fatalf("chat %d: no message with buttons", u.ID)
	}
	for _, row := range last.Inline {
		for _, b := range row {
			if strings.HasSuffix(b.CallbackData, "."+payload) {
				if _, err := e.fake.PressButton(u, last.MessageID, b.CallbackData); err != nil {
					e.t.Fatal(err)
				}
				return
			}
		}
	}
	e.t.Fatalf("chat %d: no button %q on %s", u.ID, payload, last)
}

func lastWithButtons(entries []telegramtest.Entry) (telegramtest.Entry, bool) {
	for i := len(entries) - 1; i >= 0; i-- {
		if len(entries[i].Inline) > 0 && !entries[i].Deleted {
			return entries[i], true
		}
	}
	return telegramtest.Entry{}, false
}

// onboardUser onboards a new Indonesian-speaking user with the id.
func (e *e2e) onboardUser(id int64) telegramtest.User {
	u := telegramtest.User{ID: id, FirstName: "User", LanguageCode: "id"}
	e.onboard(u)
	return u
}

// onboard runs /start → agree (the notice's language is the citizen's)
// and checks the transcript.
func (e *e2e) onboard(u telegramtest.User) {
	e.t.Helper()
	e.fake.SendCommand(u, "/start")
	msgs := e.waitBot(u.ID, 1)
	if !strings.Contains(msgs[0].Text, "Pemberitahuan privasi") || len(msgs[0].Inline) == 0 {
		e.t.Fatalf("first answer to /start = %s; want the privacy notice with buttons", msgs[0])
	}
	e.press(u, "yes")
	msgs = messages(e.waitBot(u.ID, 2))
	if !strings.Contains(msgs[1].Text, "Persetujuan Bapak/Ibu sudah dicatat") || !strings.Contains(msgs[1].Text, "Menu utama") || len(msgs[1].Inline) == 0 {
		e.t.Fatalf("after agreeing: %s; want thanks and the main menu (no second language question)", msgs[1])
	}
	// The answered notice loses its buttons (editMessageReplyMarkup).
	notice := msgs[0].MessageID
	e.until("the answered notice without its buttons", func() bool {
		for _, en := range e.fake.Transcript(u.ID) {
			if en.From == telegramtest.FromBot && en.MessageID == notice && len(en.Inline) > 0 {
				return false
			}
		}
		return true
	})
}

func TestE2EOnboardingPolling(t *testing.T) {
	e := newE2E(t)
	m := e.start(e.config())
	defer m.Close()
	e.onboard(telegramtest.User{ID: 501, FirstName: "Siti", LanguageCode: "id"})
	// The command menu was registered per language.
	if cmds := e.fake.MyCommands("default", "en"); len(cmds) == 0 || !hasCommand(cmds, "help") {
		t.Errorf("English command menu = %v; want the English command names", cmds)
	}
	if cmds := e.fake.MyCommands("default", "id"); !hasCommand(cmds, "bantuan") {
		t.Errorf("Indonesian command menu = %v; want /bantuan", cmds)
	}
}

func hasCommand(cmds []models.BotCommand, name string) bool {
	for _, c := range cmds {
		if c.Command == name {
			return true
		}
	}
	return false
}

// freePort returns a local address nobody listens on, below the
// kernel's ephemeral port range where it can: a port from that range,
// freed here, may be taken by any outgoing connection (of a test running
// in parallel) before the program binds it.
func freePort(t *testing.T) string {
	t.Helper()
	low := 32768 // Linux's default; /proc tells the one in force
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	for range 100 {
		if low <= 12000 {
			break
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(low-10000)))
		if err == nil {
			defer ln.Close()
			return ln.Addr().String()
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestE2EOnboardingWebhook(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	addr := freePort(t)
	cfg.WebhookListen, cfg.WebhookSecret = addr, "s3cret-token_ok"
	cfg.WebhookURL = "http://" + addr + "/telegram/hook" // the fake posts over plain HTTP
	m := e.start(cfg)
	defer m.Close()
	e.onboard(telegramtest.User{ID: 502, FirstName: "Andi", LanguageCode: "id"})
	if n := e.fake.Calls("getUpdates"); n != 0 {
		t.Errorf("getUpdates called %d times in webhook mode", n)
	}
	if info := e.fake.WebhookInfo(); info.URL != cfg.WebhookURL || info.MaxConnections != 1 {
		t.Errorf("webhook info = %+v; want our URL with one connection (keeps each chat's order)", info)
	}
}

func TestE2EWebhookRejectsWrongSecret(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	addr := freePort(t)
	cfg.WebhookListen, cfg.WebhookSecret, cfg.WebhookURL = addr, "right-secret", "http://"+addr+"/hook"
	m := e.start(cfg)
	defer m.Close()
	body := `{"update_id":777,"message":{"message_id":1,"date":1,"chat":{"id":9,"type":"private"},"from":{"id":9,"first_name":"X"},"text":"/start"}}`
	for _, secret := range []string{"", "wrong-secret", "right-secre", "right-secret2"} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %q: status %d; want 401", secret, resp.StatusCode)
		}
	}
	if n, _ := m.DB.InboxDepth(); n != 0 {
		t.Errorf("inbox holds %d updates after refused requests; want 0", n)
	}
	var processed bool
	m.DB.View(func(tx *store.Tx) error { processed = tx.Processed(777); return nil })
	if processed {
		t.Error("a refused update was processed")
	}
	// The right secret is accepted and answered.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hook", strings.NewReader(body))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "right-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("right secret: status %d; want 200", resp.StatusCode)
	}
	e.waitBot(9, 1)
}

// TestE2ECrashSafety: 20 chats send 200 updates; the program is killed
// halfway (no graceful shutdown, nothing in flight reaches Telegram) and
// started again on the same data directory. Every update is answered
// exactly once, and each chat's answers come in order.
func TestE2ECrashSafety(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	e := newE2E(t)
	crashSafety(t, e, e.config())
}

// crashSafety sends interleaved commands of 20 chats, kills the bot
// halfway and starts it again on the same data: every command is answered
// once, in its chat's order.
func crashSafety(t *testing.T, e *e2e, cfg Config) {
	const chats, perChat = 20, 10
	users := make([]telegramtest.User, chats)
	for i := range users {
		users[i] = telegramtest.User{ID: int64(1000 + i), FirstName: fmt.Sprintf("U%d", i), LanguageCode: "id"}
	}
	// Interleave the chats, as real traffic would.
	for j := 1; j <= perChat; j++ {
		for i, u := range users {
			e.fake.SendCommand(u, fmt.Sprintf("/c%d_%d", i, j))
		}
	}
	m := e.start(cfg)
	ctx := ctxTimeout(t, 30*time.Second)
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Stats()["sendMessage"].OK >= chats*perChat/2 }); err != nil {
		t.Fatalf("waiting for half of the answers: %v", err)
	}
	e.fake.Freeze() // whatever is in flight now never reaches "Telegram"
	// Delivery to Telegram is at least once: a crash between Telegram's
	// answer and the commit that records it resends that one message
	// (Telegram has no idempotency key). The kill above was triggered by
	// an answer, so let the answers already on the wire be recorded (the
	// outbox stops shrinking) before crashing; then exactly once holds.
	waitStable(t, m.DB)
	m.Kill()
	// Let the fake notice the abandoned connections before it thaws, so
	// that it drops them as Telegram would never have seen them.
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Held() == 0 }); err != nil {
		t.Fatal(err)
	}
	e.fake.Thaw()
	t.Logf("killed after %d answers", e.totalBotMessages(users))

	m2 := e.start(cfg)
	defer m2.Close()
	for i, u := range users {
		msgs := e.waitBot(u.ID, perChat)
		var got []string
		for _, msg := range msgs {
			got = append(got, extractCommand(msg.Text))
		}
		var want []string
		for j := 1; j <= perChat; j++ {
			want = append(want, fmt.Sprintf("/c%d_%d", i, j))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("chat %d answers = %v; want each command answered once, in order: %v", u.ID, got, want)
		}
	}
	// Nothing more arrives later (no duplicates).
	if err := m2.Server.Flush(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := e.totalBotMessages(users); n != chats*perChat {
		t.Errorf("%d bot messages in total; want %d", n, chats*perChat)
	}
}

// waitStable waits until the outbox depth has not changed for 200 ms.
func waitStable(t *testing.T, db *store.DB) {
	t.Helper()
	last, since := -1, time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		n, err := db.OutboxDepth()
		if err != nil {
			t.Fatal(err)
		}
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 200*time.Millisecond {
			return
		}
	}
	t.Fatal("the outbox never settled")
}

func (e *e2e) totalBotMessages(users []telegramtest.User) int {
	n := 0
	for _, u := range users {
		n += len(e.fake.BotMessages(u.ID))
	}
	return n
}

// extractCommand finds "/cI_J" in an "unknown command" answer.
func extractCommand(text string) string {
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "/c") {
			return strings.TrimRight(f, ".")
		}
	}
	return "?"
}

// panicky panics on one input text and handles everything else normally.
type panicky struct {
	bot.Handler
	on    string
	count atomic.Int32
}

func (p *panicky) Handle(ctx context.Context, tx flows.Store, in flows.Input) (flows.Outcome, error) {
	if in.Text == p.on {
		p.count.Add(1)
		panic("test panic on purpose")
	}
	return p.Handler.Handle(ctx, tx, in)
}

func TestE2EHandlerPanicIsContained(t *testing.T) {
	e := newE2E(t)
	var p *panicky
	m := e.start(e.config(), func(m *Main) {
		m.Wrap = func(h bot.Handler) bot.Handler { p = &panicky{Handler: h, on: "/boom"}; return p }
	})
	defer m.Close()
	a := telegramtest.User{ID: 601, FirstName: "A", LanguageCode: "id"}
	b := telegramtest.User{ID: 602, FirstName: "B", LanguageCode: "id"}
	e.fake.SendCommand(a, "/boom")
	e.fake.SendCommand(a, "/after")
	e.fake.SendCommand(b, "/other")
	msgs := e.waitBot(a.ID, 2)
	if !strings.Contains(msgs[0].Text, "ada gangguan") {
		t.Errorf("answer to the panicking update = %q; want the apology", msgs[0].Text)
	}
	if !strings.Contains(msgs[1].Text, "/after") {
		t.Errorf("the chat's next update was answered with %q; want its own answer", msgs[1].Text)
	}
	if got := e.waitBot(b.ID, 1); !strings.Contains(got[0].Text, "/other") {
		t.Errorf("another chat got %q", got[0].Text)
	}
	dead, err := m.DB.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Kind != store.DeadUpdate || dead[0].Reason != "panic" {
		t.Errorf("dead letters = %+v; want the panicking update parked", dead)
	}
}

// sendOne makes the bot send one message to u (an unknown command).
func (e *e2e) sendOne(u telegramtest.User, text string) {
	e.fake.SendCommand(u, text)
}

func TestE2EOutboxHonoursRetryAfter(t *testing.T) {
	e, clk := newClockE2E(t)
	m := e.start(e.config())
	defer m.Close()
	u := telegramtest.User{ID: 701, FirstName: "R", LanguageCode: "id"}
	e.fake.FailNext("sendMessage", 1, telegramtest.TooManyRequests(30))
	start := clk.Now()
	e.sendOne(u, "/ratelimited")
	runClock(t, clk, "the message after retry_after", func() bool { return len(e.fake.BotMessages(u.ID)) > 0 })
	msgs := e.waitBot(u.ID, 1)
	if d := clk.Now().Sub(start); d < 30*time.Second {
		t.Errorf("delivered after %v; want at least the 30 s of retry_after", d)
	}
	if !strings.Contains(msgs[0].Text, "/ratelimited") {
		t.Errorf("delivered %q", msgs[0].Text)
	}
	if st := e.fake.Stats()["sendMessage"]; st.TooManyRequests != 1 {
		t.Errorf("429s given = %d; want 1", st.TooManyRequests)
	}
}

// TestE2EOutboxSurvivesOutage: every send fails with 5xx until each
// chat's first reply has failed more often than MaxAttempts (12; about
// eight minutes of the bot's clock, a fake one); nothing is parked, and
// after the outage every reply is delivered, in order. (bot's TestOutboxRetriesThroughOutage checks the
// backoff itself.)
func TestE2EOutboxSurvivesOutage(t *testing.T) {
	e, clk := newClockE2E(t)
	// Parking needs both MaxAttempts tries and MaxAge. The fake clock also
	// jumps to the program's other timers (sweeps, health), so on a loaded
	// machine it can pass the default day of MaxAge while the sender is
	// still making its 13 tries; what this test checks is that the tries
	// alone park nothing, so the age is kept out of reach. (bot's
	// TestOutboxRetriesThroughOutage checks parking after both.)
	m := e.start(e.config(), func(m *Main) {
		tune := m.Tune
		m.Tune = func(b *bot.Config) { tune(b); b.MaxAge = 10 * 365 * 24 * time.Hour }
	})
	defer m.Close()
	users := []telegramtest.User{{ID: 801, FirstName: "A"}, {ID: 802, FirstName: "B"}, {ID: 803, FirstName: "C"}}
	e.fake.FailChat(801, telegramtest.ServerError(502))
	e.fake.FailChat(802, telegramtest.ServerError(500))
	e.fake.FailChat(803, telegramtest.ProxyError(503))
	for i, u := range users {
		for j := 0; j < 3; j++ {
			e.sendOne(u, fmt.Sprintf("/o%d_%d", i, j))
		}
	}
	start := clk.Now()
	runClock(t, clk, "13 failed tries of each chat's first reply", func() bool {
		items, err := m.DB.Outbox(0, 100)
		if err != nil {
			t.Fatal(err)
		}
		tries := map[int64]int{}
		for _, it := range items {
			tries[it.ChatID] = max(tries[it.ChatID], it.Attempts)
		}
		for _, u := range users {
			if tries[u.ID] < 13 {
				return false
			}
		}
		return true
	})
	outage := clk.Now().Sub(start)
	e.fake.ClearFaults()
	runClock(t, clk, "delivery after the outage", func() bool {
		for _, u := range users {
			if len(e.fake.BotMessages(u.ID)) < 3 {
				return false
			}
		}
		return true
	})
	for i, u := range users {
		msgs := e.waitBot(u.ID, 3)
		if len(msgs) != 3 {
			t.Errorf("chat %d: %d messages after recovery; want 3", u.ID, len(msgs))
		}
		for j, msg := range msgs {
			if want := fmt.Sprintf("/o%d_%d", i, j); !strings.Contains(msg.Text, want) {
				t.Errorf("chat %d message %d = %q; want the answer to %s (in order)", u.ID, j, msg.Text, want)
			}
		}
	}
	if dead, _ := m.DB.DeadLetters(); len(dead) != 0 {
		t.Errorf("dead letters after a %v outage: %d; want none", outage, len(dead))
	}
}

func TestE2EBlockedChatIsMarkedUnreachable(t *testing.T) {
	e, clk := newClockE2E(t)
	m := e.start(e.config())
	defer m.Close()
	u := telegramtest.User{ID: 901, FirstName: "B", LanguageCode: "id"}
	e.onboard(u)
	e.fake.FailChat(u.ID, telegramtest.Forbidden())
	before := e.fake.Calls("sendMessage")
	e.sendOne(u, "/x1")
	e.sendOne(u, "/x2")
	e.until("both messages parked and the profile marked unreachable", func() bool {
		dead, _ := m.DB.DeadLetters()
		var unreachable bool
		m.DB.View(func(tx *store.Tx) error {
			p, _ := tx.Profile(u.ID)
			unreachable = p != nil && p.Unreachable
			return nil
		})
		return len(dead) >= 2 && unreachable
	})
	later := clk.Now().Add(10 * time.Minute) // longer than any backoff: nothing is retried
	runClock(t, clk, "10 minutes after the block", func() bool { return !clk.Now().Before(later) })
	if calls := e.fake.Calls("sendMessage") - before; calls > 2 {
		t.Errorf("%d sendMessage calls to a blocked chat; want at most one per message, no retries", calls)
	}
}

func TestDemoAnswersStart(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	var out strings.Builder
	stdin := strings.NewReader("/start\n1\n")
	err := run(context.Background(), []string{"demo", "-dir", filepath.Join(t.TempDir(), "d")}, func(string) string { return "" },
		stdin, &syncWriter{w: &out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"Pemberitahuan privasi", "[1] ✅ Setuju", "Persetujuan Bapak/Ibu sudah dicatat", "Menu utama"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestCommandsReachRunningInstance: while the bot holds the database,
// operator commands run inside it through the control socket.
func TestCommandsReachRunningInstance(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	m := e.start(cfg)
	defer m.Close()
	env := envWithSecret(cfg.Secret)
	var out strings.Builder
	err := run(context.Background(), []string{"-data", e.dir, "staff", "add", "--id", "4242", "--name", "Wati", "--role", "worker", "--region", "32.01"},
		env, strings.NewReader(""), &out, io.Discard)
	if err != nil {
		t.Fatalf("staff add while the bot runs: %v", err)
	}
	var s *bansosbot.Staff
	m.DB.View(func(tx *store.Tx) (err error) { s, err = tx.Staff(4242); return err })
	if s == nil || s.Name != "Wati" {
		t.Fatalf("staff record after add = %+v; want Wati", s)
	}
	out.Reset()
	if err := run(context.Background(), []string{"-data", e.dir, "staff", "list"}, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Wati") {
		t.Errorf("staff list = %q; want Wati", out.String())
	}
	// A failing command reports its error through the socket.
	err = run(context.Background(), []string{"-data", e.dir, "staff", "add", "--id", "0"}, env, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--id") {
		t.Errorf("bad staff add: err = %v; want the command's own error", err)
	}
	// Online backup: a consistent copy that opens and holds the staff.
	backupPath := filepath.Join(t.TempDir(), "copy.db")
	out.Reset()
	if err := run(context.Background(), []string{"-data", e.dir, "backup", backupPath}, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("backup while running: %v", err)
	}
	copyDB, err := store.Open(backupPath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	copyDB.View(func(tx *store.Tx) (err error) { s, err = tx.Staff(4242); return err })
	if s == nil || s.Name != "Wati" {
		t.Errorf("backup lacks the staff record: %+v", s)
	}
}
