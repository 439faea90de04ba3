package flows_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// harness runs conversations through a real Engine and a real store file
// and writes a transcript: inputs, and replies as locale keys with their
// arguments and buttons. Transcripts are compared with testdata/*.golden.
type harness struct {
	t         *testing.T
	DB        *store.DB
	Engine    *flows.Engine
	now       time.Time
	log       strings.Builder
	keyboards map[int64][][]flows.Button // the last inline keyboard per chat
	// sent counts the bot's messages per chat (their ids, from 100);
	// prompts maps a prompt's button (chat and data) to its message, so
	// that a press carries the message it was on. Buttons not tied to a
	// prompt (menus, cards, notices) are pressed on message 1. A prompt
	// (Reply.Prompt) is recorded in the store with its id as soon as its
	// input is done, as the outbox does once Telegram returns the id, so
	// that typed answers remove its buttons.
	sent       map[int64]int
	prompts    map[string]int
	nextUpdate int64
	// Replies holds every reply of the last input.
	Replies []flows.Reply
	// Counts adds up the counts of every input handled.
	Counts flows.Counts
}

// start of every transcript: Thursday 26 November 2026, 10:00 WIB.
var epoch = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, cfg flows.Config) *harness {
	t.Helper()
	h := &harness{t: t, now: epoch, keyboards: map[int64][][]flows.Button{}, sent: map[int64]int{}, prompts: map[string]int{}}
	db := openStore(t, store.Options{NoSync: true, Now: h.Now}) // postgres_test.go: bbolt, or PostgreSQL
	h.DB = db
	cfg.Now = h.Now
	if cfg.TicketKey == nil {
		cfg.TicketKey = []byte("test ticket key")
	}
	if cfg.Watch == nil {
		cfg.Watch = refusalRule{} // refusals_test.go: refusals come before any write
	}
	h.Engine = flows.NewEngine(cfg)
	// The report counters are kept as the program keeps them (cmd wires
	// the same tallier), so reports and charts read them.
	db.SetTallier(func(tx *store.Tx, t *bansosbot.Ticket) (*bansosbot.TicketTally, error) { return h.Engine.Tally(tx, t) })
	return h
}

func (h *harness) Now() time.Time { return h.now }

// Advance moves the clock.
func (h *harness) Advance(d time.Duration) {
	h.now = h.now.Add(d)
	fmt.Fprintf(&h.log, "-- %s later\n", d)
}

// Note writes a comment line into the transcript.
func (h *harness) Note(format string, args ...any) {
	fmt.Fprintf(&h.log, "-- "+format+"\n", args...)
}

// Do runs one input in one transaction, like the bot's dispatcher, and
// records it and its replies. A refusal that follows a write of the flows
// fails the test.
func (h *harness) Do(in flows.Input, shown string) []flows.Reply {
	h.t.Helper()
	replies, broken := h.do(in, shown)
	for _, b := range broken {
		h.t.Errorf("%s: %s (refusals come before any write)", shown, b)
	}
	return replies
}

// handle runs one input through the engine on tx, wrapped to note the
// flows' writes; broken lists the refusals that followed one.
func (h *harness) handle(tx *store.Tx, in flows.Input) (o flows.Outcome, broken []string, err error) {
	w := &writeWatch{Tx: tx}
	o, err = h.Engine.Handle(context.Background(), w, in)
	return o, w.broken, err
}

// do is Do returning the broken refusals instead of failing on them.
func (h *harness) do(in flows.Input, shown string) ([]flows.Reply, []string) {
	h.t.Helper()
	h.nextUpdate++
	in.UpdateID = h.nextUpdate
	if in.ChatID == 0 {
		in.ChatID = in.UserID
	}
	if in.ChatType == "" {
		in.ChatType = "private"
	}
	fmt.Fprintf(&h.log, "→ %d %s\n", in.UserID, shown)
	var replies []flows.Reply
	var broken []string
	err := h.DB.Update(func(tx *store.Tx) error {
		o, b, err := h.handle(tx, in)
		replies, broken = o.Replies, b
		h.Counts.Add(o.Counts)
		return err
	})
	if err != nil {
		h.t.Fatalf("Handle(%s): %v", shown, err)
	}
	for _, r := range replies {
		h.log.WriteString(FormatReply(r))
		if (r.Action == flows.Send || r.Action == flows.Edit) && len(r.Buttons) > 0 {
			h.keyboards[r.ChatID] = r.Buttons
		}
		switch r.Action {
		case flows.Send, flows.SendPhoto, flows.SendLocation, flows.SendChart:
			if h.sent[r.ChatID] == 0 {
				h.sent[r.ChatID] = 99
			}
			h.sent[r.ChatID]++
			if r.Prompt != nil {
				// Delivered: the bot's outbox records the prompt's message.
				p := *r.Prompt
				p.MessageID = h.sent[r.ChatID]
				if err := h.DB.PutPrompt(r.ChatID, p); err != nil {
					h.t.Fatalf("PutPrompt: %v", err)
				}
			}
			for _, row := range r.Buttons {
				for _, b := range row {
					if parts := strings.SplitN(b.Data, ".", 3); len(parts) == 3 && parts[1] != "" {
						h.prompts[fmt.Sprint(r.ChatID, " ", b.Data)] = h.sent[r.ChatID]
					}
				}
			}
		}
	}
	h.Replies = replies
	return replies, broken
}

