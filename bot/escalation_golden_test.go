package bot

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
)

// Regenerate with: go test ./bot -run Escalation -update.escalation
var updateEscalation = flag.Bool("update.escalation", false, "rewrite bot/testdata/escalation_*.golden")

// escalationWorld is a store with a worker and two supervisors of
// Kabupaten Bogor, one reading Indonesian and one English, and tickets
// filed on Thursday 26 November 2026 at 10:00 WIB.
type escalationWorld struct {
	db     *store.DB
	engine *flows.Engine
	now    time.Time
}

func newEscalationWorld(t *testing.T) *escalationWorld {
	t.Helper()
	w := &escalationWorld{now: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	db, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{NoSync: true, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	w.engine = flows.NewEngine(flows.Config{Now: func() time.Time { return w.now }, TicketKey: []byte("test ticket key")})
	staff := []bansosbot.Staff{
		{UserID: 501, Name: "Wati", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01.01"}},
		{UserID: 601, Name: "Rudi", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32.01"}},
		{UserID: 603, Name: "Rosa", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32.01"}},
	}
	err = db.Update(func(tx *store.Tx) error {
		for _, s := range staff {
			s.Active = true
			if err := tx.PutStaff(&s); err != nil {
				return err
			}
		}
		if err := tx.PutProfile(&bansosbot.Profile{UserID: 603, Lang: "en"}); err != nil {
			return err
		}
		for i, cat := range []string{"PAYMENT_NOT_RECEIVED", "INELIGIBLE_RECIPIENT", "KKS_CARD"} {
			seq, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("test ticket key")), Category: cat,
				Region: "32.01.01", Status: bansosbot.StatusNew, CreatedAt: w.now, UpdatedAt: w.now}
			if i < 2 {
				tk.Status, tk.Assignee = bansosbot.StatusAssigned, 501
			}
			w.engine.Schedule(tk, w.now)
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// render writes the replies as Telegram would show them: per chat, the
// HTML text and the buttons with their data.
func renderReplies(t *testing.T, replies []flows.Reply) string {
	t.Helper()
	r := NewRenderer(locales.MustDefault(), bansosbot.RegionCode("").TimeZone())
	calls, err := r.Render(replies)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "=== %s to %d\n%s\n", c.Method, c.ChatID, c.Text)
		for _, row := range c.Buttons {
			for _, btn := range row {
				fmt.Fprintf(&b, "[%s → %s] ", btn.Text, btn.Data)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func escalationGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *updateEscalation {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -run Escalation -update.escalation)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; got:\n%s", path, got)
	}
}

// The escalation notices (warning to the worker, breach to the worker and
// both supervisors) and the ones the job catches up after downtime, in
// Indonesian and English.
func TestEscalationMessagesGolden(t *testing.T) {
	w := newEscalationWorld(t)
	var out strings.Builder
	for _, at := range []string{"2026-11-30 12:00", "2026-12-03 11:00"} {
		now, _ := time.ParseInLocation("2006-01-02 15:04", at, bansosbot.RegionCode("32").TimeZone())
		w.now = now
		var replies []flows.Reply
		err := w.db.Update(func(tx *store.Tx) error {
			o, _, err := w.engine.Escalate(context.Background(), tx, now, 100)
			replies = o.Replies
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "##### escalation job at %s WIB\n\n%s", at, renderReplies(t, replies))
	}
	got := out.String()
	for _, s := range []string{"tiket perlu perhatian", "tickets need attention", "Lewat tenggat tanggapan pertama", "The first response is overdue"} {
		if !strings.Contains(got, s) {
			t.Errorf("rendered escalations lack %q", s)
		}
	}
	escalationGolden(t, "escalation_notices", got)
}

// The daily digest on Friday and the weekly one on Monday, in both
// languages.
func TestEscalationDigestGolden(t *testing.T) {
	w := newEscalationWorld(t)
	var out strings.Builder
	for _, at := range []string{"2026-11-27 07:00", "2026-11-30 07:00", "2026-12-02 07:00"} {
		now, _ := time.ParseInLocation("2006-01-02 15:04", at, bansosbot.RegionCode("32").TimeZone())
		w.now = now
		var replies []flows.Reply
		err := w.db.Update(func(tx *store.Tx) error {
			o, err := w.engine.Digest(context.Background(), tx, now)
			replies = o.Replies
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "##### digest at %s WIB\n\n%s", at, renderReplies(t, replies))
	}
	got := out.String()
	for _, s := range []string{"Ringkasan harian", "Daily summary", "Ringkasan mingguan", "Weekly summary", "3 hari", "3 days old"} {
		if !strings.Contains(got, s) {
			t.Errorf("rendered digests lack %q", s)
		}
	}
	escalationGolden(t, "escalation_digest", got)
}
