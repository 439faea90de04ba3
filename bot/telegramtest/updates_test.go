package telegramtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestGetUpdatesOffsetSemantics(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)

	id1 := srv.SendText(alice, "satu")
	id2 := srv.SendCommand(alice, "/start")
	id3 := srv.SendText(budi, "tiga")
	if !(id1 < id2 && id2 < id3) {
		t.Fatalf("update ids not increasing: %d %d %d", id1, id2, id3)
	}

	if got := updateIDs(getUpdates(t, ctx, srv, 0, 0)); !equalIDs(got, []int64{id1, id2, id3}) {
		t.Fatalf("offset 0: got %v", got)
	}
	// Polling again without confirming returns the same updates.
	if got := updateIDs(getUpdates(t, ctx, srv, 0, 0)); !equalIDs(got, []int64{id1, id2, id3}) {
		t.Fatalf("offset 0 again: got %v", got)
	}
	// offset = id2 confirms id1 only.
	ups := getUpdates(t, ctx, srv, id2, 0)
	if got := updateIDs(ups); !equalIDs(got, []int64{id2, id3}) {
		t.Fatalf("offset id2: got %v", got)
	}
	if m := ups[0].Message; m == nil || m.Text != "/start" || len(m.Entities) != 1 || m.Entities[0].Type != models.MessageEntityTypeBotCommand || m.Entities[0].Length != 6 {
		t.Fatalf("command update: %+v", ups[0].Message)
	}
	if m := ups[0].Message; m.Chat.ID != alice.ID || m.Chat.Type != models.ChatTypePrivate || m.From.ID != alice.ID || m.Date == 0 {
		t.Fatalf("command message chat/from: %+v", m)
	}
	// id1 is gone for good, even with offset 0.
	if got := updateIDs(getUpdates(t, ctx, srv, 0, 0)); !equalIDs(got, []int64{id2, id3}) {
		t.Fatalf("after confirming: got %v", got)
	}
	if got := updateIDs(getUpdates(t, ctx, srv, id3+1, 0)); len(got) != 0 {
		t.Fatalf("offset past the last: got %v", got)
	}
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.PendingUpdates() == 0 }); err != nil {
		t.Fatal(err)
	}

	// limit
	for i := 0; i < 5; i++ {
		srv.SendText(alice, "x")
	}
	code, r := rawCall(t, ctx, srv, "getUpdates", map[string]any{"offset": id3 + 1, "limit": "2"})
	if code != 200 || !strings.HasPrefix(string(r.Result), "[{") || strings.Count(string(r.Result), `"update_id"`) != 2 {
		t.Fatalf("limit 2: %d %s", code, r.Result)
	}
	// negative offset keeps only the last update
	ups = getUpdates(t, ctx, srv, -1, 0)
	if len(ups) != 1 || ups[0].ID != id3+5 {
		t.Fatalf("offset -1: %v", updateIDs(ups))
	}
	if code, r := rawCall(t, ctx, srv, "getUpdates", map[string]any{"offset": "x"}); code != 400 || r.OK {
		t.Fatalf("bad offset: %d %+v", code, r)
	}
}

func TestGetUpdatesLongPollWakesUp(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)

	type result struct {
		ups []models.Update
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		ups := getUpdates(t, ctx, srv, 0, 30)
		done <- result{ups, time.Now()}
	}()
	// Wait until the poll is really blocked in the server.
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		t.Fatalf("long poll returned early with %v", updateIDs(r.ups))
	default:
	}
	sent := time.Now()
	id := srv.SendText(alice, "halo")
	select {
	case r := <-done:
		if got := updateIDs(r.ups); !equalIDs(got, []int64{id}) {
			t.Fatalf("long poll got %v, want [%d]", got, id)
		}
		if d := r.at.Sub(sent); d > 5*time.Second {
			t.Fatalf("long poll woke up after %s", d)
		}
	case <-ctx.Done():
		t.Fatal("long poll did not wake up")
	}
}

func TestGetUpdatesTimeoutAndCancel(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)

	start := time.Now()
	if ups := getUpdates(t, ctx, srv, 0, 1); len(ups) != 0 {
		t.Fatalf("got %v", updateIDs(ups))
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("timeout 1 returned after %s", d)
	}

	// A client that goes away ends the long poll.
	pctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(pctx, http.MethodPost, srv.URL()+"/bot"+srv.Token()+"/getUpdates?timeout=30", nil)
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled poll: %v", err)
	}
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Polling() == 0 }); err != nil {
		t.Fatal(err)
	}
	// The update sent afterwards is still there for the next poll.
	id := srv.SendText(alice, "masih ada")
	if got := updateIDs(getUpdates(t, ctx, srv, 0, 0)); !equalIDs(got, []int64{id}) {
		t.Fatalf("got %v", got)
	}
}