// Prompt is the last reply of the last input that carries buttons (the
// removal of an answered prompt's buttons comes after it).
func (h *harness) Prompt() flows.Reply {
	h.t.Helper()
	for i := len(h.Replies) - 1; i >= 0; i-- {
		if len(h.Replies[i].Buttons) > 0 {
			return h.Replies[i]
		}
	}
	h.t.Fatalf("no reply with buttons in %v", h.Replies)
	return flows.Reply{}
}

// Golden compares the transcript with testdata/<name>.golden (rewritten
// with -update).
func (h *harness) Golden(name string) {
	h.t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got := h.log.String()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%v (run go test ./flows -update to create it)", err)
	}
	if got != string(want) {
		h.t.Errorf("transcript differs from %s (run with -update after checking the change):\n%s", path, diff(string(want), got))
	}
}

func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			if b.Len() > 4000 {
				break
			}
		}
	}
	return b.String()
}

// user acts as one Telegram user in a private chat.
type user struct {
	h    *harness
	ID   int64
	Lang string
	Name string
}

func (h *harness) User(id int64, langCode string) *user {
	return &user{h: h, ID: id, Lang: langCode, Name: fmt.Sprintf("User%d", id)}
}

func (u *user) input() flows.Input {
	return flows.Input{UserID: u.ID, ChatID: u.ID, LangCode: u.Lang, FirstName: u.Name, Username: strings.ToLower(u.Name), At: u.h.now}
}

// Text sends a text message (a command when it starts with "/").
func (u *user) Text(s string) []flows.Reply {
	in := u.input()
	in.Text = s
	if strings.HasPrefix(s, "/") {
		cmd, args, _ := strings.Cut(s, " ")
		in.Command, in.Args = strings.ToLower(cmd), strings.TrimSpace(args)
	}
	return u.h.Do(in, "text "+quote(s))
}

// Press presses the button with the payload on the chat's last keyboard.
func (u *user) Press(payload string) []flows.Reply {
	u.h.t.Helper()
	for _, row := range u.h.keyboards[u.ID] {
		for _, b := range row {
			if parts := strings.SplitN(b.Data, ".", 3); len(parts) == 3 && parts[2] == payload {
				return u.PressData(b.Data)
			}
		}
	}
	u.h.t.Fatalf("user %d: no button with payload %q on the last keyboard %v", u.ID, payload, u.h.keyboards[u.ID])
	return nil
}

// PressData presses a button with arbitrary data (stale or forged ones).
func (u *user) PressData(data string) []flows.Reply {
	in := u.input()
	msg := u.h.prompts[fmt.Sprint(u.ID, " ", data)]
	if msg == 0 {
		msg = 1
	}
	in.Callback = &flows.Callback{ID: fmt.Sprintf("cb%d", u.h.nextUpdate+1), MessageID: msg, Data: data}
	return u.h.Do(in, "press "+data)
}

func (u *user) Photo(caption string) []flows.Reply {
	in := u.input()
	n := u.h.nextUpdate + 1
	in.Photo = &bansosbot.Attachment{FileID: fmt.Sprintf("photo-%d", n), FileUniqueID: fmt.Sprintf("u%d", n), AddedAt: u.h.now}
	in.Text = caption
	return u.h.Do(in, "photo caption="+quote(caption))
}

func (u *user) Location(lat, lon float64) []flows.Reply {
	in := u.input()
	in.Location = &bansosbot.Location{Lat: lat, Lon: lon}
	return u.h.Do(in, fmt.Sprintf("location %.5f,%.5f", lat, lon))
}

// Contact shares a phone number; owner is whose contact it is.
func (u *user) Contact(phone string, owner int64) []flows.Reply {
	in := u.input()
	in.Contact = &flows.Contact{Phone: phone, UserID: owner}
	return u.h.Do(in, "contact "+phone)
}

