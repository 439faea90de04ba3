package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
)

// The demo runs the real bot against the in-process fake Telegram
// (bot/telegramtest) on a throwaway data directory, and turns the terminal
// into a Telegram chat: type text, or a button's number to press it.

// demoUser is a person the demo can act as.
type demoUser struct {
	role string
	user telegramtest.User
	// staff, when set, is stored before the bot starts.
	staff *bansosbot.Staff
	phone string
}

var demoUsers = []demoUser{
	{role: "citizen", user: telegramtest.User{ID: 1001, FirstName: "Siti", Username: "siti", LanguageCode: "id"}, phone: "+6281234567890"},
	{role: "worker", user: telegramtest.User{ID: 2001, FirstName: "Budi", Username: "budi_pendamping", LanguageCode: "id"},
		staff: &bansosbot.Staff{UserID: 2001, Name: "Budi (pendamping Kab. Bogor)", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01"}, Active: true}},
	{role: "supervisor", user: telegramtest.User{ID: 3001, FirstName: "Rina", Username: "rina_dinsos", LanguageCode: "id"},
		staff: &bansosbot.Staff{UserID: 3001, Name: "Rina (supervisor Jawa Barat)", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32"}, Active: true}},
}

const demoHelp = `Type a message and press Enter to send it to the bot. Type a button's number to press it.
  :as citizen|worker|supervisor   switch who you are (each has their own chat)
  :photo [caption]                send a photo
  :loc [lat lon]                  share a location (default: Cibinong)
  :contact                        share your phone number
  :sticker                        send a sticker
  :voice                          send a voice note (3 seconds)
  :help                           this text
  :quit                           stop (Ctrl-D works too)`

const demoUsage = `Usage: bansosbot demo [--dir DIR] [--as citizen|worker|supervisor]

Runs the real bot against a local fake Telegram and turns this terminal
into the chat (no token needed). Type text, or a button's number to press
it; :help in the demo lists the rest.`

func demoFlags() (fs *flag.FlagSet, dir, as *string, settle *time.Duration) {
	fs = flag.NewFlagSet("demo", flag.ContinueOnError)
	return fs, fs.String("dir", "", "data directory to use (default: a temporary one, removed at the end)"),
		fs.String("as", "citizen", "start as citizen, worker or supervisor"),
		fs.Duration("settle", 400*time.Millisecond, "how long the bot must be quiet before the next input line is sent")
}

func runDemo(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dir, as, quiet := demoFlags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dataDir := *dir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "bansosbot-demo-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}

	cfg.DataDir = dataDir
	cfg.WebhookURL, cfg.HTTP = "", ""
	if cfg.Secret == "" && cfg.SecretFile == "" {
		cfg.Secret = "demo-secret-not-for-production"
	}
	if cfg.Log == "info,text" { // the default: keep the chat readable
		cfg.Log = "warn,text"
	}
	offset, err := seedDemo(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	// A demo directory used before: the bot polls from the offset it
	// stored, so the fake's update ids continue from there (from 1, the
	// bot would skip the first inputs as already seen).
	fake := telegramtest.NewServer("123456:demo-token", telegramtest.WithBot("Bansos Demo", "bansos_demo_bot"),
		telegramtest.WithFirstUpdateID(max(offset, 1)))
	defer fake.Close()
	cfg.Token, cfg.APIURL = fake.Token(), fake.URL()
	m := NewMain(cfg, stderr)
	m.Tune = func(b *bot.Config) {
		b.PollTimeout = 2 * time.Second
		b.Limits.PerChat = 50 * time.Millisecond // a local fake has no flood limits
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()

	d := &demoChat{fake: fake, out: stdout, chats: map[int64]*shownButtons{}}
	if err := d.switchTo(*as); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bansosbot demo: a local fake Telegram, the real bot, data in %s\n%s\n\n", dataDir, demoHelp)
	fmt.Fprintf(stdout, "You are the %s. Say /start to begin.\n", d.current.role)
	events, cancel := fake.Subscribe()
	defer cancel()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			d.show(ev)
		case line, ok := <-lines:
			if !ok { // the last line was answered already: only what is still coming
				d.settle(ctx, events, *quiet, *quiet)
				return nil
			}
			if quit := d.input(strings.TrimSpace(line)); quit {
				return nil
			}
			d.settle(ctx, events, 3*time.Second, *quiet) // the first answer may take a poll cycle
		}
	}
}

// seedDemo stores the demo's staff and a small synthetic registry before
// the bot opens the store, prints people to try /cek with, and returns the
// polling offset stored by an earlier run (0 when none).
func seedDemo(ctx context.Context, cfg Config, stdout io.Writer) (int64, error) {
	db, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	offset, err := db.Offset()
	if err != nil {
		return 0, err
	}
	if err := demoRegistry(ctx, db, cfg.key("nik"), 2000, stdout); err != nil {
		return 0, err
	}
	return offset, db.Update(func(tx *store.Tx) error {
		for _, u := range demoUsers {
			if u.staff != nil {
				if err := tx.PutStaff(u.staff); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

type demoChat struct {
	fake    *telegramtest.Server
	out     io.Writer
	mu      sync.Mutex
	current demoUser
	chats   map[int64]*shownButtons // the numbered buttons on screen, per chat
}

// shownButtons numbers the buttons on screen in one chat: the inline
// keyboards of the messages the bot sent since the user's last input (a
// /cek answer's "not received yet" button and the menu sent after it
// both), and the reply keyboard (contact, location), together. A number
// keeps meaning the same button while its message is on screen: an edit
// keeps the message's numbers, the reply keyboard keeps its number under
// the inline messages that follow it, and messages of other chats change
// nothing. The numbers of a message that is gone (deleted, keyboard
// removed, or one of an earlier turn once the answer to the user's next
// input brings new buttons) are given out again, lowest first.
type shownButtons struct {
	byNum  map[int]shownButton
	nums   map[int][]int // message id (replyKeyboard for the reply keyboard) -> its numbers in order
	inline []int         // the messages whose inline keyboards are on screen, oldest first
	turn   bool          // the user sent something since; the next new message with buttons replaces those on screen
}

// shownButton is a button behind a number.
type shownButton struct {
	msgID  int
	inline *telegramtest.Button
	reply  *telegramtest.KeyboardButton
}

// replyKeyboard is the key of the reply keyboard in shownButtons.nums
// (message ids start at 1; shownButtons.inline 0 means none).
const replyKeyboard = -1

func (sb *shownButtons) free(key int) {
	for _, n := range sb.nums[key] {
		delete(sb.byNum, n)
	}
	delete(sb.nums, key)
	sb.inline = slices.DeleteFunc(sb.inline, func(k int) bool { return k == key })
}

// assign numbers the buttons of a message's inline keyboard (or of the
// reply keyboard): the numbers it had, in order, then the lowest free
// ones. The first new message with buttons after the user's input
// replaces the keyboards on screen; later ones of the same answer, and
// edits, join them.
func (sb *shownButtons) assign(key int, buttons []shownButton, isNew bool) []int {
	if key != replyKeyboard && len(buttons) > 0 && !slices.Contains(sb.inline, key) {
		if isNew && sb.turn {
			for _, k := range slices.Clone(sb.inline) {
				sb.free(k)
			}
			sb.turn = false
		}
		sb.inline = append(sb.inline, key)
	}
	old := sb.nums[key]
	for _, n := range old {
		delete(sb.byNum, n)
	}
	var nums []int
	for i, b := range buttons {
		n := 0
		if i < len(old) {
			n = old[i]
		} else {
			for n = 1; ; n++ {
				if _, used := sb.byNum[n]; !used {
					break
				}
			}
		}
		sb.byNum[n] = b
		nums = append(nums, n)
	}
	if len(nums) == 0 {
		sb.free(key)
		return nil
	}
	sb.nums[key] = nums
	return nums
}

func (d *demoChat) switchTo(role string) error {
	for _, u := range demoUsers {
		if u.role == role {
			d.current = u
			return nil
		}
	}
	return fmt.Errorf("unknown role %q (citizen, worker, supervisor)", role)
}

// input acts on one typed line; it reports whether to quit.
func (d *demoChat) input(line string) bool {
	u := d.current.user
	if line != "" && !strings.HasPrefix(line, ":as") && line != ":help" {
		d.newTurn(u.ID)
	}
	switch {
	case line == "":
		return false
	case line == ":quit" || line == ":q":
		return true
	case line == ":help":
		fmt.Fprintln(d.out, demoHelp)
	case strings.HasPrefix(line, ":as"):
		if err := d.switchTo(strings.TrimSpace(strings.TrimPrefix(line, ":as"))); err != nil {
			fmt.Fprintln(d.out, err)
		} else {
			fmt.Fprintf(d.out, "-- you are now the %s (%s)\n", d.current.role, d.current.user.FirstName)
		}
	case strings.HasPrefix(line, ":photo"):
		d.fake.SendPhoto(u, strings.TrimSpace(strings.TrimPrefix(line, ":photo")))
	case strings.HasPrefix(line, ":loc"):
		lat, lon := -6.4817, 106.8540 // Cibinong
		if f := strings.Fields(strings.TrimPrefix(line, ":loc")); len(f) == 2 {
			lat, _ = strconv.ParseFloat(f[0], 64)
			lon, _ = strconv.ParseFloat(f[1], 64)
		}
		d.fake.SendLocation(u, lat, lon)
	case line == ":contact":
		d.fake.SendContact(u, d.phone())
	case line == ":sticker":
		d.fake.SendSticker(u)
	case line == ":voice":
		d.fake.SendVoice(u)
	default:
		if n, err := strconv.Atoi(line); err == nil && d.press(n) {
			return false
		}
		if strings.HasPrefix(line, "/") {
			d.fake.SendCommand(u, line)
		} else {
			d.fake.SendText(u, line)
		}
	}
	return false
}

// newTurn notes that the user of chat sent something: the answer's
// buttons replace the ones on screen.
func (d *demoChat) newTurn(chat int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if sb := d.chats[chat]; sb != nil {
		sb.turn = true
	}
}

func (d *demoChat) phone() string {
	if d.current.phone != "" {
		return d.current.phone
	}
	return "+628111000" + strconv.FormatInt(d.current.user.ID, 10)
}

// press presses the button numbered n on the current chat's screen.
func (d *demoChat) press(n int) bool {
	d.mu.Lock()
	var b shownButton
	ok := false
	if sb := d.chats[d.current.user.ID]; sb != nil {
		b, ok = sb.byNum[n]
	}
	d.mu.Unlock()
	switch {
	case !ok:
		return false
	case b.inline != nil:
		if _, err := d.fake.PressButton(d.current.user, b.msgID, b.inline.CallbackData); err != nil {
			fmt.Fprintln(d.out, "-- that button is gone:", err)
		}
	case b.reply.RequestContact:
		d.fake.SendContact(d.current.user, d.phone())
	case b.reply.RequestLocation:
		d.fake.SendLocation(d.current.user, -6.4817, 106.8540)
	default:
		d.fake.SendText(d.current.user, b.reply.Text)
	}
	return true
}

// number gives the buttons of a bot message their numbers and returns
// the labels to print ("[3] Kirim").
func (d *demoChat) number(ev telegramtest.Event) []string {
	e := ev.Entry
	d.mu.Lock()
	defer d.mu.Unlock()
	sb := d.chats[e.ChatID]
	if sb == nil {
		sb = &shownButtons{byNum: map[int]shownButton{}, nums: map[int][]int{}}
		d.chats[e.ChatID] = sb
	}
	if ev.Type == telegramtest.EventDelete {
		sb.free(e.MessageID)
		return nil
	}
	var inline []shownButton
	var texts []string
	for _, row := range e.Inline {
		for _, b := range row {
			inline = append(inline, shownButton{msgID: e.MessageID, inline: &b})
			texts = append(texts, b.Text)
		}
	}
	var labels []string
	for i, n := range sb.assign(e.MessageID, inline, ev.Type == telegramtest.EventNew) {
		labels = append(labels, fmt.Sprintf("[%d] %s", n, texts[i]))
	}
	if len(e.Keyboard) > 0 || e.RemoveKeyboard {
		var reply []shownButton
		texts = texts[:0]
		for _, row := range e.Keyboard {
			for _, b := range row {
				reply = append(reply, shownButton{msgID: e.MessageID, reply: &b})
				texts = append(texts, b.Text)
			}
		}
		sb.free(replyKeyboard) // a new reply keyboard replaces the old one
		for i, n := range sb.assign(replyKeyboard, reply, false) {
			labels = append(labels, fmt.Sprintf("[%d] %s", n, texts[i]))
		}
	}
	return labels
}

// show prints a transcript change the user should see.
func (d *demoChat) show(ev telegramtest.Event) {
	e := ev.Entry
	if e.From != telegramtest.FromBot {
		return
	}
	who := ""
	for _, u := range demoUsers {
		if u.user.ID == e.ChatID && u.user.ID != d.current.user.ID {
			who = " → " + u.role
		}
	}
	switch {
	case ev.Type == telegramtest.EventDelete:
		d.number(ev)
		fmt.Fprintf(d.out, "bot%s: (deleted message #%d)\n", who, e.MessageID)
		return
	case e.Kind == telegramtest.KindCallbackAnswer:
		if e.Text != "" {
			fmt.Fprintf(d.out, "bot%s: (toast) %s\n", who, e.Text)
		}
		return
	}
	prefix := "bot" + who
	if ev.Type == telegramtest.EventEdit {
		prefix += " (edited)"
	}
	text := e.Text
	switch e.Kind {
	case telegramtest.KindPhoto:
		text = "[photo] " + text
	case telegramtest.KindLocation:
		text = "[location pin]"
	case telegramtest.KindVoice:
		text = "[voice note] " + text
	}
	fmt.Fprintf(d.out, "%s: %s\n", prefix, strings.ReplaceAll(text, "\n", "\n     "))
	if labels := d.number(ev); len(labels) > 0 {
		fmt.Fprintf(d.out, "     %s\n", strings.Join(labels, "  "))
	}
}

// settle prints the bot's answers until it has been quiet for q after
// the first one, or for first when none comes (or 10 s passed), so that
// piped input is answered line by line.
func (d *demoChat) settle(ctx context.Context, events <-chan telegramtest.Event, first, q time.Duration) {
	deadline := time.After(10 * time.Second)
	seen := false
	for {
		wait := q
		if !seen {
			wait = first
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case ev := <-events:
			d.show(ev)
			if ev.Entry.From == telegramtest.FromBot {
				seen = true
			}
		case <-time.After(wait):
			return
		}
	}
}