func TestGetUpdatesConflicts(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)

	// A second getUpdates terminates the first one with 409.
	first := make(chan apiResult, 1)
	go func() {
		_, r := rawCall(t, ctx, srv, "getUpdates", map[string]any{"timeout": 30})
		first <- r
	}()
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	if ups := getUpdates(t, ctx, srv, 0, 0); len(ups) != 0 {
		t.Fatal(ups)
	}
	if r := <-first; r.OK || r.ErrorCode != 409 || !strings.Contains(r.Description, "terminated by other getUpdates request") {
		t.Fatalf("first poll: %+v", r)
	}

	// With a webhook set, getUpdates is a conflict, also through the client.
	b := newClient(t, srv)
	if ok, err := b.SetWebhook(ctx, &tg.SetWebhookParams{URL: "http://127.0.0.1:1/hook"}); err != nil || !ok {
		t.Fatalf("SetWebhook: %v %v", ok, err)
	}
	if code, r := rawCall(t, ctx, srv, "getUpdates", nil); code != 409 || !strings.Contains(r.Description, "webhook is active") {
		t.Fatalf("getUpdates with webhook: %d %+v", code, r)
	}
}

func TestCloseUnblocksLongPoll(t *testing.T) {
	srv := NewServer("")
	ctx := testCtx(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/bot"+srv.Token()+"/getUpdates?timeout=60", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if err := srv.WaitFor(ctx, func(st *State) bool { return st.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close blocked")
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("long poll not unblocked")
	}
	if _, err := srv.WaitBotMessages(ctx, 1, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait after close: %v", err)
	}
	srv.Close() // idempotent
}

func TestRequestEncodings(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	base := srv.URL() + "/bot" + srv.Token() + "/"

	// urlencoded form, numbers as strings, reply_markup as a JSON string
	form := url.Values{
		"chat_id":      {"1001"},
		"text":         {"dari form"},
		"reply_markup": {`{"inline_keyboard":[[{"text":"OK","callback_data":"ok"}]]}`},
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"sendMessage", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, r := doRaw(t, req); code != 200 || !r.OK {
		t.Fatalf("form: %d %+v", code, r)
	}
	// JSON with chat_id as a string and reply_markup as an object
	if code, r := rawCall(t, ctx, srv, "sendMessage", map[string]any{
		"chat_id": "1001", "text": "dari json",
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Buka", "url": "https://example.org"}}}},
	}); code != 200 || !r.OK {
		t.Fatalf("json: %d %+v", code, r)
	}
	// query string, method name in another case
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, base+"SENDMESSAGE?chat_id=1001&text=dari+query", nil)
	if code, r := doRaw(t, req); code != 200 || !r.OK {
		t.Fatalf("query: %d %+v", code, r)
	}
	got := FormatTranscript(srv.BotMessages(alice.ID))
	want := "bot#1: dari form [OK|ok]\nbot#2: dari json [Buka|url:https://example.org]\nbot#3: dari query\n"
	if got != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s", got, want)
	}
	if n := srv.Calls("sendMessage"); n != 3 {
		t.Fatalf("Calls(sendMessage) = %d", n)
	}

	// wrong token and unknown method
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/bot123:wrong/getMe", nil)
	if code, r := doRaw(t, req); code != 401 || r.OK || r.ErrorCode != 401 || r.Description != "Unauthorized" {
		t.Fatalf("wrong token: %d %+v", code, r)
	}
	if code, r := rawCall(t, ctx, srv, "sendTelepathy", nil); code != 404 || r.ErrorCode != 404 || r.Description != "Not Found" {
		t.Fatalf("unknown method: %d %+v", code, r)
	}
	// The client maps them to its sentinel errors.
	bad, err := tg.New("123:wrong", tg.WithServerURL(srv.URL()), tg.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.GetMe(ctx); !errors.Is(err, tg.ErrorUnauthorized) {
		t.Fatalf("GetMe with wrong token: %v", err)
	}
	me, err := newClient(t, srv).GetMe(ctx)
	if err != nil || !me.IsBot || me.Username != "test_bot" || me.ID != 123456789 {
		t.Fatalf("GetMe: %+v %v", me, err)
	}
}

func TestInjectUpdate(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)
	msg := &models.Message{
		From: &models.User{ID: 7, FirstName: "Raw"},
		Chat: models.Chat{ID: 7, Type: models.ChatTypePrivate},
		Text: "mentah",
	}
	id := srv.InjectUpdate(models.Update{Message: msg})
	if msg.ID != 0 {
		t.Fatal("InjectUpdate modified the caller's message")
	}
	id2 := srv.InjectUpdate(models.Update{ID: id + 10, EditedMessage: &models.Message{ID: 1, Chat: models.Chat{ID: 7}, Text: "x", Date: 1}})
	if id2 != id+10 {
		t.Fatalf("explicit update id: %d", id2)
	}
	ups := getUpdates(t, ctx, srv, 0, 0)
	if len(ups) != 2 || ups[0].Message == nil || ups[0].Message.ID != 1 || ups[0].Message.Text != "mentah" || ups[1].EditedMessage == nil {
		t.Fatalf("updates: %+v", ups)
	}
	if id3 := srv.SendText(alice, "next"); id3 != id2+1 {
		t.Fatalf("next id %d after %d", id3, id2)
	}
	if got := FormatTranscript(srv.Transcript(7)); got != "user#1: mentah\n" {
		t.Fatalf("transcript %q", got)
	}
}