// Voice sends a voice note of the length.
func (u *user) Voice(seconds int) []flows.Reply {
	in := u.input()
	n := u.h.nextUpdate + 1
	in.Media = "voice"
	in.Voice = &bansosbot.Attachment{FileID: fmt.Sprintf("voice-%d", n), FileUniqueID: fmt.Sprintf("v%d", n), AddedAt: u.h.now, Seconds: seconds}
	return u.h.Do(in, fmt.Sprintf("voice %ds", seconds))
}

// Media sends an unsupported kind of message (sticker, voice, ...).
func (u *user) Media(kind string) []flows.Reply {
	in := u.input()
	in.Media = kind
	return u.h.Do(in, kind)
}

// Onboard runs /start, switches the notice to lang when Telegram's
// language differs, and agrees (the notice's language is the citizen's).
func (u *user) Onboard(lang string) {
	u.Text("/start")
	if bansosbot.NormalizeLang(u.Lang) != lang {
		u.Press("lang:" + lang)
	}
	u.Press("yes")
}

func quote(s string) string {
	if n := len([]rune(s)); n > 60 {
		return fmt.Sprintf("%q…(%d chars)", string([]rune(s)[:40]), n)
	}
	return fmt.Sprintf("%q", s)
}

var actionNames = map[flows.Action]string{
	flows.Send: "send", flows.Edit: "edit", flows.AnswerCallback: "answer", flows.Delete: "delete",
	flows.SendPhoto: "photo", flows.SendLocation: "location", flows.SendChart: "chart",
	flows.EditButtons: "edit-buttons", flows.SendVoice: "voice",
}

// FormatReply renders a reply as transcript lines.
func FormatReply(r flows.Reply) string {
	var b strings.Builder
	fmt.Fprintf(&b, "← %d %s", r.ChatID, actionNames[r.Action])
	if r.Lang != "" && r.Lang != "id" {
		fmt.Fprintf(&b, " (%s)", r.Lang)
	}
	if r.Alert {
		b.WriteString(" alert")
	}
	if r.MessageID != 0 {
		fmt.Fprintf(&b, " msg=%d", r.MessageID)
	}
	if r.FileID != "" {
		fmt.Fprintf(&b, " file=%s", r.FileID)
	}
	if r.Location != nil {
		fmt.Fprintf(&b, " at=%.5f,%.5f", r.Location.Lat, r.Location.Lon)
	}
	for i, m := range r.Text {
		if i == 0 {
			b.WriteString(" ")
		} else {
			b.WriteString("\n    ")
		}
		b.WriteString(FormatMsg(m))
	}
	if r.Action == flows.EditButtons && len(r.Buttons) == 0 {
		b.WriteString(" (buttons removed)")
	}
	b.WriteString("\n")
	for _, row := range r.Buttons {
		b.WriteString("    ")
		for _, btn := range row {
			fmt.Fprintf(&b, "[%s → %s] ", FormatMsg(btn.Label), btn.Data)
		}
		b.WriteString("\n")
	}
	if k := r.Keyboard; k != nil {
		if k.Remove {
			b.WriteString("    (remove keyboard)\n")
		}
		for _, row := range k.Rows {
			b.WriteString("    ")
			for _, kb := range row {
				extra := ""
				if kb.RequestContact {
					extra = " contact"
				}
				if kb.RequestLocation {
					extra = " location"
				}
				fmt.Fprintf(&b, "{%s%s} ", FormatMsg(kb.Label), extra)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// FormatMsg renders key{Arg=value, ...} with arguments sorted by name.
func FormatMsg(m flows.Msg) string {
	if len(m.Args) == 0 {
		return m.Key
	}
	names := make([]string, 0, len(m.Args))
	for n := range m.Args {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+"="+formatArg(m.Args[n]))
	}
	return m.Key + "{" + strings.Join(parts, ", ") + "}"
}

func formatArg(v any) string {
	switch a := v.(type) {
	case string:
		return quote(a)
	case flows.Msg:
		return FormatMsg(a)
	case []flows.Msg:
		parts := make([]string, len(a))
		for i, m := range a {
			parts[i] = FormatMsg(m)
		}
		return "[" + strings.Join(parts, "; ") + "]"
	case flows.Localized:
		return quote(a["id"])
	case flows.Time:
		loc := a.Loc
		if loc == nil {
			loc = time.UTC
		}
		if a.DateOnly {
			return a.T.In(loc).Format("2006-01-02")
		}
		return a.T.In(loc).Format("2006-01-02T15:04Z07:00")
	case time.Time:
		return a.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}
