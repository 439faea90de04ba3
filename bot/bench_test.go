package bot_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
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
//	go test ./bot -run '^$' -bench 'Pipeline|Outbox' -benchtime 1x
//
// They report custom metrics (updates/s, latency percentiles, 429s) per run.

var (
	benchUsers   = flag.Int("bench.users", 200, "concurrent users in the pipeline benchmark")
	benchPerUser = flag.Int("bench.per-user", 25, "messages each user sends in the pipeline benchmark")
	benchChats   = flag.Int("bench.chats", 1000, "chats in the outbox benchmark")
	benchMsgs    = flag.Int("bench.msgs", 3000, "messages in the outbox benchmark")
)

const benchToken = "777:bench"

// closedLoop makes users send commands one after the other, each waiting
// for the bot's answer before the next, and measures the round trips.
func closedLoop(b *testing.B, fake *telegramtest.Server, users, perUser int) (rate float64, lat []time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < users; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u := telegramtest.User{ID: int64(10000 + i), FirstName: "B"}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var mine []time.Duration
			for j := 1; j <= perUser; j++ {
				t0 := time.Now()
				fake.SendCommand(u, fmt.Sprintf("/b%d_%d", i, j))
				if _, err := fake.WaitBotMessages(ctx, u.ID, j); err != nil {
					b.Errorf("user %d message %d: %v", i, j, err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	return float64(users*perUser) / time.Since(start).Seconds(), lat
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func report(b *testing.B, name string, rate float64, lat []time.Duration) {
	b.ReportMetric(rate, name+"_updates/s")
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, name+"_p50_ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, name+"_p99_ms")
}

// burst puts users×perUser updates in the fake at once and measures the
// time until every one is answered: throughput without the load
// generator's round trips in the way.
func burst(b *testing.B, fake *telegramtest.Server, users, perUser int) float64 {
	start := time.Now()
	for j := 1; j <= perUser; j++ {
		for i := 0; i < users; i++ {
			fake.SendCommand(telegramtest.User{ID: int64(50000 + i), FirstName: "B"}, fmt.Sprintf("/u%d_%d", i, j))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Stats()["sendMessage"].OK >= users*perUser }); err != nil {
		b.Fatal(err)
	}
	return float64(users*perUser) / time.Since(start).Seconds()
}

// BenchmarkPipeline compares bansosbot (durable inbox, flows engine in a
// group-committed bbolt transaction with fsync, durable outbox) with a bare
// go-telegram/bot echo handler on the same fake, in the same run.
func BenchmarkPipeline(b *testing.B) {
	for n := 0; n < b.N; n++ {
		// Bare echo: tg's own Start(), answering every message directly.
		fake := telegramtest.NewServer(benchToken)
		api, err := tg.New(benchToken, tg.WithServerURL(fake.URL()), tg.WithSkipGetMe(),
			tg.WithDefaultHandler(func(ctx context.Context, api *tg.Bot, u *models.Update) {
				if u.Message != nil {
					api.SendMessage(ctx, &tg.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "echo " + u.Message.Text})
				}
			}))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go api.Start(ctx)
		echoRate, echoLat := closedLoop(b, fake, *benchUsers, *benchPerUser)
		echoBurst := burst(b, fake, *benchUsers*2, *benchPerUser)
		cancel()
		fake.Close()

		// bansosbot.
		fake = telegramtest.NewServer(benchToken)
		db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := bot.New(bot.Config{Token: benchToken, APIURL: fake.URL(), PollTimeout: 5 * time.Second,
			Limits:  bot.Limits{Global: 1 << 20, PerChat: time.Nanosecond, GroupPerMinute: 1 << 20, Margin: time.Nanosecond},
			Workers: 256}, db, flows.NewEngine(flows.Config{}))
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		botRate, botLat := closedLoop(b, fake, *benchUsers, *benchPerUser)
		botBurst := burst(b, fake, *benchUsers*2, *benchPerUser)
		srv.Close()
		db.Close()
		fake.Close()

		report(b, "echo", echoRate, echoLat)
		report(b, "bansosbot", botRate, botLat)
		b.ReportMetric(botRate/echoRate, "ratio")
		b.ReportMetric(echoBurst, "echo_burst_updates/s")
		b.ReportMetric(botBurst, "bansosbot_burst_updates/s")
		b.ReportMetric(botBurst/echoBurst, "burst_ratio")
	}
}

// BenchmarkOutbox queues messages to many chats at once and lets the
// outbox deliver them against a fake that enforces Telegram's limits
// itself (429 with retry_after when a chat or the bot sends too fast).
func BenchmarkOutbox(b *testing.B) {
	limits := bot.Limits{Global: 30, PerChat: time.Second, GroupPerMinute: 20}
	for n := 0; n < b.N; n++ {
		fake := telegramtest.NewServer(benchToken, telegramtest.WithLimits(telegramtest.Limits{
			PerChat: limits.PerChat, PerGroupPerMinute: limits.GroupPerMinute, Global: limits.Global}))
		db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := bot.New(bot.Config{Token: benchToken, APIURL: fake.URL(), Limits: limits, PollTimeout: 5 * time.Second},
			db, flows.NewEngine(flows.Config{}))
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		replies := make([]flows.Reply, 0, *benchMsgs)
		for i := 0; i < *benchMsgs; i++ {
			replies = append(replies, flows.Reply{Action: flows.Send, ChatID: int64(20000 + i%*benchChats),
				Text: []flows.Msg{flows.T("general.unknown_command", "Command", fmt.Sprint(i))}})
		}
		start := time.Now()
		if err := srv.RunJob(context.Background(), "bench", func(*store.Tx) ([]flows.Reply, error) { return replies, nil }); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		err = fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Stats()["sendMessage"].OK >= *benchMsgs })
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		st := fake.Stats()["sendMessage"]
		srv.Close()
		db.Close()
		fake.Close()
		rate := float64(*benchMsgs) / elapsed.Seconds()
		// The best possible time: with a one-second sliding window the k-th
		// message (from 0) can go at floor(k/Global) s; each chat's messages
		// need (n-1) gaps of PerChat. Whichever is slower.
		perChat := float64((*benchMsgs + *benchChats - 1) / *benchChats)
		best := max(float64((*benchMsgs-1)/limits.Global), (perChat-1)*limits.PerChat.Seconds())
		b.ReportMetric(rate, "msgs/s")
		b.ReportMetric(100*best/elapsed.Seconds(), "%_of_limit")
		b.ReportMetric(float64(st.TooManyRequests), "429s")
	}
}
