package telegramtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func sendText(ctx context.Context, b *tg.Bot, chatID int64, text string) error {
	_, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

func TestFaultsSurfaceAsClientErrors(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)

	srv.FailNext("sendMessage", 1, TooManyRequests(7))
	err := sendText(ctx, b, alice.ID, "a")
	var tooMany *tg.TooManyRequestsError
	if !errors.As(err, &tooMany) || tooMany.RetryAfter != 7 {
		t.Fatalf("429: %v", err)
	}

	srv.FailNext("SENDMESSAGE", 2, Forbidden()) // method names are case insensitive
	for i := 0; i < 2; i++ {
		if err := sendText(ctx, b, alice.ID, "b"); !errors.Is(err, tg.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
			t.Fatalf("403 #%d: %v", i, err)
		}
	}

	srv.FailNext("sendMessage", 1, ServerError(500))
	if err := sendText(ctx, b, alice.ID, "c"); err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") {
		t.Fatalf("500: %v", err)
	}
	srv.FailNext("sendMessage", 1, ProxyError(502))
	if err := sendText(ctx, b, alice.ID, "d"); err == nil || !strings.Contains(err.Error(), "error decode response body") || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Fatalf("502 proxy: %v", err)
	}
	srv.FailNext("*", 1, APIError(400, "Bad Request: chat not found"))
	if err := sendText(ctx, b, alice.ID, "e"); !errors.Is(err, tg.ErrorBadRequest) {
		t.Fatalf("custom error: %v", err)
	}

	srv.FailNext("sendMessage", 1, Drop())
	if err := sendText(ctx, b, alice.ID, "dropped"); err == nil || !strings.Contains(err.Error(), "error do request") {
		t.Fatalf("drop: %v", err)
	}
	srv.FailNext("sendMessage", 1, DropResponse())
	if err := sendText(ctx, b, alice.ID, "sent but answer lost"); err == nil {
		t.Fatal("drop response: no error")
	}

	// Slow: the client gives up, the message is sent anyway.
	srv.FailNext("sendMessage", 1, Slow(time.Minute))
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = sendText(sctx, b, alice.ID, "slow")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}
	srv.FailNext("sendMessage", 1, Slow(200*time.Millisecond))
	start := time.Now()
	if err := sendText(ctx, b, alice.ID, "slow but ok"); err != nil || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("slow ok: %v after %s", err, time.Since(start))
	}

	if err := sendText(ctx, b, alice.ID, "normal"); err != nil {
		t.Fatal(err)
	}
	want := "bot#1: sent but answer lost\nbot#2: slow\nbot#3: slow but ok\nbot#4: normal\n"
	if got := FormatTranscript(srv.Transcript(alice.ID)); got != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s", got, want)
	}
	want2 := Counts{Calls: 11, OK: 3, BadRequest: 1, Forbidden: 2, TooManyRequests: 1, ServerError: 2, Dropped: 2}
	if got := srv.Stats()["sendMessage"]; got != want2 {
		t.Fatalf("stats:\n got %+v\nwant %+v", got, want2)
	}
	if tot := srv.Stats().Total(); tot.Calls != 11 {
		t.Fatalf("total %+v", tot)
	}
}

