package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// exportFixture writes three tickets into a data directory: an ordinary
// resolved one with everything a citizen can give (phone, location, a NIK
// in the text), an open hidden-reporter one, and an old purged one.
func exportFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, store.FileName), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := func(d string) time.Time {
		x, _ := time.ParseInLocation("2006-01-02 15:04", d, bansosbot.RegionCode("32").TimeZone())
		return x
	}
	err = db.Update(func(tx *store.Tx) error {
		mk := func(tk *bansosbot.Ticket) error {
			seq, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			tk.ID, tk.No = seq, bansosbot.NewTicketNo(seq, exportConfig.key("ticket-number"))
			tk.UpdatedAt, tk.DueResponse, tk.DueResolve = tk.CreatedAt.Add(time.Hour), tk.CreatedAt.Add(72*time.Hour), tk.CreatedAt.AddDate(0, 0, 60)
			if _, err := tx.AppendEvent(tk, bansosbot.Event{At: tk.CreatedAt, Actor: tk.CitizenID, Role: flows.RoleCitizen, Kind: bansosbot.EventCreated, To: bansosbot.StatusNew, Public: true}); err != nil {
				return err
			}
			return tx.PutTicket(tk)
		}
		a := &bansosbot.Ticket{Category: "PAYMENT_NOT_RECEIVED", Region: "32.01.01", Village: "32.01.01.1007",
			Description: "=SUM(A1) bantuan belum masuk, NIK 3201014508900001", Location: &bansosbot.Location{Lat: -6.48, Lon: 106.85},
			Phone: "+6289876543210", CitizenID: 777000111, Status: bansosbot.StatusNew, CreatedAt: at("2026-11-20 09:00"),
			Attachments: []bansosbot.Attachment{{FileID: "AgACAgFILEID", FileUniqueID: "UNIQ"}}}
		if err := mk(a); err != nil {
			return err
		}
		if err := flows.Transition(tx, a, flows.EvAssign, flows.Actor{ID: 9001, Role: "worker"}, flows.Change{}, at("2026-11-21 09:00")); err != nil {
			return err
		}
		if err := flows.Transition(tx, a, flows.EvResolve, flows.Actor{ID: 9001, Role: "worker"}, flows.Change{Text: "Dana sudah cair ke rekening pemilik NIK 3201014508900001"}, at("2026-11-22 09:00")); err != nil {
			return err
		}
		if err := tx.PutTicket(a); err != nil {
			return err
		}
		if err := mk(&bansosbot.Ticket{Category: "PUNGLI", Region: "32.71.01", Description: "Potongan Rp 50.000 oleh oknum.",
			Location: &bansosbot.Location{Lat: -6.6, Lon: 106.8}, Phone: "+6281111111111", CitizenID: 777000222, HideReporter: true,
			Status: bansosbot.StatusNew, CreatedAt: at("2026-11-25 10:00")}); err != nil {
			return err
		}
		return mk(&bansosbot.Ticket{Category: "OTHER", Region: "33.01.01", Description: flows.ErasedMarker, Purged: true,
			Status: bansosbot.StatusClosed, CreatedAt: at("2026-10-01 08:00")})
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var reporterData = regexp.MustCompile(`777000111|777000222|6289876543210|6281111111111|9001|AgACAgFILEID|UNIQ|\d{16}|\x00`)

func exportRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"-data", dir, "tickets", "export"}, args...), noEnv, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("export %v: %v", args, err)
	}
	if m := reporterData.FindString(out.String()); m != "" {
		t.Errorf("export %v carries reporter data or a NIK (%q):\n%s", args, m, out.String())
	}
	return out.String()
}

