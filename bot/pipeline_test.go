package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/go-telegram/bot/models"
)

// recorder is a Handler that notes, per chat, the update ids it handled.
type recorder struct {
	mu   sync.Mutex
	seen map[int64][]int64
	cond *sync.Cond
}

// store.DB, the store cmd wires in, is what the package needs of one.
var _ TxDB[*store.Tx] = (*store.DB)(nil)

func newRecorder() *recorder {
	r := &recorder{seen: map[int64][]int64{}}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *recorder) Handle(_ context.Context, _ flows.Store, in flows.Input) (flows.Outcome, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[in.ChatID] = append(r.seen[in.ChatID], in.UpdateID)
	r.cond.Broadcast()
	return flows.Outcome{}, nil
}

func (r *recorder) Commands() []flows.Command { return nil }

// handled is a copy of the update ids handled for chat.
func (r *recorder) handled(chat int64) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen[chat])
}

// waitHandled waits until chat had n updates handled (or fails the test
// after a generous deadline; the deadline is a hang guard, not a measure).
func (r *recorder) waitHandled(t *testing.T, chat int64, n int) []int64 {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(15*time.Second, func() { close(done); r.cond.Broadcast() })
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.seen[chat]) < n {
		select {
		case <-done:
			t.Fatalf("chat %d: %d updates handled; want %d", chat, len(r.seen[chat]), n)
		default:
		}
		r.cond.Wait()
	}
	return slices.Clone(r.seen[chat])
}

func openTestDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bansosbot.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// webhookServer starts a Server in webhook mode behind an httptest server
// that Telegram (the fake) posts to.
func webhookServer(t *testing.T, fake *telegramtest.Server, db *store.DB, h Handler, cfg Config) *Server {
	t.Helper()
	var s *Server
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.WebhookHandler().ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	cfg.Token, cfg.APIURL, cfg.WebhookURL = fake.Token(), fake.URL(), hs.URL+"/hook"
	s, err := New(cfg, Adapt(db), h)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestWebhookFullShardStrandsNothing: one chat's shard is busy and its
// queue fills up. The webhook still answers Telegram at once (its single
// connection is never held, so other chats go on), and when the shard
// moves again every update of the busy chat is handled, in order: none is
// stranded in the inbox by a request Telegram gave up on (issue 10 item 4).
func TestWebhookFullShardStrandsNothing(t *testing.T) {
	fake := telegramtest.NewServer("", telegramtest.WithWebhookTimeout(300*time.Millisecond), telegramtest.WithWebhookRetryDelay(10*time.Millisecond))
	defer fake.Close()
	db := openTestDB(t)
	rec := newRecorder()
	busy, other := telegramtest.User{ID: 2, FirstName: "A"}, telegramtest.User{ID: 3, FirstName: "B"} // shards 0 and 1
	gate := make(chan struct{})
	var once sync.Once
	s := webhookServer(t, fake, db, rec, Config{Shards: 2, Redispatch: time.Hour})
	s.afterProcess = func(it store.InboxItem) {
		if it.ChatID == busy.ID {
			once.Do(func() { <-gate }) // the shard is stuck on its first update
		}
	}
	const n = queueCap + 3 // more than the shard's queue holds
	for i := range n {
		fake.SendText(busy, fmt.Sprintf("a%d", i))
	}
	fake.SendText(other, "b")
	rec.waitHandled(t, other.ID, 1) // the other chat was not held up
	close(gate)
	got := rec.waitHandled(t, busy.ID, n)
	if !slices.IsSorted(got) {
		t.Errorf("busy chat's updates handled out of order: %v", got)
	}
	if info := fake.WebhookInfo(); info.LastErrorMessage != "" {
		t.Errorf("Telegram saw a webhook failure %q; want every update answered at once", info.LastErrorMessage)
	}
}

// TestSweepDispatchesStrandedUpdate: an update stored in the inbox but
// never handed to a shard is dispatched by the periodic sweep, not left
// for the next restart (issue 10 item 4).
func TestSweepDispatchesStrandedUpdate(t *testing.T) {
	fake := telegramtest.NewServer("")
	defer fake.Close()
	db := openTestDB(t)
	rec := newRecorder()
	webhookServer(t, fake, db, rec, Config{Shards: 2, Redispatch: 20 * time.Millisecond})
	u := models.Update{ID: 77, Message: &models.Message{ID: 1, From: &models.User{ID: 5}, Chat: models.Chat{ID: 5, Type: models.ChatTypePrivate}, Text: "x"}}
	raw, _ := json.Marshal(u)
	stranded := store.InboxItem{UpdateID: 77, ChatID: 5, Update: raw, ReceivedAt: time.Now().Add(-time.Hour)}
	if _, err := db.Accept([]store.InboxItem{stranded}, 0); err != nil {
		t.Fatal(err)
	}
	if got := rec.waitHandled(t, 5, 1); got[0] != 77 {
		t.Errorf("handled %v; want update 77", got)
	}
}