func TestFailChatSetDownAndClear(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)

	srv.FailChat(budi.ID, Forbidden())
	for i := 0; i < 3; i++ {
		if err := sendText(ctx, b, budi.ID, "x"); !errors.Is(err, tg.ErrorForbidden) {
			t.Fatalf("blocked chat #%d: %v", i, err)
		}
	}
	if err := sendText(ctx, b, alice.ID, "ok"); err != nil {
		t.Fatalf("other chat: %v", err)
	}
	// FailNext wins over FailChat.
	srv.FailNext("sendMessage", 1, TooManyRequests(1))
	if err := sendText(ctx, b, budi.ID, "x"); !tg.IsTooManyRequestsError(err) {
		t.Fatalf("FailNext precedence: %v", err)
	}
	srv.FailChat(budi.ID, Fault{})
	if err := sendText(ctx, b, budi.ID, "unblocked"); err != nil {
		t.Fatal(err)
	}

	srv.SetDown(true)
	if _, err := b.GetMe(ctx); err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Fatalf("down: %v", err)
	}
	if code, _ := rawCallStatus(t, ctx, srv, "getMe"); code != 502 {
		t.Fatalf("down status %d", code)
	}
	srv.SetDown(false)
	if _, err := b.GetMe(ctx); err != nil {
		t.Fatal(err)
	}

	srv.FailNext("getMe", 5, ServerError(500))
	srv.FailChat(alice.ID, Forbidden())
	srv.ClearFaults()
	if _, err := b.GetMe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sendText(ctx, b, alice.ID, "cleared"); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st["getMe"].ServerError != 2 || st["getMe"].OK != 2 || st["sendMessage"].Forbidden != 3 || st["sendMessage"].TooManyRequests != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func rawCallStatus(t *testing.T, ctx context.Context, srv *Server, method string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/bot"+srv.Token()+"/"+method, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Content-Type")
}

// fakeClock is a manual clock for Limits.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func retryAfter(t *testing.T, err error) int {
	t.Helper()
	var tm *tg.TooManyRequestsError
	if !errors.As(err, &tm) {
		t.Fatalf("want 429, got %v", err)
	}
	return tm.RetryAfter
}

func TestLimits(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := newServer(t, WithClock(clock.Now), WithLimits(Limits{PerChat: time.Second, PerGroupPerMinute: 3, Global: 4}))
	ctx := testCtx(t)
	b := newClient(t, srv)

	// Per private chat: one message per second.
	if err := sendText(ctx, b, alice.ID, "1"); err != nil {
		t.Fatal(err)
	}
	if ra := retryAfter(t, sendText(ctx, b, alice.ID, "2")); ra != 1 {
		t.Fatalf("retry_after %d", ra)
	}
	clock.Advance(999 * time.Millisecond)
	if ra := retryAfter(t, sendText(ctx, b, alice.ID, "2")); ra != 1 {
		t.Fatalf("retry_after %d", ra)
	}
	clock.Advance(time.Millisecond)
	if err := sendText(ctx, b, alice.ID, "2"); err != nil {
		t.Fatal(err)
	}
	// Edits count as sends.
	clock.Advance(2 * time.Second)
	m, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: alice.ID, Text: "3"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "3b"})
	retryAfter(t, err)

	// Groups: 3 per rolling minute, retry_after rounds up.
	clock.Advance(2 * time.Second)
	const group = -500
	for i := 0; i < 3; i++ {
		if err := sendText(ctx, b, group, "g"); err != nil {
			t.Fatalf("group send %d: %v", i, err)
		}
		clock.Advance(10 * time.Second) // also keeps the global limit out of the way
	}
	if ra := retryAfter(t, sendText(ctx, b, group, "g")); ra != 30 {
		t.Fatalf("group retry_after %d, want 30", ra)
	}
	clock.Advance(30 * time.Second)
	if err := sendText(ctx, b, group, "g"); err != nil {
		t.Fatal(err)
	}

	// Global: 4 per rolling second over all chats.
	clock.Advance(2 * time.Second)
	for i := int64(0); i < 4; i++ {
		if err := sendText(ctx, b, 2000+i, "x"); err != nil {
			t.Fatalf("global send %d: %v", i, err)
		}
		clock.Advance(100 * time.Millisecond)
	}
	if ra := retryAfter(t, sendText(ctx, b, 3000, "x")); ra != 1 {
		t.Fatalf("global retry_after %d", ra)
	}
	// Non-sending methods are not limited.
	if _, err := b.GetMe(ctx); err != nil {
		t.Fatal(err)
	}

	if got := srv.Stats(); got["sendMessage"].TooManyRequests != 4 || got["editMessageText"].TooManyRequests != 1 {
		t.Fatalf("stats: %+v", got)
	}
	if n := len(srv.BotMessages(3000)); n != 0 {
		t.Fatalf("limited message recorded")
	}

	srv.SetLimits(Limits{})
	if err := sendText(ctx, b, 3000, "x"); err != nil {
		t.Fatal(err)
	}
}