func TestTicketsExportFormats(t *testing.T) {
	dir := exportFixture(t)

	var reqs []bansosbot.GeoReportRequest
	if err := json.Unmarshal([]byte(exportRun(t, dir, "--format", "open311")), &reqs); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 3 {
		t.Fatalf("open311: %d requests; want 3", len(reqs))
	}
	a, p, o := reqs[0], reqs[1], reqs[2]
	if a.Status != "closed" || a.ServiceCode != "PAYMENT_NOT_RECEIVED" || a.Lat == nil || a.AddressID != "32.01.01.1007" ||
		!strings.Contains(a.StatusNotes, "Dana sudah cair") || !strings.Contains(a.Description, "[NIK]") || a.ExpectedDatetime != "" {
		t.Errorf("resolved ticket = %+v", a)
	}
	if p.Status != "open" || p.Lat != nil || p.Long != nil || p.AddressID != "32.71.01" || p.ExpectedDatetime == "" || p.Description == "" {
		t.Errorf("hidden-reporter ticket = %+v; want open, no location, kecamatan only, with its description", p)
	}
	if o.Description != "" || o.Status != "closed" {
		t.Errorf("purged ticket = %+v; want no description", o)
	}

	var rows []map[string]any
	if err := json.Unmarshal([]byte(exportRun(t, dir, "--format", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0]["detailed_status"] != "resolved" || rows[1]["hidden_reporter"] != true || rows[0]["photos"] != 1.0 {
		t.Errorf("json rows = %v", rows)
	}

	recs, err := csv.NewReader(strings.NewReader(exportRun(t, dir, "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(exportColumns, ",") {
		t.Fatalf("csv = %v", recs)
	}
	if desc := recs[1][6]; !strings.HasPrefix(desc, "'=SUM") {
		t.Errorf("csv description %q; want the formula defused", desc)
	}
	if lat := recs[1][17]; lat != "-6.48" {
		t.Errorf("csv lat %q; want -6.48", lat)
	}
}

func TestTicketsExportFilters(t *testing.T) {
	dir := exportFixture(t)
	count := func(args ...string) []string {
		var reqs []bansosbot.GeoReportRequest
		if err := json.Unmarshal([]byte(exportRun(t, dir, append([]string{"--format", "open311"}, args...)...)), &reqs); err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, r := range reqs {
			codes = append(codes, r.ServiceCode)
		}
		return codes
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--region", "32.01"}, "PAYMENT_NOT_RECEIVED"},
		{[]string{"--region", "32"}, "PAYMENT_NOT_RECEIVED PUNGLI"},
		{[]string{"--region", "3271"}, "PUNGLI"},
		{[]string{"--since", "2026-11-21"}, "PUNGLI"},
		{[]string{"--since", "2026-11-20"}, "PAYMENT_NOT_RECEIVED PUNGLI"},
		{[]string{"--since", "2026-11-21", "--region", "32.01"}, ""},
	} {
		if got := strings.Join(count(tt.args...), " "); got != tt.want {
			t.Errorf("export %v = %q; want %q", tt.args, got, tt.want)
		}
	}
	out := filepath.Join(t.TempDir(), "tickets.csv")
	if msg := exportRun(t, dir, "--format", "csv", "--out", out); !strings.Contains(msg, "written to "+out) {
		t.Errorf("export --out said %q", msg)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("output file: %v, %v; want it written with mode 0600", fi, err)
	}
	for _, bad := range [][]string{
		{"--format", "xml"}, {}, {"--format", "csv", "--since", "26/11/2026"}, {"--format", "csv", "--region", "Bogor"},
		{"--format", "csv", "extra"},
	} {
		if err := run(context.Background(), append([]string{"-data", dir, "tickets", "export"}, bad...), noEnv, strings.NewReader(""), &bytes.Buffer{}, io.Discard); err == nil {
			t.Errorf("export %v succeeded; want an error", bad)
		}
	}
}

// noEnv is an empty environment, with the secret the fixtures use.
var noEnv = envWithSecret(exportConfig.Secret)

// exportConfig has the secret the fixtures' ticket numbers are made with.
var exportConfig = Config{Secret: "export-test-secret-0123456789"}

// envWithSecret is an environment holding only BANSOSBOT_SECRET.
func envWithSecret(secret string) func(string) string {
	return func(k string) string {
		if k == "BANSOSBOT_SECRET" {
			return secret
		}
		return ""
	}
}

// TestExportMasksPhonesAndEmails: phone numbers and e-mail addresses a
// citizen or a worker typed into free text are masked in every export
// format, like NIKs; the help says names are not (issue 12 item 11).
func TestExportMasksPhonesAndEmails(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, store.FileName), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	err = db.Update(func(tx *store.Tx) error {
		seq, _ := tx.NextTicketSeq()
		tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, exportConfig.key("ticket-number")), Category: "OTHER", Region: "32.01.01",
			Description: "Tolong hubungi saya di 0812-3456-7890 atau wati.lestari@example.com", Status: bansosbot.StatusNew, CreatedAt: at, UpdatedAt: at}
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		if err := flows.Transition(tx, tk, flows.EvAssign, flows.Actor{ID: 9001, Role: "worker"}, flows.Change{}, at.Add(time.Hour)); err != nil {
			return err
		}
		if err := flows.Transition(tx, tk, flows.EvResolve, flows.Actor{ID: 9001, Role: "worker"}, flows.Change{Text: "Sudah ditelepon ke +62 812 3456 7890, balas ke dinsos@example.go.id"}, at.Add(2*time.Hour)); err != nil {
			return err
		}
		return tx.PutTicket(tk)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"csv", "json", "open311"} {
		out := exportRun(t, dir, "--format", format)
		for _, leak := range []string{"3456", "wati.lestari", "example.com", "dinsos@"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s export carries %q:\n%s", format, leak, out)
			}
		}
		if !strings.Contains(out, "[PHONE]") || !strings.Contains(out, "[EMAIL]") {
			t.Errorf("%s export lacks the masks:\n%s", format, out)
		}
	}
	out, err := cli(t, noEnv, "tickets", "export", "-h")
	if err != nil || strings.Contains(out, "no phone") || !strings.Contains(out, "names") {
		t.Errorf("export help: %v\n%s; want it to say names are not masked", err, out)
	}
}
