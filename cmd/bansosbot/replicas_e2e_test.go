package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
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

// TestE2ETwoReplicas is issue 16's acceptance test of several replicas,
// with replicas that are processes of their own (the test binary run as
// the program: replicaMain): two replicas on one PostgreSQL database
// behind a load balancer in webhook mode get a burst of 2,000 updates
// over 50 chats; mid-burst the replica that sends the outbox is killed
// with SIGKILL (nothing of it runs on: its leases are not released, its
// open transactions die with its connections), the other takes its
// shards and the outbox over once its leases expire, and a third replica
// joins, still mid-burst, and takes its share from the survivor. Every
// update is answered exactly once and each chat's answers come in its
// order. Meanwhile the escalation job is started on every live replica at
// each of several moments (the clock moving days on): each
// (ticket, step) fires exactly once, the same steps a single process
// firing them all at the end fires. How long the killed replica's leases
// took to move is logged, not asserted (a minute is the hang guard).
func TestE2ETwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("a burst of 2,000 updates through replica processes")
	}
	_, url := pgtest.Schema(t)
	e := newE2E(t)
	lb := &loadBalancer{client: &http.Client{Timeout: 10 * time.Second}}
	front := httptest.NewServer(lb)
	defer front.Close()
	began := time.Now()
	at := func() time.Duration { return time.Since(began).Round(100 * time.Millisecond) }

	// The engine's clock stands still at t0 but for the escalation
	// rounds, which move it days on (replicaMain).
	t0 := time.Now()
	var offset atomic.Int64
	// The test's own connection to the database: the escalation
	// fixture, who holds which lease, the state at the end.
	cfg := e.config()
	cfg.DataDir, cfg.DatabaseURL = filepath.Join(e.dir, "test"), url
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, _, err := cfg.openStorePG(context.Background(), store.Options{Now: func() time.Time { return t0.Add(time.Duration(offset.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // before the schema is dropped

	var mu sync.Mutex // guards live
	var live []*replicaProc
	setLive := func(ps []*replicaProc) {
		mu.Lock()
		live = ps
		mu.Unlock()
		lb.mu.Lock()
		lb.targets = nil
		for _, p := range ps {
			lb.targets = append(lb.targets, p.addr)
		}
		lb.mu.Unlock()
	}
	var procs []*replicaProc // every replica started, live or not
	spawn := func() *replicaProc {
		i := len(procs)
		env := map[string]string{
			"BANSOSBOT_TOKEN": cfg.Token, "BANSOSBOT_API_URL": cfg.APIURL, "BANSOSBOT_SECRET": cfg.Secret,
			"BANSOSBOT_TZ": cfg.TZ, "BANSOSBOT_LOG": cfg.Log, "BANSOSBOT_DATABASE_URL": url,
			"BANSOSBOT_DATA":        filepath.Join(e.dir, fmt.Sprintf("replica%d", i)),
			"BANSOSBOT_WEBHOOK_URL": front.URL + "/telegram/hook", "BANSOSBOT_WEBHOOK_LISTEN": freePort(t),
			"BANSOSBOT_WEBHOOK_SECRET": "replica-secret",
		}
		p := startReplica(t, i, t0, time.Duration(offset.Load()), env, filepath.Join(e.dir, fmt.Sprintf("replica%d.log", i)))
		procs = append(procs, p)
		return p
	}
	defer func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("replica %d, its log's end:\n%s", p.idx, p.logTail(20))
			}
		}
	}()

	// leases maps each lease held now to its holder, by the database's
	// clock.
	leases := func() map[string]string {
		all, now, err := db.Leases("")
		if err != nil {
			t.Fatal(err)
		}
		held := map[string]string{}
		for _, l := range all {
			if l.Owner != "" && now.Before(l.Expires) {
				held[l.Name] = l.Owner
			}
		}
		return held
	}
	// balanced: every shard held by a live replica, each holding its
	// share.
	balanced := func() bool {
		mu.Lock()
		ps := slices.Clone(live)
		mu.Unlock()
		count := map[string]int{}
		for name, owner := range leases() {
			if strings.HasPrefix(name, "shard/") {
				count[owner]++
			}
		}
		total := 0
		for _, p := range ps {
			if count[p.id] > (64+len(ps)-1)/len(ps) {
				return false
			}
			total += count[p.id]
		}
		return total == 64
	}
	a, b := spawn(), spawn()
	a.waitReady()
	b.waitReady()
	setLive([]*replicaProc{a, b})
	until(t, time.Minute, "both replicas holding half of the shards", balanced)
	t.Logf("%v: two replicas open, holding half of the shards each", at())

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
	fixture(db, t0)

	// Escalation rounds while the burst runs and replicas come and go:
	// at each, every live replica's job starts at once (only the holder
	// of the jobs' lease runs it; a replica killed meanwhile just ends).
	const rounds = 8
	const roundStep = 4 * 24 * time.Hour
	roundsDone := make(chan struct{})
	go func() {
		defer close(roundsDone)
		for r := range rounds {
			offset.Store(int64(time.Duration(r) * roundStep))
			mu.Lock()
			ps := slices.Clone(live)
			mu.Unlock()
			var wg sync.WaitGroup
			for _, p := range ps {
				wg.Add(1)
				go func() { defer wg.Done(); p.escalate(time.Duration(offset.Load())) }()
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
	answers := func() int { return e.fake.Stats()["sendMessage"].OK }
	ctx := ctxTimeout(t, 5*time.Minute)
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool {
		return s.PendingUpdates() <= chats*perChat*2/3 && s.Stats()["sendMessage"].OK >= 100
	}); err != nil {
		t.Fatalf("waiting for a third of the burst: %v", err)
	}

	// Kill the replica sending the outbox, mid-burst. Delivery to
	// Telegram is at least once; to count exactly-once replies, nothing
	// it has in flight reaches "Telegram" (as in crashSafety): the fake
	// holds every call from before the kill, and discards the killed
	// replica's, whose connections the kernel closed.
	victim, survivor := a, b
	held := leases()
	if held["sender"] == b.id {
		victim, survivor = b, a
	}
	e.fake.Freeze()
	waitHeldStable(t, e.fake)
	var taken []string // the killed replica's leases but its liveness
	for name, owner := range leases() {
		if owner == victim.id && !strings.HasPrefix(name, "replica/") {
			taken = append(taken, name)
		}
	}
	killedAt := time.Now()
	victim.kill()
	setLive([]*replicaProc{survivor})
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Held() == 0 }); err != nil {
		t.Fatal(err)
	}
	// Every answer delivered before the kill has a Seq up to killSeq
	// (while frozen the fake delivers no answer; the held ones are
	// discarded at Thaw).
	var killSeq int64
	for _, u := range users {
		for _, m := range e.fake.BotMessages(u.ID) {
			killSeq = max(killSeq, m.Seq)
		}
	}
	e.fake.Thaw()
	shardsTaken := 0
	for _, name := range taken {
		if strings.HasPrefix(name, "shard/") {
			shardsTaken++
		}
	}
	t.Logf("%v: SIGKILL to replica %d (leases: %d shards and %v) after %d answers", at(), victim.idx, shardsTaken, slices.DeleteFunc(slices.Clone(taken), func(n string) bool { return strings.HasPrefix(n, "shard/") }), answers())

	// Its leases expire; the survivor takes them, the outbox among them.
	until(t, time.Minute, "the killed replica's leases taken over", func() bool {
		held := leases()
		for _, name := range taken {
			if held[name] != survivor.id {
				return false
			}
		}
		return true
	})
	t.Logf("%v: the killed replica's leases taken over %v after SIGKILL (the default LeaseTTL is 5 s), at %d answers",
		at(), time.Since(killedAt).Round(10*time.Millisecond), answers())

	// A new replica joins, mid-burst, and takes its share from the
	// survivor.
	c := spawn()
	c.waitReady()
	joined := time.Now()
	setLive([]*replicaProc{survivor, c})
	until(t, time.Minute, "the newcomer taking half of the shards", balanced)
	t.Logf("%v: the newcomer holds half of the shards %v after it opened, at %d answers (%d updates still at Telegram)",
		at(), time.Since(joined).Round(10*time.Millisecond), answers(), e.fake.WebhookInfo().PendingUpdateCount)

	// Every command answered.
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool {
		n := 0
		for _, u := range users {
			n += len(s.BotMessages(u.ID))
		}
		return n >= chats*perChat
	}); err != nil {
		t.Fatalf("waiting for %d answers (have %d): %v", chats*perChat, e.totalBotMessages(users), err)
	}
	t.Logf("%v: every command answered", at())
	<-roundsDone
	// Rounds find nobody holding the jobs' lease while the killed
	// replica's lease runs out (the cron schedule would come back a
	// minute later): one more run at the last round's time, on whichever
	// replica holds it now.
	until(t, time.Minute, "a replica holding the jobs' lease", func() bool {
		owner := leases()["cron"]
		return owner == survivor.id || owner == c.id
	})
	for _, p := range []*replicaProc{survivor, c} {
		p.escalate(time.Duration(offset.Load()))
	}
	// A clean stop: the outbox flushed, nothing sent after it. Anything
	// sent twice has arrived.
	survivor.close()
	c.close()

	for _, p := range procs {
		if races := p.logLines("DATA RACE"); len(races) > 0 {
			t.Errorf("replica %d: the race detector reported %d races; its log: %s", p.idx, len(races), p.logPath)
		}
		// Tried again at once (bot/lease.go): a figure, not a failure.
		t.Logf("replica %d: %d streaks of failed lease renewals", p.idx, len(p.logLines("leases: renewal failed")))
	}
	// Delivery to Telegram is at least once around a crash: answers the
	// killed sender delivered but had not yet marked delivered in the
	// outbox (the marks commit in batches, off the send path) are sent
	// again by the next sender (Telegram has no idempotency key; losing
	// them instead would be worse). Such a replay repeats an answer first
	// delivered before the kill, after it, and only one of the chat's
	// last replayWindow answers before the kill (those delivered since
	// the last batch of marks); they are counted and removed. Then each
	// chat must have its commands answered exactly once, in order: an
	// update handled twice (a second outbox item), a duplicate first
	// delivered after the kill, a loss or any other disorder fails.
	const replayWindow = 8 // per chat: see the bound below
	replays := 0
	for i, u := range users {
		var got, before []string
		first := map[string]int64{} // command -> Seq of its first answer
		for _, msg := range e.fake.BotMessages(u.ID) {
			cmd := extractCommand(msg.Text)
			if at, seen := first[cmd]; seen {
				if k := slices.Index(before, cmd); at <= killSeq && msg.Seq > killSeq && k >= len(before)-replayWindow {
					replays++
					continue
				}
				got = append(got, cmd) // a duplicate that is no replay: the comparison below fails
				continue
			}
			first[cmd] = msg.Seq
			got = append(got, cmd)
			if msg.Seq <= killSeq {
				before = append(before, cmd)
			}
		}
		var want []string
		for j := 1; j <= perChat; j++ {
			want = append(want, fmt.Sprintf("/c%d_%d", i, j))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("chat %d answers (replays of the kill removed) = %v; want each command answered once, in order: %v", u.ID, got, want)
			for _, p := range procs {
				for _, l := range p.logLines(fmt.Sprintf("chat %d ", u.ID)) {
					t.Logf("replica %d: %s", p.idx, l)
				}
			}
		}
	}
	// The sender keeps at most a few answers of a chat delivered and not
	// yet marked (1-2 seen under load: a batch of marks commits within a
	// few of a chat's sends): a replay of more than that is no longer
	// "the moments before the kill".
	if limit := replayWindow * chats; replays > limit {
		t.Errorf("%d answers replayed after the kill; want at most %d (the sender's unmarked window)", replays, limit)
	}
	t.Logf("%d answers delivered before the kill were delivered again after it (at least once around a crash)", replays)
	if n, _ := db.InboxDepth(); n != 0 {
		t.Errorf("inbox holds %d updates at the end; want 0", n)
	}
	if dead, _ := db.DeadLetters(); len(dead) != 0 {
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
	got := steps(db)
	now := func() time.Time { return t0.Add(time.Duration(offset.Load())) }
	ref, err := store.Open(filepath.Join(t.TempDir(), "ref.db"), store.Options{Now: now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	fixture(ref, t0)
	m := NewMain(cfg, testWriter{t})
	m.Now = now
	ecfg, err := m.engineConfig()
	if err != nil {
		t.Fatal(err)
	}
	engine := flows.NewEngine(ecfg)
	for more := true; more; {
		err := ref.Update(func(tx *store.Tx) (err error) {
			_, more, err = engine.Escalate(context.Background(), tx, now(), 200)
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
