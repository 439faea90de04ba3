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
		err = runAudit(context.Background(), Config{TZ: "Asia/Jakarta"}, db, args[1:], &out)
	} else {
		err = runStaff(context.Background(), Config{TZ: "Asia/Jakarta"}, db, args, &out)
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
	e := flows.NewEngine(flows.Config{Now: func() time.Time { return now }, TicketKey: []byte("k"), InviteKey: (&Config{}).key("invite")})
	var replies []flows.Reply
	err = db.Update(func(tx *store.Tx) error {
		o, err := e.Handle(context.Background(), tx, flows.Input{UserID: 702, ChatID: 702, ChatType: "private",
			FirstName: "Hadi", Text: "/daftar " + code, Command: "/daftar", Args: code})
		replies = o.Replies
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

// TestStaffAddUpdateRegionNamesInvites: staff add on an existing id shows
// what would change and needs --update; --role errors list the roles;
// --region takes a name; region find prints codes; staff invites lists
// pending invitations and staff revoke cancels one (issue 12 item 7).
func TestStaffAddUpdateRegionNamesInvites(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := envWithSecret("staff-test-secret-0123456789")
	staff := func(args ...string) (string, error) {
		t.Helper()
		return cli(t, env, append([]string{"-data", data, "staff"}, args...)...)
	}
	out, err := staff("add", "--id", "601", "--name", "Sari", "--role", "worker", "--region", "kab bogor")
	if err != nil || !strings.Contains(out, "Kabupaten Bogor, Jawa Barat (32.01)") {
		t.Fatalf("add with a region name: %v %s", err, out)
	}
	out, err = staff("add", "--id", "602", "--name", "Budi", "--role", "worker", "--region", "bogor")
	if err == nil || !strings.Contains(err.Error(), "32.01 ") || !strings.Contains(err.Error(), "32.71 ") {
		t.Errorf("add with an ambiguous name: %v %s; want the candidates with their codes", err, out)
	}
	out, err = staff("add", "--id", "602", "--name", "Budi", "--role", "boss", "--region", "32.01")
	if err == nil || !strings.Contains(err.Error(), "worker, supervisor or admin") {
		t.Errorf("add with a bad role: %v %s; want the valid roles", err, out)
	}

	out, err = staff("add", "--id", "601", "--name", "Sari W.", "--role", "supervisor", "--region", "32")
	if err == nil || !strings.Contains(err.Error(), "--update") || !strings.Contains(err.Error(), "role: worker → supervisor") {
		t.Errorf("add on an existing id: %v %s; want a refusal showing the changes and --update", err, out)
	}
	if out, _ := staff("list"); !strings.Contains(out, "601  Sari  worker") {
		t.Errorf("a refused add changed the record:\n%s", out)
	}
	out, err = staff("add", "--update", "--id", "601", "--name", "Sari W.", "--role", "supervisor", "--region", "32")
	for _, want := range []string{"updated Sari W. (601)", `name: "Sari" → "Sari W."`, "role: worker → supervisor", "regions: 32.01 → 32"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("add --update: %v %q; want %q", err, out, want)
		}
	}
	if out, err := staff("add", "--id", "601", "--name", "Sari W.", "--role", "supervisor", "--region", "32"); err != nil || !strings.Contains(out, "unchanged") {
		t.Errorf("add of the same record: %v %s; want unchanged", err, out)
	}

	out, err = cli(t, env, "region", "find", "kab bogor")
	if err != nil || !strings.Contains(out, "32.01") || !strings.Contains(out, "Kabupaten Bogor") {
		t.Errorf("region find: %v %s", err, out)
	}

	out, err = staff("invite", "--role", "worker", "--region", "32.01.01")
	if err != nil {
		t.Fatal(err)
	}
	code := strings.Fields(out)[0]
	if _, err := staff("invite", "--role", "supervisor", "--region", "32"); err != nil {
		t.Fatal(err)
	}
	out, err = staff("invites")
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(out, "worker") || !strings.Contains(out, "32.01.01") {
		t.Errorf("staff invites: %v\n%s; want a header and two pending invitations", err, out)
	}
	if out, err := staff("revoke", code); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("staff revoke: %v %s", err, out)
	}
	out, _ = staff("invites")
	if strings.Contains(out, "32.01.01") || !strings.Contains(out, "supervisor") {
		t.Errorf("after revoking:\n%s; want only the supervisor's invitation", out)
	}
	if out, err := staff("revoke", code); err == nil || !strings.Contains(err.Error(), "not pending any more: expired or revoked") ||
		strings.Contains(err.Error(), "Ask your admin") {
		t.Errorf("revoking twice: %v %s; want a refusal in the operator's words, not the /daftar message", err, out)
	}
	if out, err := staff("revoke", "AAAA-BBBB"); err == nil {
		t.Errorf("revoking an unknown code succeeded: %s", out)
	}
}
