package bot

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"testing"

	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/go-telegram/bot/models"
)

// flaky returns the same counts on every try of an update and fails the
// first one after its writes, as a transaction that runs again does.
type flaky struct {
	counts flows.Counts
	tries  int
}

func (f *flaky) Handle(_ context.Context, tx flows.Store, in flows.Input) (flows.Outcome, error) {
	f.tries++
	if f.tries == 1 {
		return flows.Outcome{Counts: f.counts}, errors.New("transient")
	}
	return flows.Outcome{Counts: f.counts}, nil
}

func (f *flaky) Commands() []flows.Command { return nil }

// TestUpdateCountsWrittenOnce: the counts of an update's outcome are
// written in its transaction: a try that failed counts nothing, the one
// that commits counts once, the update delivered again counts nothing
// more, and the counts are still there after a restart.
func TestUpdateCountsWrittenOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bansosbot.db")
	db, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	h := &flaky{counts: flows.Counts{
		Lookups:     map[flows.LookupResult]uint64{flows.LookupAnswered: 1},
		Refusals:    map[flows.RateLimit]uint64{flows.LimitMessages: 2, flows.LimitGroups: 1},
		Escalations: map[string]uint64{"warning": 1},
		Unrouted:    1,
	}}
	s, err := New(Config{Token: "1:test", APIURL: "http://127.0.0.1:1"}, Adapt(db), h)
	if err != nil {
		t.Fatal(err)
	}
	u := &models.Update{ID: 11, Message: &models.Message{ID: 1, Chat: models.Chat{ID: 5, Type: models.ChatTypePrivate}, From: &models.User{ID: 5}, Text: "halo"}}
	up := update{store.InboxItem{UpdateID: u.ID, ChatID: 5}, u}
	s.process(context.Background(), up)
	s.process(context.Background(), up) // delivered twice: already processed
	if h.tries != 2 {
		t.Fatalf("handler ran %d times; want 2 (a failed try, then the one committed)", h.tries)
	}
	db.Close()
	if db, err = store.Open(path, store.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stats, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"registry_lookups/answered":    1,
		"rate_limit_refusals/messages": 2,
		"rate_limit_refusals/groups":   1,
		"escalations/warning":          1,
		"tickets_unrouted":             1,
	}
	got := map[string]uint64{}
	for k, v := range stats {
		if _, ok := want[k]; ok {
			got[k] = v
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("stats = %v; want %v", got, want)
	}
}

// seen notes the transaction a handler was given.
type seen struct{ tx flows.Store }

func (s *seen) Handle(_ context.Context, tx flows.Store, _ flows.Input) (flows.Outcome, error) {
	s.tx = tx
	return flows.Outcome{}, nil
}

func (s *seen) Commands() []flows.Command { return nil }

// TestHandlerGetsTheStoresTx: the engine is given the store's own
// transaction (Adapt passes it on, wrapping nothing), so the flows find
// what the store offers beyond flows.Store by its type: the report
// counters and the dashboard's logins.
func TestHandlerGetsTheStoresTx(t *testing.T) {
	h := &seen{}
	s, err := New(Config{Token: "1:test", APIURL: "http://127.0.0.1:1"}, Adapt(openTestDB(t)), h)
	if err != nil {
		t.Fatal(err)
	}
	u := &models.Update{ID: 12, Message: &models.Message{ID: 1, Chat: models.Chat{ID: 6, Type: models.ChatTypePrivate}, From: &models.User{ID: 6}, Text: "halo"}}
	s.process(context.Background(), update{store.InboxItem{UpdateID: u.ID, ChatID: 6}, u})
	if _, ok := h.tx.(*store.Tx); !ok {
		t.Fatalf("the handler got a %T; want the store's *store.Tx", h.tx)
	}
	if _, ok := h.tx.(flows.TallyStore); !ok {
		t.Error("the handler's transaction hides the report counters")
	}
	if _, ok := h.tx.(flows.DashboardStore); !ok {
		t.Error("the handler's transaction hides the dashboard's logins")
	}
}
