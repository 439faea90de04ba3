package bot

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/clock/clocktest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// The outbox's retries, backoff, rate windows and message ages run on the
// injected clock: these tests move a fake one through outages of minutes
// and days without waiting for them. Waits on the wall clock below are
// hang guards, never measures.

var clockStart = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

// clockRig is a Server in webhook mode on a fake clock, with the store on
// the same clock.
type clockRig struct {
	t    *testing.T
	clk  *clocktest.Fake
	fake *telegramtest.Server
	db   *store.DB
	s    *Server
}

func newClockRig(t *testing.T, cfg Config) *clockRig {
	t.Helper()
	clk := clocktest.New(clockStart)
	fake := telegramtest.NewServer("", telegramtest.WithClock(clk.Now))
	t.Cleanup(fake.Close)
	db, err := store.Open(filepath.Join(t.TempDir(), "bansosbot.db"), store.Options{NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.Clock = clk
	if cfg.Redispatch == 0 {
		cfg.Redispatch = 10000 * time.Hour // the sweep's timer stays out of the way
	}
	s := webhookServer(t, fake, db, newRecorder(), cfg)
	return &clockRig{t: t, clk: clk, fake: fake, db: db, s: s}
}

// guard is a hang guard on the wall clock.
func (r *clockRig) guard() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	r.t.Cleanup(cancel)
	return ctx
}

// send queues one message per token to chat, each as a job does.
func (r *clockRig) send(chat int64, tokens ...string) {
	r.t.Helper()
	for _, tok := range tokens {
		reply := flows.Reply{Action: flows.Send, ChatID: chat, Lang: "id",
			Text: []flows.Msg{flows.T("announce.sub_not_found", "Query", tok)}}
		err := r.s.RunJob(context.Background(), "test", func(Tx) (flows.Outcome, error) { return flows.Outcome{Replies: []flows.Reply{reply}}, nil })
		if err != nil {
			r.t.Fatal(err)
		}
	}
}

// advanceTo moves the clock to at through the sender's timers (it waits
// a minute at most, then looks again).
func (r *clockRig) advanceTo(at time.Time) {
	r.t.Helper()
	for r.clk.Now().Before(at) {
		next := r.clk.Now().Add(time.Minute)
		if at.Before(next) {
			next = at
		}
		r.waitTimer(next)
		r.clk.Set(next)
	}
}

// heads are the first waiting outbox item of each chat (the one the
// sender tries; the others wait behind it).
func (r *clockRig) heads() map[int64]store.OutboxItem {
	r.t.Helper()
	items, err := r.db.Outbox(0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[int64]store.OutboxItem{}
	for _, it := range items {
		if _, ok := out[it.ChatID]; !ok {
			out[it.ChatID] = it
		}
	}
	return out
}

// waitHeads waits until every chat's head has had attempts failed tries,
// or a chat has no head any more.
func (r *clockRig) waitHeads(chats []int64, attempts int) map[int64]store.OutboxItem {
	r.t.Helper()
	ctx := r.guard()
	for {
		h := r.heads()
		ok := true
		for _, c := range chats {
			if it, found := h[c]; found && it.Attempts < attempts {
				ok = false
			}
		}
		if ok {
			return h
		}
		if ctx.Err() != nil {
			tries := map[int64]int{}
			for c, it := range h {
				tries[c] = it.Attempts
			}
			r.t.Fatalf("waiting for %d failed tries of each head; tries by chat: %v", attempts, tries)
		}
		time.Sleep(time.Millisecond)
	}
}

// due is when the sender may try a chat's head again: its retry time,
// and the chat's gap after the failed call (a call Telegram answered,
// even with an error, counts against the chat's send window).
func (r *clockRig) due(it store.OutboxItem, failedAt time.Time) time.Time {
	if gap := failedAt.Add(r.s.cfg.Limits.PerChat + r.s.cfg.Limits.Margin); gap.After(it.NotBefore) {
		return gap
	}
	return it.NotBefore
}

// waitTimer waits until the sender waits on a timer for at (it does once
// it has taken in every result).
func (r *clockRig) waitTimer(at time.Time) {
	r.t.Helper()
	if _, err := r.clk.WaitTimer(r.guard(), at.Equal); err != nil {
		r.t.Fatalf("no timer for %v (now %v; timers %v): %v", at, r.clk.Now(), r.clk.Timers(), err)
	}
}

// runUntil moves the clock from one timer to the next (each within a
// minute, the sender's longest wait) until done holds.
func (r *clockRig) runUntil(what string, done func() bool) {
	r.t.Helper()
	ctx := r.guard()
	for !done() {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		limit := r.clk.Now().Add(time.Minute)
		at, err := r.clk.WaitTimer(wctx, func(at time.Time) bool { return !at.After(limit) })
		cancel()
		if ctx.Err() != nil {
			r.t.Fatalf("waiting for %s (now %v, timers %v, stats %+v, chats waiting %d)", what, r.clk.Now(), r.clk.Timers(), r.fake.Stats(), len(r.heads()))
		}
		if err == nil {
			r.clk.Set(at)
		}
	}
}

func (r *clockRig) botTexts(chat int64) []string {
	var out []string
	for _, e := range r.fake.BotMessages(chat) {
		out = append(out, e.Text)
	}
	return out
}

// TestOutboxRetriesThroughOutage: every send fails for 15 rounds of
// retries (about 10 minutes: more tries than MaxAttempts, less time than
// MaxAge). Each retry comes after the exponential backoff, capped at
// MaxBackoff, and only the head of each chat is tried; nothing is parked,
// and once Telegram answers again everything is delivered in order.
func TestOutboxRetriesThroughOutage(t *testing.T) {
	r := newClockRig(t, Config{})
	chats := []int64{801, 802, 803}
	r.fake.FailChat(801, telegramtest.ServerError(502))
	r.fake.FailChat(802, telegramtest.ServerError(500))
	r.fake.FailChat(803, telegramtest.ProxyError(503))
	for _, c := range chats {
		r.send(c, fmt.Sprintf("c%d-m0", c), fmt.Sprintf("c%d-m1", c), fmt.Sprintf("c%d-m2", c))
	}
	const rounds = 15 // > MaxAttempts (12)
	for k := 1; k <= rounds; k++ {
		h := r.waitHeads(chats, k)
		now := r.clk.Now()
		limit := min(time.Second<<(k-1), time.Minute)
		var first, last time.Time
		for _, c := range chats {
			it := h[c]
			if it.Attempts != k {
				t.Fatalf("round %d: chat %d head has %d tries; want %d", k, c, it.Attempts, k)
			}
			if d := it.NotBefore.Sub(now); d < limit/2 || d > limit {
				t.Errorf("round %d: chat %d retried in %v; want within [%v, %v]", k, c, d, limit/2, limit)
			}
			due := r.due(it, now)
			if first.IsZero() || due.Before(first) {
				first = due
			}
			if due.After(last) {
				last = due
			}
		}
		r.waitTimer(first) // the sender waits for the earliest retry
		if k == rounds {
			break
		}
		r.clk.Set(last)
	}
	if calls := r.fake.Stats()["sendMessage"].Calls; calls != rounds*len(chats) {
		t.Errorf("%d sendMessage calls in %d rounds; want %d: one per chat and round, the head only", calls, rounds, rounds*len(chats))
	}
	if dead, _ := r.db.DeadLetters(); len(dead) != 0 {
		t.Errorf("dead letters after a %v outage: %d; want none (MaxAge not reached)", r.clk.Now().Sub(clockStart), len(dead))
	}
	if down := r.s.APIDownFor(); down != r.clk.Now().Sub(clockStart) {
		t.Errorf("APIDownFor = %v; want the outage so far, %v", down, r.clk.Now().Sub(clockStart))
	}
	r.fake.ClearFaults()
	r.runUntil("delivery after the outage", func() bool {
		for _, c := range chats {
			if len(r.fake.BotMessages(c)) < 3 {
				return false
			}
		}
		return true
	})
	for _, c := range chats {
		got := r.botTexts(c)
		for i, text := range got {
			if want := fmt.Sprintf("c%d-m%d", c, i); !strings.Contains(text, want) {
				t.Errorf("chat %d message %d = %q; want %s (in order)", c, i, text, want)
			}
		}
	}
	if dead, _ := r.db.DeadLetters(); len(dead) != 0 {
		t.Errorf("dead letters after recovery: %d; want none", len(dead))
	}
	if down := r.s.APIDownFor(); down != 0 {
		t.Errorf("APIDownFor after recovery = %v; want 0", down)
	}
}

// TestOutboxParksAfterAttemptsAndAge: a message is given up only once it
// has had MaxAttempts tries and is older than MaxAge, both; then it is
// parked as a dead letter and the chat's next message goes on.
func TestOutboxParksAfterAttemptsAndAge(t *testing.T) {
	const maxAge = 2 * time.Hour
	r := newClockRig(t, Config{MaxAttempts: 3, MaxAge: maxAge, MaxBackoff: 10 * time.Minute})
	chat := []int64{901}
	r.fake.FailNext("sendMessage", 1000, telegramtest.ServerError(502))
	r.send(901, "m0")
	k := 0
	for {
		k++
		h := r.waitHeads(chat, k)
		it, queued := h[901]
		if !queued {
			break // parked
		}
		if k > 100 {
			t.Fatalf("still retrying after %d tries", k)
		}
		r.advanceTo(r.due(it, r.clk.Now()))
	}
	dead, err := r.db.DeadLetters()
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters = %v, %v; want the message", dead, err)
	}
	if !strings.Contains(dead[0].Reason, "retries exhausted") {
		t.Errorf("reason %q; want retries exhausted", dead[0].Reason)
	}
	// Parked at the first failure at or after MaxAge (the tries before it
	// were more than MaxAttempts already), not before.
	age := dead[0].ParkedAt.Sub(clockStart)
	if age < maxAge || age > maxAge+11*time.Minute {
		t.Errorf("parked at age %v; want the first try after %v (backoff at most 10 min)", age, maxAge)
	}
	if k <= 3 { // the k-th try was the last
		t.Errorf("parked after %d tries; the age alone should have kept it longer than MaxAttempts (3)", k)
	}
	r.fake.ClearFaults()
	r.send(901, "m1")
	r.runUntil("the next message", func() bool { return len(r.fake.BotMessages(901)) == 1 })
	if got := r.botTexts(901); !strings.Contains(got[0], "m1") {
		t.Errorf("delivered %q; want m1", got)
	}
}

// TestOutboxRetryAfterHoldsOnlyItsChat: a 429 with retry_after=30 holds
// its chat for 30 s of the clock; other chats are not held.
func TestOutboxRetryAfterHoldsOnlyItsChat(t *testing.T) {
	r := newClockRig(t, Config{})
	r.fake.FailNext("sendMessage", 1, telegramtest.TooManyRequests(30))
	r.send(1001, "held")
	ctx := r.guard()
	if err := r.fake.WaitFor(ctx, func(st *telegramtest.State) bool { return st.Stats()["sendMessage"].TooManyRequests == 1 }); err != nil {
		t.Fatal(err)
	}
	r.waitTimer(clockStart.Add(30 * time.Second))
	r.send(1002, "free")
	if _, err := r.fake.WaitBotMessages(ctx, 1002, 1); err != nil {
		t.Fatalf("another chat held by chat 1001's 429: %v", err)
	}
	r.clk.Set(clockStart.Add(30*time.Second - time.Millisecond))
	if n := len(r.fake.BotMessages(1001)); n != 0 {
		t.Fatalf("chat 1001 sent to before its retry_after: %d messages", n)
	}
	r.clk.Set(clockStart.Add(30 * time.Second))
	if _, err := r.fake.WaitBotMessages(ctx, 1001, 1); err != nil {
		t.Fatalf("not delivered after retry_after: %v", err)
	}
	if n := r.fake.Stats()["sendMessage"].Calls; n != 3 {
		t.Errorf("%d sendMessage calls; want 3 (the 429, the other chat, the retry)", n)
	}
	if dead, _ := r.db.DeadLetters(); len(dead) != 0 {
		t.Errorf("dead letters: %d; want none", len(dead))
	}
}

// TestFailedOpenStopsWhatItStarted: Open fails when the webhook's address
// is taken, after it started the sender, the shards and the sweep; they
// are stopped again (no timer left on the clock) and Close has nothing
// to do.
func TestFailedOpenStopsWhatItStarted(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	fake := telegramtest.NewServer("")
	defer fake.Close()
	clk := clocktest.New(clockStart)
	s, err := New(Config{Token: fake.Token(), APIURL: fake.URL(), Clock: clk,
		WebhookURL: "https://bot.example/hook", WebhookListen: taken.Addr().String(), WebhookServe: true}, Adapt(openTestDB(t)), newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err == nil {
		s.Close()
		t.Fatal("Open on a taken webhook address succeeded")
	}
	if timers := clk.Timers(); len(timers) != 0 {
		t.Errorf("after the failed Open %d timers wait (sender, sweep); want everything stopped", len(timers))
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after a failed Open: %v", err)
	}
}

// TestOutboxOldestHeadFirstWithinLimits: with room for two messages a
// second, the sender starts the oldest waiting heads first, whichever
// chats they belong to, and waits for the global window and each chat's
// gap exactly (its timer is the moment they open).
func TestOutboxOldestHeadFirstWithinLimits(t *testing.T) {
	const margin = time.Millisecond
	r := newClockRig(t, Config{Limits: Limits{Global: 2, PerChat: time.Second, Margin: margin}})
	// Outbox ids 1-5: one message to each of five chats; 6, 7: a second
	// one to the first two.
	chats := []int64{1101, 1102, 1103, 1104, 1105, 1101, 1102}
	var replies []flows.Reply
	for i, chat := range chats {
		replies = append(replies, flows.Reply{Action: flows.Send, ChatID: chat, Lang: "id",
			Text: []flows.Msg{flows.T("announce.sub_not_found", "Query", fmt.Sprintf("m%d", i+1))}})
	}
	if err := r.s.RunJob(context.Background(), "test", func(Tx) (flows.Outcome, error) { return flows.Outcome{Replies: replies}, nil }); err != nil {
		t.Fatal(err)
	}
	slot := time.Second + margin // the global window, and each chat's gap
	// Slot k (at k×slot): m1 m2 | m3 m4 (oldest heads; m6 and m7 wait
	// for their chat's gap) | m5 m6 | m7.
	want := map[string]int{"m1": 0, "m2": 0, "m3": 1, "m4": 1, "m5": 2, "m6": 2, "m7": 3}
	perSlot := []int{2, 2, 2, 1}
	sent := 0
	for k, n := range perSlot {
		sent += n
		if err := r.fake.WaitFor(r.guard(), func(st *telegramtest.State) bool { return st.Stats()["sendMessage"].OK >= sent }); err != nil {
			var got []string
			for _, chat := range chats[:5] {
				for _, e := range r.fake.BotMessages(chat) {
					got = append(got, fmt.Sprintf("%d:%s@+%v", chat, strings.Split(e.Text, `"`)[1], e.Date.Sub(clockStart)))
				}
			}
			t.Fatalf("slot %d: %v (now +%v, timers %v, sent %v)", k, err, r.clk.Now().Sub(clockStart), r.clk.Timers(), got)
		}
		if k == len(perSlot)-1 {
			break
		}
		// Once the sent items are gone from the store, the sender has
		// taken in their answers (each answer's time counts in the
		// window); then it waits for the window: nothing more goes now.
		for ctx := r.guard(); ; time.Sleep(time.Millisecond) {
			if n, _ := r.db.OutboxDepth(); n == len(chats)-sent {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("slot %d: the sent items stay in the outbox", k)
			}
		}
		next := clockStart.Add(time.Duration(k+1) * slot)
		r.waitTimer(next)
		if calls := r.fake.Stats()["sendMessage"].Calls; calls != sent {
			t.Fatalf("slot %d: %d calls; want %d", k, calls, sent)
		}
		r.clk.Set(next)
	}
	for _, chat := range chats[:5] {
		for _, e := range r.fake.BotMessages(chat) {
			tok := strings.Split(e.Text, `"`)[1]
			if got := e.Date.Sub(clockStart); got != time.Duration(want[tok])*slot {
				t.Errorf("%s to chat %d sent at +%v; want +%v", tok, chat, got, time.Duration(want[tok])*slot)
			}
			delete(want, tok)
		}
	}
	if len(want) != 0 {
		t.Errorf("not sent: %v", want)
	}
}
