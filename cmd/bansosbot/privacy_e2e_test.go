package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// TestStopZeroesFreePages: what was deleted while the program ran (here a
// dead letter with a citizen's raw update, as /hapusdata deletes it) is
// not in the file once the program stopped; bbolt leaves a deleted value
// on a free page until it reuses the page (issue 10 acceptance).
func TestStopZeroesFreePages(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	m := e.start(cfg)
	const raw = `{"message":{"from":{"first_name":"Marlinaputri","username":"marlina_x9"},"text":"3201014506870003"}}`
	err := m.DB.Update(func(tx *store.Tx) error {
		return tx.ParkUpdate(store.InboxItem{UpdateID: 91, ChatID: 9091, Update: []byte(raw)}, "test")
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := m.DB.PurgeDeadLetters(time.Now().Add(24 * time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want the dead letter deleted", n, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Marlinaputri", "marlina_x9", "3201014506870003"} {
		if bytes.Contains(file, []byte(s)) {
			t.Errorf("the stopped file still holds %q of a deleted value", s)
		}
	}
}

// TestE2ENoCitizenIdentityInTheFileOrBackup is the acceptance scan of the
// security review (issue 10): after a scripted session over the fake Bot
// API — a /cek resumed after idling (the NIK typed into the stale flow), a
// PUNGLI complaint and the next morning's supervisor digest, an erasure by
// /hapusdata, and another citizen's plain /cek — neither the bbolt file
// nor a fresh scheduled backup holds any citizen's NIK, name typed for the
// check, Telegram first name or username, in plain or in the base64 of a
// JSON []byte, in any letter case.
func TestE2ENoCitizenIdentityInTheFileOrBackup(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	env := envWithSecret(cfg.Secret)
	ctx := context.Background()

	// A registry, so that /cek answers from it.
	csvPath := filepath.Join(t.TempDir(), "reg.csv")
	var out strings.Builder
	if err := run(ctx, []string{"-data", e.dir, "registry", "gen", "-n", "50", "-seed", "3", "-out", csvPath}, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	type person struct{ nik, name string }
	var people []person
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[0] == "NIK" && f[2] == "name" {
			name := strings.TrimSpace(line[strings.Index(line, " name ")+6 : strings.Index(line, "(")])
			people = append(people, person{f[1], name})
		}
	}
	if len(people) < 2 {
		t.Fatalf("registry gen printed no samples:\n%s", out.String())
	}
	if err := run(ctx, []string{"-data", e.dir, "registry", "import", "-lang", "en", "-date", "2026-10-01", csvPath}, env, strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	clock := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC) // Thursday 09:00 WIB
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(to time.Time) { mu.Lock(); clock = to; mu.Unlock() }
	m := e.start(cfg, func(m *Main) { m.Now = now })
	closed := false
	defer func() {
		if !closed {
			m.Close()
		}
	}()
	for _, args := range [][]string{
		{"add", "--id", "951", "--name", "Rudi", "--role", "supervisor", "--region", "32.01"},
		{"add", "--id", "952", "--name", "Camat", "--role", "supervisor", "--region", "32.01.01"},
		{"add", "--id", "953", "--name", "Sari", "--role", "worker", "--region", "32.01.01"},
	} {
		if err := runStaff(ctx, m.Config, m.DB, args, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	regency := telegramtest.User{ID: 951, FirstName: "Rudi", LanguageCode: "id"}
	seen := map[int64]int{}

	// Citizen A: /cek left idle, the NIK typed into the stale flow, resumed.
	a := telegramtest.User{ID: 940, FirstName: "Kartinah", Username: "kartinah_cbn", LanguageCode: "id"}
	e.onboard(a)
	seen[a.ID] = len(e.fake.BotMessages(a.ID))
	e.fake.SendCommand(a, "/cek")
	e.expect(seen, a.ID, "Cek status bansos")
	advance(clock.Add(45 * time.Minute))
	e.fake.SendText(a, people[0].nik)
	e.pressOn(a, e.expect(seen, a.ID, "belum selesai"), "resume")
	// Today the NIK is asked again (nothing was held); a build that held
	// it goes on to the name: the scan below is what this test is about.
	if next := e.expect(seen, a.ID, ""); !strings.Contains(next.Text, "nama lengkap") {
		e.fake.SendText(a, people[0].nik)
		e.expect(seen, a.ID, "nama lengkap")
	}
	e.fake.SendText(a, strings.ToLower(people[0].name))
	e.expect(seen, a.ID, "")

	// A files a PUNGLI complaint; the next morning the regency supervisor's
	// digest lists it.
	e.fake.SendCommand(a, "/lapor")
	e.pressOn(a, e.expect(seen, a.ID, "Buat pengaduan"), "c:PUNGLI")
	e.expect(seen, a.ID, "provinsi")
	e.fake.SendText(a, "cibinong")
	e.expect(seen, a.ID, "desa/kelurahan")
	e.fake.SendText(a, "pakansari")
	e.expect(seen, a.ID, "Ceritakan")
	e.fake.SendText(a, "Ada potongan Rp50.000 saat pencairan PKH di balai desa oleh oknum.")
	e.pressOn(a, e.expect(seen, a.ID, "foto"), "done")
	e.pressOn(a, e.expect(seen, a.ID, "tidak wajib"), "skip")
	e.pressOn(a, e.expect(seen, a.ID, "Periksa pengaduan"), "send")
	filed := e.expect(seen, a.ID, "Pengaduan diterima")
	no := ""
	for _, f := range strings.Fields(filed.Text) {
		if strings.HasPrefix(f, bansosbot.TicketPrefix) {
			no = strings.TrimRight(f, ".,")
		}
	}
	if no == "" {
		t.Fatalf("no ticket number in %q", filed.Text)
	}
	advance(time.Date(2026, 11, 27, 0, 5, 0, 0, time.UTC)) // Friday 07:05 WIB
	if err := m.Server.RunJob(ctx, "digest", func(tx bot.Tx) (flows.Outcome, error) { return m.Engine.Digest(ctx, tx, m.Now()) }); err != nil {
		t.Fatal(err)
	}
	e.expect(seen, regency.ID, no)

	// A erases their data.
	e.fake.SendCommand(a, "/hapusdata")
	e.pressOn(a, e.expect(seen, a.ID, "Hapus semua data"), "yes")
	e.expect(seen, a.ID, "")

	// Citizen B checks their status and keeps their account.
	b := telegramtest.User{ID: 941, FirstName: "Suwarni", Username: "suwarni_pks", LanguageCode: "id"}
	e.onboard(b)
	seen[b.ID] = len(e.fake.BotMessages(b.ID))
	e.fake.SendCommand(b, "/cek")
	e.expect(seen, b.ID, "Cek status bansos")
	e.fake.SendText(b, people[1].nik)
	e.expect(seen, b.ID, "nama lengkap")
	e.fake.SendText(b, people[1].name)
	e.expect(seen, b.ID, "")

	if err := m.Server.Flush(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := m.backupJob(ctx); err != nil {
		t.Fatal(err)
	}
	backups, _ := filepath.Glob(filepath.Join(m.Config.backupDir(), "bansosbot-*.db"))
	if len(backups) != 1 {
		t.Fatalf("backups %v; want one", backups)
	}
	closed = true
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// The ticket stays, anonymous: its number in both files shows that the
	// scan reads the data.
	for _, path := range []string{cfg.DBPath(), backups[0]} {
		if raw, _ := os.ReadFile(path); !bytes.Contains(raw, []byte(no)) {
			t.Fatalf("%s does not hold ticket %s: the scan proves nothing", filepath.Base(path), no)
		}
	}
	var needles []string
	for _, p := range people[:2] {
		needles = append(needles, p.nik, p.name)
		needles = append(needles, strings.Fields(p.name)...)
	}
	needles = append(needles, a.FirstName, a.Username, b.FirstName, b.Username)
	for _, path := range []string{cfg.DBPath(), backups[0]} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lower := bytes.ToLower(raw)
		for _, n := range needles {
			if len(n) < 4 { // a short word of a name would match anything
				continue
			}
			for _, form := range identityForms(n) {
				if bytes.Contains(raw, []byte(form)) || bytes.Contains(lower, []byte(strings.ToLower(form))) {
					t.Errorf("%s holds %q (as %q)", filepath.Base(path), n, form)
					break
				}
			}
		}
	}
}

// identityForms are the spellings a string can take in the store: as typed,
// upper and lower case, and the base64 of a JSON []byte at each of the
// three alignments (whole 4-character groups only).
func identityForms(s string) []string {
	var forms []string
	for _, v := range []string{s, strings.ToUpper(s), strings.ToLower(s)} {
		forms = append(forms, v)
		for skip := 0; skip < 3 && len(v)-skip >= 6; skip++ {
			rest := v[skip:]
			enc := base64.StdEncoding.EncodeToString([]byte(rest))
			forms = append(forms, enc[:4*(len(rest)/3)])
		}
	}
	return forms
}
