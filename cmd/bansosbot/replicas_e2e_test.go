package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
)

// loadBalancer stands in front of the replicas' webhook listeners as a
// load balancer would: each request goes to the next replica in turn, and
// to the other one when that fails (connection refused, 5xx), as Telegram
// would retry it.
type loadBalancer struct {
	mu      sync.Mutex
	targets []string // host:port of each replica
	next    atomic.Uint64
	client  *http.Client
}

func (b *loadBalancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	targets := slices.Clone(b.targets)
	b.mu.Unlock()
	first := int(b.next.Add(1))
	for k := range targets {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, "http://"+targets[(first+k)%len(targets)]+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			continue
		}
		w.WriteHeader(resp.StatusCode)
		return
	}
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

// TestE2ETwoReplicas is issue 16's acceptance test of several replicas:
// two bot processes on one PostgreSQL database behind a load balancer in
// webhook mode get a burst of 2,000 updates over 50 chats; mid-burst the
// replica that sends the outbox is killed (no clean stop: its leases are
// not released), the other takes its shards and the outbox over when its
// leases expire, and a third replica joins later and takes its share.
// Every update is answered exactly once and each chat's answers come in
// its order. Meanwhile the escalation job is started on every live replica
// at each of several moments (the clock moving days on): each
// (ticket, step) fires exactly once, the same steps a single process
// firing them all at the end fires.
func TestE2ETwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("a burst of 2,000 updates through two replicas")
	}
	_, url := pgtest.Schema(t)
	e := newE2E(t)
	lb := &loadBalancer{client: &http.Client{Timeout: 10 * time.Second}}
	front := httptest.NewServer(lb)
	defer front.Close()
	rec := &handleLog{}

	// The engine's clock stands still but for the escalation rounds,
	// which move it days on.
	var offset atomic.Int64
	t0 := time.Now()
	now := func() time.Time { return t0.Add(time.Duration(offset.Load())) }
	addrs := []string{freePort(t), freePort(t)}
	lb.targets = addrs
	replicaConfig := func(i int) Config {
		cfg := e.config()
		cfg.DataDir = filepath.Join(e.dir, fmt.Sprintf("replica%d", i))
		cfg.DatabaseURL = url
		cfg.WebhookURL, cfg.WebhookListen, cfg.WebhookSecret = front.URL+"/telegram/hook", addrs[i], "replica-secret"
		return cfg
	}
	start := func(i int) *Main {
		return e.start(replicaConfig(i), func(m *Main) {
			m.Now = now
			tune := m.Tune
			m.Tune = func(b *bot.Config) { tune(b); b.ReplicaID = fmt.Sprintf("r%d-%d", i, time.Now().UnixNano()) }
			m.TuneEngine = func(c *flows.Config) { c.Limits.MessagesPerMinute = 10000 } // 40 messages a chat in seconds
			m.Wrap = func(h bot.Handler) bot.Handler { return &recorder{Handler: h, id: i, rec: rec} }
		})
	}

	defer func() {
		if t.Failed() {
			rec.mu.Lock()
			for _, l := range rec.lines {
				if strings.Contains(l, rec.focus) {
					t.Log(l)
				}
			}
			rec.mu.Unlock()
		}
	}()
	var mu sync.Mutex // guards live
	live := []*Main{start(0), start(1)}
	defer func() {
		mu.Lock()
		for _, m := range live {
			m.Close()
		}
		mu.Unlock()
	}()
	shards := func(m *Main) (n int, sender bool) {
		for _, l := range m.Server.LeasesHeld() {
			n += map[bool]int{true: 1}[strings.HasPrefix(l, "shard/")]
			sender = sender || l == "sender"
		}
		return n, sender
	}
	e.until("both replicas holding half of the shards", func() bool {
		a, _ := shards(live[0])
		b, _ := shards(live[1])
		return a == 32 && b == 32
	})

	// The escalation fixture: a supervisor and overdue tickets.
	const tickets = 20
	fixture := func(db *store.DB, base time.Time) {
		t.Helper()
		err := db.Update(func(tx *store.Tx) error {
			if err := tx.PutStaff(&bansosbot.Staff{UserID: 7104, Name: "Dewi Lestari", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32.01"}, Active: true}); err != nil {
				return err
			}
			for i := range tickets {
				seq, err := tx.NextTicketSeq()
				if err != nil {
					return err
				}
				created := base.Add(-time.Duration(10+i) * 24 * time.Hour)
				tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("fixture")), Category: "OTHER", Region: "32.01.01",
					Description: "Rumah Bu Wati belum didata", Status: bansosbot.StatusNew, CreatedAt: created,
					DueResponse: created.Add(5 * 24 * time.Hour), DueResolve: created.Add(40 * 24 * time.Hour), NextCheck: base.Add(-time.Hour)}
				if err := tx.PutTicket(tk); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	base := now()
	fixture(live[0].DB, base)

	// Escalation rounds while the burst runs and replicas come and go:
	// at each, every live replica's job starts at once (only the holder
	// of the jobs' lease runs it).
	const rounds = 8
	roundsDone := make(chan struct{})
	go func() {
		defer close(roundsDone)
		for r := range rounds {
			offset.Store(int64(time.Duration(r) * 4 * 24 * time.Hour))
			mu.Lock()
			ms := slices.Clone(live)
			mu.Unlock()
			var wg sync.WaitGroup
			for _, m := range ms {
				wg.Add(1)
				// A replica killed meanwhile stops its job (Kill cancels it).
				go func() { defer wg.Done(); m.job("escalation", m.escalate)() }()
			}
			wg.Wait()
			time.Sleep(700 * time.Millisecond)
		}
	}()

	// The burst: 40 commands in each of 50 chats, interleaved.
	const chats, perChat = 50, 40
	users := make([]telegramtest.User, chats)
	for i := range users {
		users[i] = telegramtest.User{ID: int64(2000 + i), FirstName: fmt.Sprintf("U%d", i), LanguageCode: "id"}
	}
	for j := 1; j <= perChat; j++ {
		for i, u := range users {
			e.fake.SendCommand(u, fmt.Sprintf("/c%d_%d", i, j))
		}
	}
	ctx := ctxTimeout(t, 5*time.Minute)
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool {
		return s.PendingUpdates() <= chats*perChat*2/3 && s.Stats()["sendMessage"].OK >= 100
	}); err != nil {
		t.Fatalf("waiting for a third of the burst: %v", err)
	}

	// Kill the replica sending the outbox, mid-burst. Delivery to
	// Telegram is at least once; to count exactly-once replies, nothing
	// it has in flight reaches "Telegram" (as in crashSafety).
	mu.Lock()
	victim := 0
	if _, s := shards(live[1]); s {
		victim = 1
	}
	e.fake.Freeze()
	waitHeldStable(t, e.fake)
	live[victim].Kill()
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Held() == 0 }); err != nil {
		t.Fatal(err)
	}
	e.fake.Thaw()
	survivor := live[1-victim]
	live = []*Main{survivor}
	mu.Unlock()
	t.Logf("killed replica %d after %d answers", victim, e.fake.Stats()["sendMessage"].OK)

	// Its leases expire; the survivor takes every shard and the outbox.
	until(t, 30*time.Second, "the survivor holding every shard and the outbox", func() bool {
		n, s := shards(survivor)
		return n == 64 && s
	})
	// A new replica joins on the killed one's address and takes its share.
	mu.Lock()
	live = append(live, start(victim))
	mu.Unlock()
	until(t, 30*time.Second, "the newcomer taking half of the shards", func() bool {
		a, _ := shards(live[0])
		b, _ := shards(live[1])
		return a == 32 && b == 32
	})

	// Every command answered once, in its chat's order.
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool {
		n := 0
		for _, u := range users {
			n += len(s.BotMessages(u.ID))
		}
		return n >= chats*perChat
	}); err != nil {
		t.Fatalf("waiting for %d answers (have %d): %v", chats*perChat, e.totalBotMessages(users), err)
	}
	<-roundsDone
	// Rounds find nobody holding the jobs' lease while a killed replica's
	// lease runs out (the cron schedule would come back a minute later):
	// one more run at the last round's time, on whichever replica holds
	// it now.
	mu.Lock()
	until(t, 30*time.Second, "a replica holding the jobs' lease", func() bool {
		return live[0].Server.RunsJobs() || live[1].Server.RunsJobs()
	})
	for _, m := range live {
		m.job("escalation", m.escalate)()
	}
	mu.Unlock()
	mu.Lock()
	for _, m := range live {
		if err := m.Server.Flush(10 * time.Second); err != nil && m.Server.RunsJobs() {
			t.Log(err)
		}
	}
	mu.Unlock()
	time.Sleep(500 * time.Millisecond) // anything sent twice would arrive now
	for i, u := range users {
		var got []string
		for _, msg := range e.fake.BotMessages(u.ID) {
			got = append(got, extractCommand(msg.Text))
		}
		var want []string
		for j := 1; j <= perChat; j++ {
			want = append(want, fmt.Sprintf("/c%d_%d", i, j))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("chat %d answers = %v; want each command answered once, in order: %v", u.ID, got, want)
			rec.focus = fmt.Sprintf("chat %d ", u.ID)
		}
	}
	if n, _ := live[0].DB.InboxDepth(); n != 0 {
		t.Errorf("inbox holds %d updates at the end; want 0", n)
	}
	if dead, _ := live[0].DB.DeadLetters(); len(dead) != 0 {
		t.Errorf("%d dead letters; want none: %+v", len(dead), dead[0])
	}

	// Each (ticket, step) fired once, and the same steps as one process
	// firing them all at the last round's time.
	steps := func(db *store.DB) map[uint64][]string {
		out := map[uint64][]string{}
		err := db.View(func(tx *store.Tx) error {
			for id := uint64(1); id <= tickets; id++ {
				events, err := tx.Events(id)
				if err != nil {
					return err
				}
				for _, ev := range events {
					if ev.Kind == bansosbot.EventEscalated {
						out[id] = append(out[id], ev.Args["step"])
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := steps(live[0].DB)
	ref, err := store.Open(filepath.Join(t.TempDir(), "ref.db"), store.Options{Now: now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	fixture(ref, base)
	for more := true; more; {
		err := ref.Update(func(tx *store.Tx) (err error) {
			_, more, err = live[0].Engine.Escalate(context.Background(), tx, now(), 200)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := steps(ref)
	total := 0
	for id := uint64(1); id <= tickets; id++ {
		total += len(got[id])
		if strings.Join(got[id], " ") != strings.Join(want[id], " ") {
			t.Errorf("ticket %d escalation steps = %v; want each once: %v", id, got[id], want[id])
		}
	}
	if total < 2*tickets {
		t.Errorf("%d escalation steps fired over %d tickets; want at least two each", total, tickets)
	}
	t.Logf("%d escalation steps fired over %d rounds", total, rounds)
}

// until polls cond on the wall clock.
func until(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
	}
}

// waitHeldStable waits until the frozen fake's held requests stop
// changing for 300 ms: every call under way has either been answered
// (and its answer is recorded by the sender) or is held.
func waitHeldStable(t *testing.T, fake *telegramtest.Server) {
	t.Helper()
	held := func() (n int) {
		fake.WaitFor(context.Background(), func(s *telegramtest.State) bool { n = s.Held(); return true })
		return n
	}
	last, since := -1, time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n := held(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 300*time.Millisecond {
			return
		}
	}
	t.Fatal("the held requests never settled")
}

// TestE2ETwoReplicasPolling: two replicas in long-polling mode on one
// database: one polls at a time (Telegram answers a second concurrent
// getUpdates with 409 Conflict, which never happens), both process their
// shards, and when the polling replica stops the other takes polling
// over.
func TestE2ETwoReplicasPolling(t *testing.T) {
	_, url := pgtest.Schema(t)
	e := newE2E(t)
	start := func(i int) *Main {
		cfg := e.config()
		cfg.DataDir = filepath.Join(e.dir, fmt.Sprintf("replica%d", i))
		cfg.DatabaseURL = url
		return e.start(cfg)
	}
	a, b := start(0), start(1)
	defer func() { b.Close() }()
	send := func(round int) []telegramtest.User {
		var users []telegramtest.User
		for i := range 10 {
			users = append(users, telegramtest.User{ID: int64(3000 + i), FirstName: "P", LanguageCode: "id"})
		}
		for j := 1; j <= 5; j++ {
			for i, u := range users {
				e.fake.SendCommand(u, fmt.Sprintf("/c%d_%d", i, round*5+j))
			}
		}
		return users
	}
	check := func(users []telegramtest.User, n int) {
		t.Helper()
		for i, u := range users {
			msgs := e.waitBot(u.ID, n)
			var got, want []string
			for _, m := range msgs {
				got = append(got, extractCommand(m.Text))
			}
			for j := 1; j <= n; j++ {
				want = append(want, fmt.Sprintf("/c%d_%d", i, j))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("chat %d answers = %v; want %v", u.ID, got, want)
			}
		}
	}
	users := send(0)
	check(users, 5)
	if n := e.fake.Stats()["getUpdates"].OtherError; n != 0 {
		t.Errorf("%d getUpdates answered with an error (409: two replicas polling); want 0", n)
	}
	pollers := 0
	for _, m := range []*Main{a, b} {
		if slices.Contains(m.Server.LeasesHeld(), "poller") {
			pollers++
		}
	}
	if pollers != 1 {
		t.Errorf("%d replicas hold the poller lease; want 1", pollers)
	}
	// /readyz: the replica that does not send leaves the outbox to the
	// one that does (a backlog there must not take it out of the load
	// balancer).
	for _, m := range []*Main{a, b} {
		want := "ok"
		if !m.Server.Sends() {
			want = "ok: another replica sends the outbox"
		}
		if got := m.status().Checks["outbox"]; got != want {
			t.Errorf("replica sending=%v: checks.outbox = %q; want %q", m.Server.Sends(), got, want)
		}
	}
	if a.Server.Sends() == b.Server.Sends() {
		t.Errorf("both replicas sending = %v; want exactly one", a.Server.Sends())
	}
	// The poller (whichever) stops cleanly; the other polls from then on.
	if slices.Contains(a.Server.LeasesHeld(), "poller") {
		a, b = b, a
	}
	b.Close()
	b = a
	send(1)
	check(users, 10)
}

type handleLog struct {
	mu    sync.Mutex
	lines []string
	focus string
}

type recorder struct {
	bot.Handler
	id  int
	rec *handleLog
}

func (r *recorder) Handle(ctx context.Context, tx flows.Store, in flows.Input) ([]flows.Reply, error) {
	out, err := r.Handler.Handle(ctx, tx, in)
	r.rec.mu.Lock()
	r.rec.lines = append(r.rec.lines, fmt.Sprintf("%s replica %d chat %d %s update %d err %v", time.Now().Format("05.000"), r.id, in.ChatID, in.Text, in.UpdateID, err))
	r.rec.mu.Unlock()
	return out, err
}