func TestTelegramLimitsRealClock(t *testing.T) {
	srv := newServer(t, WithLimits(TelegramLimits()))
	ctx := testCtx(t)
	b := newClient(t, srv)
	if err := sendText(ctx, b, alice.ID, "1"); err != nil {
		t.Fatal(err)
	}
	if ra := retryAfter(t, sendText(ctx, b, alice.ID, "2")); ra != 1 {
		t.Fatalf("retry_after %d", ra)
	}
	if err := sendText(ctx, b, budi.ID, "other chat"); err != nil {
		t.Fatal(err)
	}
}

func TestFreezeThawDiscardsAbandonedRequests(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	b := newClient(t, srv)

	srv.Freeze()
	// A request whose client gives up while frozen.
	abandonCtx, abandon := context.WithCancel(ctx)
	errc := make(chan error, 2)
	go func() { errc <- sendText(abandonCtx, b, alice.ID, "never") }()
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Held() == 1 }); err != nil {
		t.Fatal(err)
	}
	abandon()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned request: %v", err)
	}
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Held() == 0 && st.Abandoned() == 1 }); err != nil {
		t.Fatal(err)
	}
	// A request whose client keeps waiting.
	go func() { errc <- sendText(ctx, b, alice.ID, "kept") }()
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Held() == 1 }); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Transcript(alice.ID)); n != 0 {
		t.Fatalf("frozen request processed: %d entries", n)
	}
	srv.Thaw()
	if err := <-errc; err != nil {
		t.Fatalf("kept request: %v", err)
	}
	if got := FormatTranscript(srv.Transcript(alice.ID)); got != "bot#1: kept\n" {
		t.Fatalf("transcript %q", got)
	}
	if st := srv.Stats()["sendMessage"]; st.Discarded != 1 || st.OK != 1 || st.Calls != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestFreezeSimulatesCrash kills a polling bot while its reply is held: the
// reply never happens, the update is not confirmed, and a restarted bot gets
// it again.
func TestFreezeSimulatesCrash(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	reply := func(ctx context.Context, b *tg.Bot, u *models.Update) {
		if u.Message != nil {
			_ = sendText(ctx, b, u.Message.Chat.ID, "balasan untuk "+u.Message.Text)
		}
	}
	run := func() (stop func()) {
		b := newClient(t, srv, tg.WithDefaultHandler(reply), tg.WithNotAsyncHandlers())
		bctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.Start(bctx)
		}()
		return func() {
			cancel()
			<-done
		}
	}

	stop := run()
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	id := srv.SendText(alice, "halo")
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Calls("sendMessage") == 1 && st.Held() >= 1 }); err != nil {
		t.Fatal(err)
	}
	stop() // crash: nothing more reaches the wire
	// No need to wait for State.Abandoned here: the fake checks the
	// connections of held requests itself (see Thaw).
	srv.Thaw()
	if n := len(srv.BotMessages(alice.ID)); n != 0 {
		t.Fatalf("reply of the crashed bot was processed:\n%s", FormatTranscript(srv.Transcript(alice.ID)))
	}
	if st := srv.Stats()["sendMessage"]; st.Discarded != 1 || st.OK != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.PendingUpdates() == 1 }); err != nil {
		t.Fatalf("update %d should still be pending: %v", id, err)
	}

	stop = run()
	defer stop()
	msgs, err := srv.WaitBotMessages(ctx, alice.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].Text != "balasan untuk halo" {
		t.Fatalf("reply after restart: %s", msgs[0])
	}
}
