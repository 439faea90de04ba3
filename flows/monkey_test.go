package flows_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// errorLog is a slog handler that keeps the records at level ERROR and
// above: the monkey test fails on any.
type errorLog struct {
	mu   sync.Mutex
	recs []string
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Message)
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

var monkeySeed = flag.Uint64("monkey.seed", 0, "TestMonkey's random seed (0: a new one)")

// monkeySteps is how many random inputs TestMonkey sends (fewer under the
// race detector, which makes each step about ten times slower).
func monkeySteps() int {
	n := 100_000
	if raceEnabled {
		n = 20_000
	}
	if testing.Short() {
		n /= 10
	}
	return n
}

// TestMonkey sends random input over every flow, as citizens (new and
// onboarded) and staff of every role: presses of buttons the bot really
// showed (to the presser or to someone else, stale or current), such
// buttons with their step, flow or payload changed, step-less copies,
// garbage data; commands with and without arguments, NIK-like and
// 10,000-character texts, empty texts, photos, locations, contacts and
// stickers, in private and group chats; with the clock jumping ahead
// (idle flows, deadlines) and the cron jobs running in between. Every
// input must be answered: an error or a panic from the engine (a dead
// letter in the bot) or an ERROR log line fails the test.
func TestMonkey(t *testing.T) {
	seed := *monkeySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (repeat with -monkey.seed)", seed)
	monkey(t, seed, monkeySteps())
}

