package bot_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Load benchmarks: run with
//
//	go test ./bot -run '^$' -bench Pipeline -benchtime 1x -count 3
//	go test ./bot -run '^$' -bench Outbox -benchtime 1x -count 3 -timeout 60m
//
// They report custom metrics (updates/s, latency percentiles, CPU time,
// allocations and allocated KB per update, shares of the limits, 429s, peak RSS) per run, and fail on
// any 429 and on any chat whose answers arrive out of order (or are
// missing or doubled). A CPU profile of the pipeline benchmark
// (-cpuprofile) tells the systems apart by the label system (echo,
// bansosbot): go tool pprof -tagfocus system=bansosbot.

var (
	benchChats   = flag.String("bench.chats", "1,64,200", "closed-loop chat counts of the pipeline benchmark (one sub-benchmark each)")
	benchPerUser = flag.Int("bench.per-user", 25, "messages each chat sends in the closed loop (at least)")
	benchSamples = flag.Int("bench.samples", 1000, "at least this many measured round trips per closed loop (a single chat sends that many)")
	benchBurst   = flag.Int("bench.burst-users", 400, "chats of the burst (each sends bench.per-user messages at once)")
	benchWorkers = flag.Int("bench.workers", 0, "bansosbot's send workers (0: its default, 32)")
)

const (
	benchToken       = "777:bench"
	benchPollTimeout = 5 * time.Second
	// defaultWorkers is bot.Config's default Workers; both systems' HTTP
	// clients are sized from it when -bench.workers is 0.
	defaultWorkers = 32
)

// benchClient is the HTTP client both the echo baseline and bansosbot get:
// the transport bot.Config builds by default (an idle connection per send
// worker and the poller), so neither side redials where the other does not.
func benchClient() *http.Client {
	w := *benchWorkers
	if w <= 0 {
		w = defaultWorkers
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = w+8, w+8
	return &http.Client{Timeout: benchPollTimeout + 15*time.Second, Transport: tr}
}

// system is a bot under test on its own fake.
type system struct {
	name string
	fake *telegramtest.Server
	stop func()
	// ordered: the system promises each chat's answers in order (the echo
	// baseline does not: one goroutine per update).
	ordered bool
}

func startEcho(b *testing.B) *system {
	fake := telegramtest.NewServer(benchToken)
	api, err := tg.New(benchToken, tg.WithServerURL(fake.URL()), tg.WithSkipGetMe(),
		tg.WithHTTPClient(benchPollTimeout, benchClient()),
		tg.WithDefaultHandler(func(ctx context.Context, api *tg.Bot, u *models.Update) {
			if u.Message != nil {
				api.SendMessage(ctx, &tg.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "echo " + u.Message.Text})
			}
		}))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { api.Start(ctx); close(done) }()
	return &system{name: "echo", fake: fake, stop: func() { cancel(); <-done; fake.Close() }}
}

// startBansosbot runs the whole pipeline (durable inbox, flows engine in a
// group-committed bbolt transaction with fsync, durable outbox) with its
// default shards and workers; the limits are lifted so that only the
// pipeline's own speed counts (the fake enforces none either).
func startBansosbot(b *testing.B, fake *telegramtest.Server, limits bot.Limits) (*system, *bot.Server) {
	if fake == nil {
		fake = telegramtest.NewServer(benchToken)
	}
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := bot.New(bot.Config{Token: benchToken, APIURL: fake.URL(), PollTimeout: benchPollTimeout,
		Limits: limits, Workers: *benchWorkers, HTTPClient: benchClient()}, bot.Adapt(db), benchEngine())
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	return &system{name: "bansosbot", fake: fake, ordered: true, stop: func() { srv.Close(); db.Close(); fake.Close() }}, srv
}

// benchEngine is the flows engine with its defaults, except that a user may
// send as many messages a minute as the closed loop does (the flood check
// still runs, it just never refuses).
func benchEngine() *flows.Engine {
	lim := flows.DefaultLimits()
	lim.MessagesPerMinute = 1 << 30
	return flows.NewEngine(flows.Config{Limits: lim})
}

var unlimited = bot.Limits{Global: 1 << 20, PerChat: time.Nanosecond, GroupPerMinute: 1 << 20, Margin: time.Nanosecond}

