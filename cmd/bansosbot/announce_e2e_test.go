package main

import (
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
)

// TestE2EAnnouncementCrashAndLimits: an announcement goes out through the
// real bot to every subscriber while other citizens converse, against a
// fake that enforces Telegram's flood limits: no 429 at all, every
// recipient exactly once across a kill -9 in the middle, a citizen who
// blocked the bot counted as such and skipped, the conversations answered.
// (Latency and the share of capacity used are measured in the benchmark,
// not asserted here.)
func TestE2EAnnouncementCrashAndLimits(t *testing.T) {
	t.Parallel() // waits more than it computes: overlaps with the other parallel tests
	e := newE2E(t, telegramtest.WithLimits(telegramtest.TelegramLimits()))
	realLimits := func(m *Main) { m.Tune = func(b *bot.Config) { b.PollTimeout = time.Second } }
	cfg := e.config()
	m := e.start(cfg, realLimits)
	const recipients, blocked = 90, int64(5000)
	err := m.DB.Update(func(tx *store.Tx) error {
		for i := range int64(recipients) {
			id := 5000 + i
			if err := tx.PutProfile(&bansosbot.Profile{UserID: id, Lang: "id", ConsentVersion: bansosbot.ConsentVersion, ConsentAt: time.Now()}); err != nil {
				return err
			}
			if err := tx.PutSubscription(&bansosbot.Subscription{UserID: id, Lang: "id", Regions: []bansosbot.RegionCode{"32.01.01"},
				ConsentAt: time.Now(), NoticeVersion: bansosbot.SubscriptionNoticeVersion}); err != nil {
				return err
			}
		}
		return tx.PutAnnouncement(&bansosbot.Announcement{ID: 1, Author: 700, Region: "32.01", Status: bansosbot.AnnScheduled,
			Text: map[string]string{"id": "Pencairan PKH tahap 4 dimulai Senin."}, CreatedAt: time.Now(), SendAt: time.Now(), Recipients: recipients})
	})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.FailChat(blocked, telegramtest.Forbidden())
	talkers := make([]telegramtest.User, 10)
	for i := range talkers {
		talkers[i] = telegramtest.User{ID: int64(900 + i), FirstName: "T", LanguageCode: "id"}
		e.fake.SendCommand(talkers[i], "/start")
	}
	announced := func(s *telegramtest.State) int {
		n := 0
		for i := range int64(recipients) {
			for _, msg := range s.BotMessages(5000 + i) {
				if strings.Contains(msg.Text, "Pencairan PKH tahap 4") {
					n++
				}
			}
		}
		return n
	}
	ctx := ctxTimeout(t, 60*time.Second)
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool { return announced(s) >= recipients/3 }); err != nil {
		t.Fatalf("waiting for a third of the announcement: %v", err)
	}
	before429 := e.fake.Stats()["sendMessage"].TooManyRequests
	e.fake.Freeze()
	waitStable(t, m.DB)
	m.Kill()
	if err := e.fake.WaitFor(ctx, func(s *telegramtest.State) bool { return s.Held() == 0 }); err != nil {
		t.Fatal(err)
	}
	e.fake.Thaw()
	// Telegram counts the dead process's last second of sends against the
	// new one, which cannot know them: the shipped unit restarts after 5 s
	// (RestartSec), more than that window.
	time.Sleep(1100 * time.Millisecond)

	m2 := e.start(cfg, realLimits)
	defer m2.Close()
	var a *bansosbot.Announcement
	for ctx.Err() == nil {
		m2.DB.View(func(tx *store.Tx) (err error) { a, err = tx.Announcement(1); return err })
		depth, _ := m2.DB.OutboxDepth()
		if a != nil && a.Status == bansosbot.AnnDone && depth == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a == nil || a.Status != bansosbot.AnnDone {
		t.Fatalf("announcement = %+v; want done", a)
	}
	for i := range int64(recipients) {
		id := 5000 + i
		n := 0
		for _, msg := range e.fake.BotMessages(id) {
			if strings.Contains(msg.Text, "Pencairan PKH tahap 4") {
				n++
			}
		}
		if want := map[bool]int{true: 0, false: 1}[id == blocked]; n != want {
			t.Errorf("chat %d got the announcement %d times; want %d", id, n, want)
		}
	}
	if a.Queued != recipients || a.Sent != recipients-1 || a.Blocked != 1 || a.Failed != 0 {
		t.Errorf("counts queued %d sent %d blocked %d failed %d; want %d, %d, 1, 0", a.Queued, a.Sent, a.Blocked, a.Failed, recipients, recipients-1)
	}
	for _, u := range talkers {
		if len(e.fake.BotMessages(u.ID)) == 0 {
			t.Errorf("chat %d: no answer to /start while the announcement went out", u.ID)
		}
	}
	if n := e.fake.Stats()["sendMessage"].TooManyRequests; n != 0 {
		t.Errorf("%d × 429 from the fake (%d before the kill); want none", n, before429)
	}
	t.Logf("announcement: %d queued, %d sent, %d blocked", a.Queued, a.Sent, a.Blocked)
}
