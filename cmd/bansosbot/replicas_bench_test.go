package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
)

// BenchmarkPipelineReplicas measures the whole pipeline under a burst:
// 2,000 updates over 50 chats pushed by the fake Bot API through a load
// balancer (webhook mode) to one bbolt process, one PostgreSQL replica, or
// two PostgreSQL replicas on one database; each answered. It reports
// updates per second (first update queued to last answer) and the 50th
// and 99th percentile of an update's time from being queued at "Telegram"
// to its answer arriving there (observed every 2 ms). Run once:
//
//	BANSOSBOT_TEST_POSTGRES=postgres://... go test ./cmd/bansosbot -run '^$' -bench PipelineReplicas -benchtime 1x
func BenchmarkPipelineReplicas(b *testing.B) {
	for _, c := range []struct {
		name     string
		pg       bool
		replicas int
	}{{"bbolt", false, 1}, {"postgres-1", true, 1}, {"postgres-2", true, 2}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				pipelineBurst(b, c.pg, c.replicas)
			}
		})
	}
}

func pipelineBurst(b *testing.B, pg bool, replicas int) {
	const chats, perChat = 50, 40
	fake := telegramtest.NewServer(testToken)
	defer fake.Close()
	lb := &loadBalancer{client: &http.Client{Timeout: 10 * time.Second}}
	front := httptest.NewServer(lb)
	defer front.Close()
	dir := b.TempDir()
	url := ""
	if pg {
		_, url = pgtest.Schema(b)
		// Commits wait for the disk, as bbolt's fsync does.
		url = strings.Replace(url, "&synchronous_commit=off", "", 1)
	}
	var ms []*Main
	for i := range replicas {
		addr := freePortB(b)
		lb.targets = append(lb.targets, addr)
		cfg := Config{Token: testToken, APIURL: fake.URL(), DataDir: filepath.Join(dir, fmt.Sprint(i)), TZ: "Asia/Jakarta",
			Log: benchLevel, Secret: "e2e-secret-0123456789abcdef", DatabaseURL: url,
			WebhookURL: front.URL + "/hook", WebhookListen: addr, WebhookSecret: "bench-secret"}
		m := NewMain(cfg, benchLog)
		m.Tune = func(c *bot.Config) { c.Limits.PerChat = 5 * time.Millisecond; c.Limits.Global = 1000 }
		m.TuneEngine = func(c *flows.Config) { c.Limits.MessagesPerMinute = 10000 }
		if err := m.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		ms = append(ms, m)
	}
	if pg && replicas > 1 { // wait until the shards are spread
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			spread := true
			for _, m := range ms {
				spread = spread && len(m.Server.LeasesHeld()) >= 64/replicas
			}
			if spread {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("shards never spread")
			}
		}
	}
	users := make([]telegramtest.User, chats)
	for i := range users {
		users[i] = telegramtest.User{ID: int64(5000 + i), FirstName: "U", LanguageCode: "id"}
	}
	queued := make([][]time.Time, chats) // per chat, when each update was queued
	answered := make([][]time.Time, chats)
	var mu sync.Mutex
	done := make(chan struct{})
	go func() { // watch the answers arrive
		defer close(done)
		for {
			total := 0
			now := time.Now()
			mu.Lock()
			for i, u := range users {
				for n := len(fake.BotMessages(u.ID)); len(answered[i]) < n; {
					answered[i] = append(answered[i], now)
				}
				total += len(answered[i])
			}
			mu.Unlock()
			if total >= chats*perChat {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	start := time.Now()
	b.ResetTimer()
	for j := 0; j < perChat; j++ {
		for i, u := range users {
			mu.Lock()
			queued[i] = append(queued[i], time.Now())
			mu.Unlock()
			fake.SendCommand(u, fmt.Sprintf("/c%d_%d", i, j))
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatal("not every update answered within 5 minutes")
	}
	took := time.Since(start)
	b.StopTimer()
	var lat []time.Duration
	for i := range users {
		for k, at := range answered[i] {
			lat = append(lat, at.Sub(queued[i][k]))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(chats*perChat)/took.Seconds(), "updates/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
}

func freePortB(b *testing.B) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}

var (
	benchLog   io.Writer = io.Discard
	benchLevel           = "error,text"
)
