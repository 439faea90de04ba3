package flows_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// The counts each site returns with its replies (flows.Outcome): one test
// per kind of count, each failing when the site that decides stops
// counting (the bot's metrics are these counts, written in the update's
// transaction).

// TestCountsRegistryLookups: a lookup answered from the registry counts
// as answered; one that finds no registry (it went between the start of
// the check and the lookup) as unavailable.
func TestCountsRegistryLookups(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(310, "id")
	u.Onboard("id")
	u.Text("/cek")
	u.sendText(ckWawan, 41)
	u.Text("Wawan Lestari")
	u.Text("/cek")
	u.sendText(ckUnknown, 42)
	u.Text("Budi") // not found: still answered from the registry
	want := map[flows.LookupResult]uint64{flows.LookupAnswered: 2}
	if !maps.Equal(h.Counts.Lookups, want) {
		t.Errorf("lookups = %v; want %v", h.Counts.Lookups, want)
	}

	u.Text("/cek")
	u.sendText(ckWawan, 43)
	in := u.input()
	in.Text = "Wawan Lestari"
	var o flows.Outcome
	if err := h.DB.Update(func(tx *store.Tx) (err error) {
		o, err = h.Engine.Handle(context.Background(), noRegistry{tx}, in)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if want := map[flows.LookupResult]uint64{flows.LookupUnavailable: 1}; !maps.Equal(o.Counts.Lookups, want) {
		t.Errorf("lookups without a registry = %v; want %v", o.Counts.Lookups, want)
	}
}

// noRegistry is a store whose registry is gone.
type noRegistry struct{ flows.Store }

func (noRegistry) RegistryLookup(bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
	return nil, nil, nil
}

// TestCountsRateLimitRefusals: every limit counts its refusals under its
// own name, and only refusals (the flood warning's marker is no limit).
func TestCountsRateLimitRefusals(t *testing.T) {
	for _, tc := range []struct {
		limit flows.RateLimit
		site  string // when the limit refuses at more than one
		cfg   func(*flows.Config)
		run   func(t *testing.T, h *harness)
		want  uint64
	}{
		{flows.LimitMessages, "", func(c *flows.Config) { c.Limits.MessagesPerMinute = 3 }, func(t *testing.T, h *harness) {
			u := h.User(320, "id")
			u.Onboard("id")
			for _, s := range []string{"nol", "satu", "dua"} { // the last two refused, the first of them with a warning
				u.Text(s)
			}
		}, 2},
		{flows.LimitLookupsUser, "start", func(c *flows.Config) { c.Limits.LookupsPerHour = 1 }, func(t *testing.T, h *harness) {
			ckImport(t, h.DB, ckRegistry)
			u := h.User(321, "id")
			u.Onboard("id")
			u.Text("/cek")
			u.sendText(ckWawan, 1)
			u.Text("Wawan Lestari")
			u.Text("/cek") // refused at the start
		}, 1},
		{flows.LimitLookupsUser, "lookup", func(c *flows.Config) { c.Limits.LookupsPerHour = 2 }, func(t *testing.T, h *harness) {
			ckImport(t, h.DB, ckRegistry)
			u := h.User(327, "id")
			u.Onboard("id")
			u.Text("/cek")
			u.sendText(ckWawan, 1)
			u.Text("Wawan Lestari")
			u.Text("/cek") // allowed at the start: 1 of 2
			u.sendText(ckWawan, 2)
			// Restarted with a lower limit before the name: the lookup
			// itself is refused.
			cfg := h.Engine.Config()
			cfg.Limits.LookupsPerHour = 1
			h.Engine = flows.NewEngine(cfg)
			u.Text("Wawan Lestari")
		}, 1},
		{flows.LimitLookupsNIK, "", func(c *flows.Config) { c.Limits.LookupsPerNIKDay = 1 }, func(t *testing.T, h *harness) {
			ckImport(t, h.DB, ckRegistry)
			for _, id := range []int64{322, 323} { // the second user's lookup of the same NIK is refused
				u := h.User(id, "id")
				u.Onboard("id")
				u.Text("/cek")
				u.sendText(ckUnknown, 1)
				u.Text("Budi")
			}
		}, 1},
		{flows.LimitInvites, "", nil, func(t *testing.T, h *harness) {
			u := h.User(324, "id")
			for i := range 6 { // 5 an hour
				u.Text(fmt.Sprintf("/daftar 2345-678%d", i+2))
			}
		}, 1},
		{flows.LimitFilings, "", func(c *flows.Config) { c.Limits.FilingsPerDay = 1 }, func(t *testing.T, h *harness) {
			u := h.User(325, "id")
			u.Onboard("id")
			cmToStep(u, "OTHER", "summary")
			u.Press("send")
			u.Text("/lapor") // refused before the report starts
		}, 1},
		{flows.LimitGroups, "", func(c *flows.Config) { c.Limits.GroupNotice = time.Minute }, func(t *testing.T, h *harness) {
			for i := range 3 { // one notice, two refused
				in := flows.Input{UserID: 326, ChatID: -5001, ChatType: "group", MessageID: i + 1, Command: "/cek", Text: "/cek"}
				h.Do(in, "group /cek")
			}
		}, 2},
	} {
		t.Run(strings.Trim(string(tc.limit)+"/"+tc.site, "/"), func(t *testing.T) {
			cfg := ckConfig()
			cfg.Limits.OpenTickets = 5
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			h := newHarness(t, cfg)
			tc.run(t, h)
			if want := map[flows.RateLimit]uint64{tc.limit: tc.want}; !maps.Equal(h.Counts.Refusals, want) {
				t.Errorf("refusals = %v; want %v", h.Counts.Refusals, want)
			}
		})
	}
}

// TestCountsEscalationSteps: the escalation job counts each step it fires
// by kind, as many as it writes to the tickets' histories, and nothing
// when it runs again at the same instant.
func TestCountsEscalationSteps(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	tk := slaTicket(t, h, cibinong, "PAYMENT_NOT_RECEIVED", slaWorker) // Thursday 26 Nov 10:00 WIB
	run := func() flows.Counts {
		var n flows.Counts
		for more := true; more; {
			if err := h.DB.Update(func(tx *store.Tx) error {
				o, m, err := h.Engine.Escalate(context.Background(), tx, h.Now(), 100)
				n.Add(o.Counts)
				more = m
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	advanceTo(t, h, "2026-12-03 10:00", wib) // warning, breach and the first escalation are due
	got := run()
	want := map[string]uint64{}
	if err := h.DB.View(func(tx *store.Tx) error {
		events, err := tx.Events(tk.ID)
		for _, ev := range events {
			if ev.Kind == bansosbot.EventEscalated {
				want[ev.Args["step"]]++
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 || !maps.Equal(got.Escalations, want) {
		t.Errorf("escalations counted = %v; want the 3 kinds written to the history: %v", got.Escalations, want)
	}
	if again := run(); !again.IsZero() {
		t.Errorf("a second run at the same instant counts %+v; want nothing", again)
	}
}

// TestCountsUnroutedTickets: a new ticket that reaches nobody (no staff
// for its region, no admin) counts once, filed or moved there; one an
// admin hears of does not.
func TestCountsUnroutedTickets(t *testing.T) {
	h := newHarness(t, quiet())
	fileByChat(t, h, 330)
	if h.Counts.Unrouted != 1 {
		t.Errorf("unrouted = %d; want 1", h.Counts.Unrouted)
	}
	h = newHarness(t, func() flows.Config { c := quiet(); c.Admins = []int64{950}; return c }())
	fileByChat(t, h, 331)
	if h.Counts.Unrouted != 0 {
		t.Errorf("unrouted with an admin = %d; want 0", h.Counts.Unrouted)
	}

	// A ticket a worker moves to a kecamatan nobody covers is new there
	// and reaches nobody either.
	h = newHarness(t, flows.Config{})
	onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	tk := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan tentang jadwal pencairan di desa kami.")
	sari.Press(fmt.Sprintf("c:%d", tk.ID))
	sari.Press(fmt.Sprintf("t:%d:k", tk.ID))
	sari.Press("region")
	before := h.Counts.Unrouted
	sari.Text(string(gunungputri))
	if got, _ := ticketOf(t, h, tk.ID); got.Region != gunungputri {
		t.Fatalf("ticket in %s after the transfer; want %s", got.Region, gunungputri)
	}
	if n := h.Counts.Unrouted - before; n != 1 {
		t.Errorf("unrouted by the transfer = %d; want 1", n)
	}
}
