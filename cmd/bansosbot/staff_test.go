package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

func staffCLI(t *testing.T, db *store.DB, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	var err error
	if len(args) > 0 && args[0] == "audit" {
		err = runAudit(context.Background(), db, args[1:], &out)
	} else {
		err = runStaff(context.Background(), db, args, &out)
	}
	return out.String(), err
}

func TestStaffCommand(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{NoSync: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for _, bad := range [][]string{
		{},
		{"fire"},
		{"add", "--id", "601", "--name", "Sari", "--role", "worker"},                         // no region
		{"add", "--id", "601", "--name", "Sari", "--role", "worker", "--region", "nasional"}, // national worker
		{"add", "--id", "601", "--name", "Sari", "--role", "boss", "--region", "32.01"},
		{"add", "--id", "601", "--name", "Sari", "--role", "worker", "--region", "99.99"},
		{"add", "--name", "Sari", "--role", "worker", "--region", "32.01"},
		{"remove", "--id", "999"},
		{"invite", "--role", "worker", "--region", "32.01", "--ttl", "-1h"},
	} {
		if out, err := staffCLI(t, db, bad...); err == nil {
			t.Errorf("staff %v succeeded (%q); want an error", bad, out)
		}
	}
	if _, err := staffCLI(t, db, "add", "--id", "601", "--name", "Sari", "--role", "worker", "--region", "32.01.01"); err != nil {
		t.Fatal(err)
	}
	if _, err := staffCLI(t, db, "add", "--id", "701", "--name", "Dewi", "--role", "supervisor", "--region", "3201, 32.02"); err != nil {
		t.Fatal(err)
	}
	if _, err := staffCLI(t, db, "remove", "--id", "601"); err != nil {
		t.Fatal(err)
	}
	out, err := staffCLI(t, db, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"601  Sari  worker      32.01.01     false", "701  Dewi  supervisor  32.01,32.02  true"} {
		if !strings.Contains(out, want) {
			t.Errorf("list:\n%s\nwant a line %q", out, want)
		}
	}

	// An invitation printed here is redeemed in the bot.
	out, err = staffCLI(t, db, "invite", "--role", "supervisor", "--region", "32")
	if err != nil {
		t.Fatal(err)
	}
	code := strings.Fields(out)[0]
	if _, ok := bansosbot.NormalizeInviteCode(code); !ok {
		t.Fatalf("invite printed %q; want the code first", out)
	}
	e := flows.NewEngine(flows.Config{Now: func() time.Time { return now }, TicketKey: []byte("k")})
	var replies []flows.Reply
	err = db.Update(func(tx *store.Tx) (err error) {
		replies, err = e.Handle(context.Background(), tx, flows.Input{UserID: 702, ChatID: 702, ChatType: "private",
			FirstName: "Hadi", Text: "/daftar " + code, Command: "/daftar", Args: code})
		return err
	})
	if err != nil || len(replies) == 0 || replies[0].Text[0].Key != "staff.registered" {
		t.Fatalf("/daftar with the CLI code: %v, %+v", err, replies)
	}
	db.View(func(tx *store.Tx) error {
		s, _ := tx.Staff(702)
		if s == nil || s.Role != bansosbot.RoleSupervisor || len(s.Regions) != 1 || s.Regions[0] != "32" {
			t.Errorf("registered = %+v; want a supervisor of 32", s)
		}
		return nil
	})

	out, err = staffCLI(t, db, "audit", "--staff", "702")
	if err != nil || !strings.Contains(out, "702    supervisor  register") || !strings.Contains(out, "allowed") {
		t.Errorf("audit --staff 702: %v\n%s", err, out)
	}
	if _, err := staffCLI(t, db, "audit"); err == nil {
		t.Error("audit without --ticket or --staff succeeded")
	}
	if _, err := staffCLI(t, db, "audit", "--ticket", "BS-XXXX"); err == nil {
		t.Error("audit of a malformed ticket number succeeded")
	}
}

func TestAuditCommandByTicket(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "a.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	no := bansosbot.NewTicketNo(1, []byte("k"))
	err = db.Update(func(tx *store.Tx) error {
		if err := tx.PutTicket(&bansosbot.Ticket{ID: 1, No: no, Region: "32.01.01", Status: bansosbot.StatusNew}); err != nil {
			return err
		}
		for _, a := range []bansosbot.AuditEntry{
			{Actor: 601, Role: "worker", Action: bansosbot.AuditView, TicketID: 1, Allowed: true},
			{Actor: 604, Role: "worker", Action: bansosbot.AuditClaim, TicketID: 1, Reason: "region"},
			{Actor: 601, Role: "worker", Action: bansosbot.AuditQueue, Allowed: true},
		} {
			if err := tx.AppendAudit(&a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := staffCLI(t, db, "audit", "--ticket", strings.ToLower(string(no)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "view") || !strings.Contains(lines[2], "refused  region") || !strings.Contains(lines[2], string(no)) {
		t.Errorf("audit --ticket:\n%s\nwant the header, the view and the refused claim", out)
	}
}