func monkey(t *testing.T, seed uint64, steps int) {
	errs := &errorLog{}
	cfg := ckConfig()
	cfg.Log = slog.New(errs)
	cfg.Admins = []int64{901}
	cfg.Limits.MessagesPerMinute = 1000 // the flood limit would answer most inputs by itself
	h := newHarness(t, cfg)
	ckImport(t, h.DB, ckRegistry)
	rng := rand.New(rand.NewPCG(seed, 0x6d6f6e6b6579))

	var users []*user
	for _, id := range []int64{501, 502, 703, 601, 701, 901} {
		users = append(users, h.User(id, "id"))
	}
	for i := range int64(8) {
		u := h.User(100+i, []string{"id", "en", ""}[i%3])
		if i%4 != 0 {
			u.Onboard([]string{"id", "en"}[i%2])
		}
		users = append(users, u)
	}
	addStaff(t, h, 501, "Wati", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, 502, "Budi", bansosbot.RoleWorker, bogor)
	addStaff(t, h, 703, "Camat", bansosbot.RoleSupervisor, cibinong)
	addStaff(t, h, 601, "Rudi", bansosbot.RoleSupervisor, bogor)
	addStaff(t, h, 701, "Putu", bansosbot.RoleSupervisor, jabar)
	cats := []string{"PUNGLI", "OFFICER_MISCONDUCT", "PAYMENT_NOT_RECEIVED", "DATA_ERROR", "INFO_REQUEST", "KKS_CARD"}
	for i := range 12 {
		region := []bansosbot.RegionCode{cibinong, bogor + ".02", sukabumiKec}[i%3]
		fileTicket(t, h, 101+int64(i%7), cats[i%len(cats)], region, "Uraian keluhan yang cukup panjang untuk diterima.")
	}
	h.log.Reset()

	var commands []string
	for _, cmd := range h.Engine.Commands() {
		for _, n := range cmd.Names {
			commands = append(commands, "/"+n)
		}
	}
	commands = append(commands, "/tidakada", "/", "/cek@bansosbot", "/START")
	// pool: every button data the bot showed anyone.
	pool := map[string]bool{}
	var poolList []string
	remember := func(rs []flows.Reply) {
		for _, r := range rs {
			for _, row := range r.Buttons {
				for _, b := range row {
					if !pool[b.Data] {
						pool[b.Data] = true
						poolList = append(poolList, b.Data)
					}
				}
			}
		}
	}
	payloads := []string{"x", "b", "yes", "no", "id", "en", "send", "resume", "discard", "o:1", "a:99999", "w:3", "c:PUNGLI", "r:32", "wy:2", "y:1", "n", "ok", "edit", "again", "rp:320101", "l:-1", "D:501", "d:601"}
	flowNames := []string{"cs", "lg", "mn", "pv", "ck", "rp", "tk", "es", "sf", "wk", "ct", "zz", ""}
	texts := func() string {
		switch rng.IntN(16) {
		case 0:
			if rng.IntN(8) == 0 {
				return strings.Repeat("panjang ", 1250) // 10,000 characters
			}
			return ""
		case 1:
			return "Bantuan belum cair"
		case 2:
			return secNIK
		case 3:
			return "3201 0112 0385 0001"
		case 4:
			return fmt.Sprintf("%016d", rng.Uint64()%1e16)
		case 5:
			return "WAWAN LESTARI"
		case 6:
			return "cibinong"
		case 7:
			return "bogor"
		case 8:
			return fmt.Sprint(rng.IntN(40))
		case 9:
			return "Bantuan PKH tahap ketiga belum masuk ke rekening saya sejak bulan lalu."
		case 10:
			return "081234567890"
		case 11:
			return "   "
		case 12:
			return "\u200b３２０１\u3000<b>&amp;</b>\x00"
		case 13:
			return commands[rng.IntN(len(commands))] + " " + secNIK
		case 14:
			return commands[rng.IntN(len(commands))]
		}
		return "ya"
	}
	data := func(u *user) string {
		switch k := rng.IntN(20); {
		case k < 9: // a button of the presser's last keyboard
			var own []string
			for _, row := range h.keyboards[u.ID] {
				for _, b := range row {
					own = append(own, b.Data)
				}
			}
			if len(own) > 0 {
				d := own[rng.IntN(len(own))]
				if parts := strings.SplitN(d, ".", 3); len(parts) == 3 && rng.IntN(4) == 0 {
					// its current step with another payload
					parts[2] = payloads[rng.IntN(len(payloads))]
					d = strings.Join(parts, ".")
				}
				return d
			}
			fallthrough
		case k < 13: // any button the bot showed anyone
			if len(poolList) > 0 {
				return poolList[rng.IntN(len(poolList))]
			}
			fallthrough
		case k < 17: // a real button changed
			d := "mn..report"
			if len(poolList) > 0 {
				d = poolList[rng.IntN(len(poolList))]
			}
			parts := strings.SplitN(d, ".", 3)
			for len(parts) < 3 {
				parts = append(parts, "")
			}
			switch rng.IntN(5) {
			case 0:
				parts[1] = "" // step-less copy
			case 1:
				parts[1] = fmt.Sprint(rng.IntN(40))
			case 2:
				parts[0] = flowNames[rng.IntN(len(flowNames))]
			case 3:
				parts[2] = payloads[rng.IntN(len(payloads))]
			case 4:
				parts[2] += fmt.Sprint(rng.IntN(10))
			}
			return strings.Join(parts, ".")
		case k < 19: // a flow's prefix with garbage
			return flowNames[rng.IntN(len(flowNames))] + "." + fmt.Sprint(rng.IntN(3)) + "." + string(rune(rng.IntN(0x3000)))
		}
		b := make([]byte, rng.IntN(70))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}

	staff := []*bansosbot.Staff{
		{UserID: 501, Name: "Wati", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{cibinong}},
		{UserID: 502, Name: "Budi", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{bogor}},
		{UserID: 703, Name: "Camat", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{cibinong}},
		{UserID: 601, Name: "Rudi", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{bogor}},
		{UserID: 701, Name: "Putu", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{jabar}},
	}
	cron := func(k int) {
		err := h.DB.Update(func(tx *store.Tx) error {
			for _, s := range staff { // the admin of the monkey deactivates them now and then
				s.Active, s.CreatedAt = true, h.Now()
				if err := tx.PutStaff(s); err != nil {
					return err
				}
			}
			var o flows.Outcome
			var err error
			switch k {
			case 0:
				o, _, err = h.Engine.Escalate(context.Background(), tx, h.Now(), 100)
			case 1:
				o, err = h.Engine.Digest(context.Background(), tx, h.Now())
			case 2:
				o, err = h.Engine.AutoClose(tx, h.Now())
			}
			rs := o.Replies
			remember(rs)
			h.record(rs)
			return err
		})
		if err != nil {
			t.Fatalf("cron job %d: %v", k, err)
		}
	}

	var u *user
	input := func(i int) (*user, flows.Input, string) {
		if u == nil || rng.IntN(4) == 0 { // a user sends a few inputs in a row
			u = users[rng.IntN(len(users))]
		}
		in := u.input()
		in.ChatID, in.ChatType, in.MessageID = u.ID, "private", i+1
		var shown string
		switch k := rng.IntN(20); {
		case k < 10:
			d := data(u)
			in.Callback = &flows.Callback{ID: fmt.Sprint("cb", i), MessageID: 1, Data: d}
			shown = "press " + d
		case k < 17:
			in.Text = texts()
			shown = "text " + quote(in.Text)
		case k == 17:
			in.Photo = &bansosbot.Attachment{FileID: fmt.Sprint("photo-", i), FileUniqueID: fmt.Sprint("u", i), AddedAt: h.Now()}
			in.Text = texts()
			shown = "photo"
		case k == 18:
			switch rng.IntN(3) {
			case 0:
				in.Location = &bansosbot.Location{Lat: -6.48 + rng.Float64(), Lon: 106.85}
			case 1:
				in.Contact = &flows.Contact{Phone: "+6281234567890", UserID: []int64{u.ID, 4242}[rng.IntN(2)]}
			default:
				in.Media = []string{"sticker", "voice", "video", "document"}[rng.IntN(4)]
			}
			shown = "media"
		default: // a group
			in.ChatID, in.ChatType = -100123, "supergroup"
			in.Text = texts()
			shown = "group text " + quote(in.Text)
		}
		if strings.HasPrefix(in.Text, "/") && in.Photo == nil {
			cmd, args, _ := strings.Cut(in.Text, " ")
			in.Command, in.Args = strings.ToLower(cmd), strings.TrimSpace(args)
		}
		return u, in, shown
	}
	handle := func(tx *store.Tx, in flows.Input) (rs []flows.Reply, broken []string, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		o, broken, err := h.handle(tx, in) // refusals_test.go: notes a refusal after a write
		return o.Replies, broken, err
	}

	var dead []string
	fail := func(i int, u *user, shown, why string) {
		dead = append(dead, fmt.Sprintf("step %d, user %d, %s: %s", i, u.ID, shown, why))
		if len(dead) == 1 {
			t.Logf("transcript before the first failure:\n%s", tail(h.log.String(), 6000))
		}
	}
	// The inputs run in transactions of up to batch inputs, as the bot's
	// dispatcher group-commits them (db.Batch).
	const batch = 16
	for i := 0; i < steps && len(dead) < 20; {
		if i%1024 == 0 {
			h.log.Reset() // the transcript is only for the last inputs
		}
		switch r := rng.IntN(1000 / batch); {
		case r < 1:
			h.Advance(time.Duration(rng.IntN(48*60)) * time.Minute)
		case r < 20:
			h.Advance(time.Duration(rng.IntN(120*batch)) * time.Second)
		case r < 22:
			cron(rng.IntN(3))
		}
		err := h.DB.Update(func(tx *store.Tx) error {
			for n := 0; n < batch && i < steps; n, i = n+1, i+1 {
				u, in, shown := input(i)
				h.nextUpdate++
				in.UpdateID = h.nextUpdate
				fmt.Fprintf(&h.log, "→ %d %s\n", in.UserID, shown)
				rs, broken, err := handle(tx, in)
				if err != nil {
					fail(i, u, shown, err.Error())
					continue
				}
				for _, b := range broken {
					fail(i, u, shown, b+" (refusals come before any write)")
				}
				h.record(rs)
				remember(rs)
				if in.Callback != nil && in.ChatType == "private" && !answered(rs) {
					fail(i, u, shown, fmt.Sprintf("button not answered: %v", keysOf(rs)))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(dead) > 0 {
		t.Errorf("%d inputs failed (dead letters in the bot), seed %d:\n%s", len(dead), seed, strings.Join(dead, "\n"))
	}
	if len(errs.recs) > 0 {
		t.Errorf("ERROR log lines: %q", errs.recs)
	}
	t.Logf("%d steps, %d distinct buttons seen", steps, len(poolList))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
