package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// delivery is one POST the webhook received.
type delivery struct {
	secret   string
	updateID int64
	status   int
}

func TestWebhookDeliveryWithRealClient(t *testing.T) {
	srv := newServer(t, WithWebhookRetryDelay(5*time.Millisecond))
	ctx := testCtx(t)

	// The bot in webhook mode, behind a receiver that fails the first two
	// attempts with 500.
	b := newClient(t, srv,
		tg.WithWebhookSecretToken("rahasia_123"),
		tg.WithNotAsyncHandlers(),
		tg.WithDefaultHandler(func(ctx context.Context, b *tg.Bot, u *models.Update) {
			if u.Message != nil {
				_ = sendText(ctx, b, u.Message.Chat.ID, "webhook: "+u.Message.Text)
			}
		}))
	var (
		mu         sync.Mutex
		deliveries []delivery
	)
	hook := b.WebhookHandler()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var u models.Update
		_ = json.Unmarshal(body, &u)
		mu.Lock()
		d := delivery{secret: r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), updateID: u.ID, status: 200}
		if len(deliveries) < 2 {
			d.status = 500
		}
		deliveries = append(deliveries, d)
		mu.Unlock()
		if d.status != 200 {
			http.Error(w, "boom", d.status)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		hook(w, r)
	}))
	defer receiver.Close()
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.StartWebhook(bctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	if _, err := b.SetWebhook(ctx, &tg.SetWebhookParams{URL: receiver.URL, SecretToken: "bad secret!"}); !errors.Is(err, tg.ErrorBadRequest) {
		t.Fatalf("bad secret: %v", err)
	}
	if ok, err := b.SetWebhook(ctx, &tg.SetWebhookParams{URL: receiver.URL, SecretToken: "rahasia_123"}); err != nil || !ok {
		t.Fatalf("SetWebhook: %v %v", ok, err)
	}
	id1 := srv.SendText(alice, "satu")
	id2 := srv.SendText(alice, "dua")
	if _, err := srv.WaitBotMessages(ctx, alice.ID, 2); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.PendingUpdates() == 0 }); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]delivery(nil), deliveries...)
	mu.Unlock()
	want := []delivery{{"rahasia_123", id1, 500}, {"rahasia_123", id1, 500}, {"rahasia_123", id1, 200}, {"rahasia_123", id2, 200}}
	if len(got) != len(want) {
		t.Fatalf("deliveries %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivery %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if tr := FormatTranscript(srv.BotMessages(alice.ID)); tr != "bot#2: webhook: satu\nbot#4: webhook: dua\n" && tr != "bot#3: webhook: satu\nbot#4: webhook: dua\n" {
		t.Fatalf("bot messages:\n%s", tr)
	}

	info, err := b.GetWebhookInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.URL != receiver.URL || info.PendingUpdateCount != 0 || !strings.Contains(info.LastErrorMessage, "Wrong response from the webhook: 500") || info.LastErrorDate == 0 {
		t.Fatalf("webhook info: %+v", info)
	}

	// Pending count while the webhook is down.
	receiver.Close()
	srv.SendText(alice, "tiga")
	if err := srv.WaitFor(ctx, func(st *State) bool {
		wi := st.WebhookInfo()
		return wi.PendingUpdateCount == 1 && wi.LastErrorMessage != "" && !strings.Contains(wi.LastErrorMessage, "500")
	}); err != nil {
		t.Fatalf("%v: %+v", err, srv.WebhookInfo())
	}

	// Deleting the webhook (dropping pending updates) re-enables getUpdates.
	if ok, err := b.DeleteWebhook(ctx, &tg.DeleteWebhookParams{DropPendingUpdates: true}); err != nil || !ok {
		t.Fatalf("DeleteWebhook: %v %v", ok, err)
	}
	if ups := getUpdates(t, ctx, srv, 0, 0); len(ups) != 0 {
		t.Fatalf("dropped updates delivered: %v", updateIDs(ups))
	}
	id4 := srv.SendText(alice, "empat")
	if got := updateIDs(getUpdates(t, ctx, srv, 0, 0)); !equalIDs(got, []int64{id4}) {
		t.Fatalf("after delete: %v", got)
	}
	if info := srv.WebhookInfo(); info.URL != "" || info.PendingUpdateCount != 1 {
		t.Fatalf("info after delete: %+v", info)
	}
}

func TestWebhookWithoutSecretAndPendingFromPolling(t *testing.T) {
	srv := newServer(t, WithWebhookRetryDelay(time.Millisecond))
	ctx := testCtx(t)
	got := make(chan *http.Request, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		got <- r
	}))
	defer receiver.Close()

	// An update queued before the webhook is set is delivered through it.
	srv.SendText(alice, "sebelum")
	if code, r := rawCall(t, ctx, srv, "setWebhook", map[string]any{"url": receiver.URL}); code != 200 || !r.OK || string(r.Result) != "true" || r.Description != "Webhook was set" {
		t.Fatalf("setWebhook: %d %+v", code, r)
	}
	select {
	case r := <-got:
		if _, ok := r.Header["X-Telegram-Bot-Api-Secret-Token"]; ok {
			t.Fatal("secret header sent without a secret")
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			t.Fatalf("request: %s %v", r.Method, r.Header)
		}
	case <-ctx.Done():
		t.Fatal("no delivery")
	}
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.PendingUpdates() == 0 }); err != nil {
		t.Fatal(err)
	}
}