// answers hands the fake's bot messages to per-chat channels, so that each
// simulated user waits only for its own chat (WaitBotMessages would wake
// every waiter on every change of the fake and count its transcript: a load
// of its own at 200 chats).
type answers struct {
	mu     sync.Mutex
	chats  map[int64]chan telegramtest.Entry
	cancel func()
	done   chan struct{}
}

func watchAnswers(fake *telegramtest.Server) *answers {
	events, cancel := fake.Subscribe()
	a := &answers{chats: map[int64]chan telegramtest.Entry{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for ev := range events {
			if ev.Type == telegramtest.EventNew && ev.Entry.IsBotMessage() {
				a.chat(ev.Entry.ChatID) <- ev.Entry
			}
		}
	}()
	return a
}

func (a *answers) chat(id int64) chan telegramtest.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := a.chats[id]
	if ch == nil {
		ch = make(chan telegramtest.Entry, 16)
		a.chats[id] = ch
	}
	return ch
}

func (a *answers) close() { a.cancel(); <-a.done }

// answersTo reports whether text answers the command cmd (the echo repeats
// it, bansosbot names it as unknown).
func answersTo(text, cmd string) bool { return strings.Contains(text+" ", cmd+" ") }

// closedLoop makes users send commands one after the other, each waiting
// for the bot's answer before the next, and measures the round trips: from
// the user's message to the time the fake received the answer (the
// entry's Date, so the load generator's own wake-ups are not counted).
// Each user first sends one unmeasured message (connections, first
// session). A wrong or late answer fails the benchmark.
func closedLoop(b *testing.B, sys *system, users, perUser int) (rate float64, lat []time.Duration) {
	ans := watchAnswers(sys.fake)
	defer ans.close()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var start time.Time
	ready := make(chan struct{})
	var warm sync.WaitGroup
	warm.Add(users)
	for i := 0; i < users; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u := telegramtest.User{ID: int64(10000 + i), FirstName: "B"}
			ch := ans.chat(u.ID)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			roundTrip := func(j int) (time.Duration, bool) {
				cmd := fmt.Sprintf("/b%d_%d", i, j)
				t0 := time.Now()
				sys.fake.SendCommand(u, cmd)
				select {
				case e := <-ch:
					if !answersTo(e.Text, cmd) {
						b.Errorf("%s: chat %d: answer %q to %s", sys.name, u.ID, e.Text, cmd)
						return 0, false
					}
					return e.Date.Sub(t0), true
				case <-ctx.Done():
					b.Errorf("%s: chat %d: no answer to %s", sys.name, u.ID, cmd)
					return 0, false
				}
			}
			_, ok := roundTrip(0)
			warm.Done()
			if !ok {
				return
			}
			<-ready
			mine := make([]time.Duration, 0, perUser)
			for j := 1; j <= perUser; j++ {
				d, ok := roundTrip(j)
				if !ok {
					return
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(i)
	}
	warm.Wait()
	start = time.Now()
	close(ready)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return float64(users*perUser) / time.Since(start).Seconds(), lat
}

// cpuTime is the CPU time (user and system) the test process has used so
// far: bot, fake and load generator. Its growth per update, unlike wall
// time, hardly depends on what else the machine runs, and both systems
// share the fake and the load generator, so the difference between them
// is the bot's own cost.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// work is what the process has spent so far: CPU time (cpuTime) and heap
// allocations (count and bytes; these do not depend on the machine's
// load at all, and the garbage collector's cost follows them).
type work struct {
	cpu           time.Duration
	allocs, bytes uint64
}

func spent() work {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return work{cpu: cpuTime(), allocs: m.Mallocs, bytes: m.TotalAlloc}
}

// report reports the work since w0 per update under the system's name.
func (w0 work) report(b *testing.B, name string, updates float64) {
	w := spent()
	b.ReportMetric(float64((w.cpu-w0.cpu).Microseconds())/updates, name+"_cpu_us/update")
	b.ReportMetric(float64(w.allocs-w0.allocs)/updates, name+"_allocs/update")
	b.ReportMetric(float64(w.bytes-w0.bytes)/1024/updates, name+"_KB/update")
}

// labelled runs f with the profiler label system=name on this goroutine,
// which the goroutines it starts inherit (the system's own, its fake's):
// go tool pprof -tagfocus system=bansosbot shows one system's profile.
func labelled(name string, f func()) {
	pprof.Do(context.Background(), pprof.Labels("system", name), func(context.Context) { f() })
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// no429 fails the benchmark if the fake answered any call with 429.
func no429(b *testing.B, sys *system) {
	b.Helper()
	if n := sys.fake.Stats().Total().TooManyRequests; n > 0 {
		b.Fatalf("%s: %d calls answered 429", sys.name, n)
	}
}

// resetPeakRSS starts a new high-water mark of the process's resident set
// (Linux: writing 5 to clear_refs resets VmHWM to the current RSS).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM from /proc/self/status in MB: the whole test process
// (bot, fake, load generator, bbolt's mapped pages), 0 if unknown.
func peakRSS() float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(s), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func chatCounts(b *testing.B) []int {
	var out []int
	for _, s := range strings.Split(*benchChats, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			b.Fatalf("-bench.chats: bad count %q", s)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkPipeline compares bansosbot with a bare go-telegram/bot echo
// handler (its own Start(), one goroutine per update, SendMessage straight
// back) on the same fake, with the same HTTP transport, in the same run:
//
//   - chats=N: N users each send commands one after the other, waiting for
//     the answer (closed loop); latency percentiles and rates of both, and
//     bansosbot's rate over the echo's ("ratio").
//   - burst: bench.burst-users × bench.per-user updates put in the fake at
//     once; the time until every one is answered.
func BenchmarkPipeline(b *testing.B) {
	for _, users := range chatCounts(b) {
		b.Run(fmt.Sprintf("chats=%d", users), func(b *testing.B) {
			perUser := max(*benchPerUser, (*benchSamples+users-1)/users)
			for n := 0; n < b.N; n++ {
				// The closed loops' updates include each user's unmeasured
				// first one.
				updates := float64(users * (perUser + 1))
				var echoRate, botRate, rss float64
				var echoLat, botLat []time.Duration
				labelled("echo", func() {
					echo := startEcho(b)
					w0 := spent()
					echoRate, echoLat = closedLoop(b, echo, users, perUser)
					w0.report(b, "echo", updates)
					no429(b, echo)
					echo.stop()
				})
				labelled("bansosbot", func() {
					resetPeakRSS()
					bs, _ := startBansosbot(b, nil, unlimited)
					w0 := spent()
					botRate, botLat = closedLoop(b, bs, users, perUser)
					w0.report(b, "bansosbot", updates)
					no429(b, bs)
					rss = peakRSS()
					bs.stop()
				})

				for _, r := range []struct {
					name string
					rate float64
					lat  []time.Duration
				}{{"echo", echoRate, echoLat}, {"bansosbot", botRate, botLat}} {
					b.ReportMetric(r.rate, r.name+"_updates/s")
					b.ReportMetric(ms(percentile(r.lat, 0.50)), r.name+"_p50_ms")
					b.ReportMetric(ms(percentile(r.lat, 0.99)), r.name+"_p99_ms")
				}
				b.ReportMetric(botRate/echoRate, "ratio")
				b.ReportMetric(rss, "bansosbot_peak_RSS_MB")
			}
		})
	}
	b.Run("burst", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			var echoRate, botRate float64
			var echoBreaks int
			labelled("echo", func() {
				echo := startEcho(b)
				echoRate, echoBreaks = burst(b, echo, *benchBurst, *benchPerUser)
				echo.stop()
			})
			labelled("bansosbot", func() {
				bs, _ := startBansosbot(b, nil, unlimited)
				botRate, _ = burst(b, bs, *benchBurst, *benchPerUser)
				bs.stop()
			})
			b.ReportMetric(echoRate, "echo_updates/s")
			b.ReportMetric(botRate, "bansosbot_updates/s")
			b.ReportMetric(botRate/echoRate, "ratio")
			b.ReportMetric(float64(echoBreaks), "echo_chats_out_of_order")
		}
	})
}

var burstSeq = regexp.MustCompile(`/u\d+_(\d+)`)

// burst puts users×perUser updates in the fake at once (after one warm-up
// round trip) and measures the time until every one is answered:
// throughput without the load generator's round trips in the way. The
// answers are counted from the fake's count before the burst. It returns
// the number of chats whose answers came out of order, reports the work
// per update, and fails if an ordered system breaks a chat's order or a
// 429 is received.
func burst(b *testing.B, sys *system, users, perUser int) (rate float64, outOfOrder int) {
	closedLoop(b, sys, 1, 1) // warm up: connections, first transaction
	base := sys.fake.Stats()["sendMessage"].OK
	start, w0 := time.Now(), spent()
	for j := 1; j <= perUser; j++ {
		for i := 0; i < users; i++ {
			sys.fake.SendCommand(telegramtest.User{ID: int64(50000 + i), FirstName: "B"}, fmt.Sprintf("/u%d_%d", i, j))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := sys.fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Stats()["sendMessage"].OK >= base+users*perUser }); err != nil {
		b.Fatalf("%s: %v", sys.name, err)
	}
	rate = float64(users*perUser) / time.Since(start).Seconds()
	w0.report(b, sys.name, float64(users*perUser))
	no429(b, sys)
	for i := 0; i < users; i++ {
		chat := int64(50000 + i)
		var got []int
		for _, e := range sys.fake.BotMessages(chat) {
			m := burstSeq.FindStringSubmatch(e.Text)
			if m == nil {
				b.Fatalf("%s: chat %d: answer %q names no command", sys.name, chat, e.Text)
			}
			k, _ := strconv.Atoi(m[1])
			got = append(got, k)
		}
		if !inSequence(got, 1, perUser) {
			if sys.ordered {
				b.Fatalf("%s: chat %d: answers out of order, missing or doubled: %v", sys.name, chat, got)
			}
			outOfOrder++
		}
	}
	return rate, outOfOrder
}

// inSequence reports whether got is exactly first, first+1, ..., first+n-1.
func inSequence(got []int, first, n int) bool {
	if len(got) != n {
		return false
	}
	for i, k := range got {
		if k != first+i {
			return false
		}
	}
	return true
}

// outboxPart is one kind of chat in an outbox load: chats chats of which
// each gets per messages; groups have negative ids.
type outboxPart struct {
	chats, per int
	group      bool
}

// outboxLoads are the loads of BenchmarkOutbox. Each is sized so that its
// binding limit alone needs about a minute:
//
//   - private: many private chats with few messages each (an
//     announcement): the global 30/s binds.
//   - few_chats: few private chats with many messages each: 1/s per chat
//     binds.
//   - groups: groups at 20/min (21 messages each: the 21st must wait a
//     minute) beside private chats: the group limit binds, the global one
//     is at about three quarters.
//   - mixed: all three limits about equal.
var outboxLoads = []struct {
	name  string
	parts []outboxPart
}{
	{"private", []outboxPart{{chats: 600, per: 3}}},
	{"few_chats", []outboxPart{{chats: 10, per: 60}}},
	{"groups", []outboxPart{{chats: 10, per: 21, group: true}, {chats: 450, per: 3}}},
	{"mixed", []outboxPart{{chats: 5, per: 60}, {chats: 5, per: 21, group: true}, {chats: 500, per: 3}}},
}

var outboxSeq = regexp.MustCompile(`#(\d+)`)

// BenchmarkOutbox queues messages to many chats in one transaction and lets
// the outbox deliver them against a fake that enforces Telegram's limits
// itself (429 with retry_after when a chat, a group or the bot sends too
// fast), with the same limits configured in the outbox. It reports, per
// limit, its lower bound on the time over the time taken ("%_global",
// "%_per_chat", "%_group": the binding limit's share is how close the
// outbox comes to the best possible), the 429s (any fails the benchmark),
// and the process's peak RSS. A chat whose messages arrive out of order,
// doubled or not at all fails it too.
func BenchmarkOutbox(b *testing.B) {
	tl := telegramtest.TelegramLimits()
	limits := bot.Limits{Global: tl.Global, PerChat: tl.PerChat, GroupPerMinute: tl.PerGroupPerMinute}
	for _, load := range outboxLoads {
		b.Run("load="+load.name, func(b *testing.B) {
			// The messages, round-robin over the chats as a job or an
			// announcement would queue them, and the lower bounds.
			type chat struct {
				id   int64
				per  int
				part int // index in load.parts
			}
			var chats []chat
			var boundChat, boundGroup time.Duration
			total, maxPer := 0, 0
			for p, part := range load.parts {
				for c := 0; c < part.chats; c++ {
					id := int64(100000*(p+1) + c)
					if part.group {
						id = -id
						boundGroup = max(boundGroup, time.Duration((part.per-1)/limits.GroupPerMinute)*time.Minute)
					} else {
						boundChat = max(boundChat, time.Duration(part.per-1)*limits.PerChat)
					}
					chats = append(chats, chat{id: id, per: part.per, part: p})
					total += part.per
					maxPer = max(maxPer, part.per)
				}
			}
			// With a one-second sliding window the k-th message (from 0)
			// can go at floor(k/Global) s at the earliest.
			boundGlobal := time.Duration((total-1)/limits.Global) * time.Second
			best := max(boundGlobal, boundChat, boundGroup)
			replies := make([]flows.Reply, 0, total)
			for k := 0; k < maxPer; k++ {
				for _, c := range chats {
					if k < c.per {
						replies = append(replies, flows.Reply{Action: flows.Send, ChatID: c.id,
							Text: []flows.Msg{flows.T("general.unknown_command", "Command", fmt.Sprintf("#%d", k))}})
					}
				}
			}

			for n := 0; n < b.N; n++ {
				fake := telegramtest.NewServer(benchToken, telegramtest.WithLimits(tl))
				resetPeakRSS()
				sys, srv := startBansosbot(b, fake, limits)
				start := time.Now()
				if err := srv.RunJob(context.Background(), "bench", func(bot.Tx) (flows.Outcome, error) { return flows.Outcome{Replies: replies}, nil }); err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				err := fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Stats()["sendMessage"].OK >= total })
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				rss := peakRSS()
				// The time taken is up to the last message's arrival at the fake.
				var last time.Time
				partDone := make([]time.Time, len(load.parts))
				for _, c := range chats {
					msgs := fake.BotMessages(c.id)
					var got []int
					for _, e := range msgs {
						if e.Date.After(last) {
							last = e.Date
						}
						if e.Date.After(partDone[c.part]) {
							partDone[c.part] = e.Date
						}
						m := outboxSeq.FindStringSubmatch(e.Text)
						if m == nil {
							b.Fatalf("chat %d: message %q has no sequence number", c.id, e.Text)
						}
						k, _ := strconv.Atoi(m[1])
						got = append(got, k)
					}
					if !inSequence(got, 0, c.per) {
						b.Fatalf("chat %d: messages out of order, missing or doubled: %v", c.id, got)
					}
				}
				st := fake.Stats()["sendMessage"]
				sys.stop()
				elapsed := last.Sub(start)
				share := func(bound time.Duration) float64 { return 100 * bound.Seconds() / elapsed.Seconds() }
				b.Logf("%s: %d messages in %.1f s (best %.0f s): %.1f%% of the limit (global %.1f%%, per chat %.1f%%, group %.1f%%), %d 429s, peak RSS %.0f MB",
					load.name, total, elapsed.Seconds(), best.Seconds(), share(best), share(boundGlobal), share(boundChat), share(boundGroup),
					st.TooManyRequests, rss)
				for p, part := range load.parts {
					kind := "private chats"
					if part.group {
						kind = "groups"
					}
					b.Logf("  %d %s × %d messages: last delivered at %.1f s", part.chats, kind, part.per, partDone[p].Sub(start).Seconds())
				}
				if st.TooManyRequests > 0 {
					b.Fatalf("%d sends answered 429", st.TooManyRequests)
				}
				b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
				b.ReportMetric(elapsed.Seconds(), "s")
				b.ReportMetric(share(best), "%_of_limit")
				b.ReportMetric(share(boundGlobal), "%_global")
				b.ReportMetric(share(boundChat), "%_per_chat")
				b.ReportMetric(share(boundGroup), "%_group")
				b.ReportMetric(float64(st.TooManyRequests), "429s")
				b.ReportMetric(rss, "peak_RSS_MB")
			}
		})
	}
}
