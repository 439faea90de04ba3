package flows_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/synthetic"
)

var ckKey = []byte("test NIK key")

// ckRegistry: two people of district 32.01.01 (Cibinong, Kabupaten Bogor).
const ckRegistry = `nik,name,desil,PKH,PKH_period,PKH_remark,SEMBAKO,SEMBAKO_period,SEMBAKO_remark,PBI-JK,PBI-JK_period,PBI-JK_remark
3201011203850001,WAWAN LESTARI,2,Y,Tahap 4 (Oktober-Desember 2026),Dana sudah tersalurkan,Y,Oktober-Desember 2026,Proses penyaluran melalui Bank Himbara,Y,2026,Aktif
3201015203850002,SITI NUR'AINI,,N,,,N,,,N,,
`

const (
	ckWawan    = "3201 0112 0385 0001" // registered, typed with spaces
	ckUnknown  = "3201011203850009"    // valid, same district, not registered
	ckAsOfDate = "2026-10-01"
)

func ckConfig() flows.Config {
	cfg := quiet()
	cfg.NIKKey = ckKey
	cfg.Limits.LookupsPerHour = 5
	cfg.Limits.LookupsPerNIKDay = 10
	return cfg
}

func ckImport(t testing.TB, db *store.DB, csv string) *store.ImportResult {
	t.Helper()
	asOf, _ := time.Parse(time.DateOnly, ckAsOfDate)
	res, err := db.ImportRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: ckKey, AsOf: asOf, Source: "test.csv"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sendText sends a text message with a message id (the flow deletes NIK
// messages by id).
func (u *user) sendText(s string, msgID int) []flows.Reply {
	in := u.input()
	in.Text, in.MessageID = s, msgID
	if strings.HasPrefix(s, "/") {
		cmd, args, _ := strings.Cut(s, " ")
		in.Command, in.Args = strings.ToLower(cmd), strings.TrimSpace(args)
	}
	return u.h.Do(in, "text "+quote(s))
}

// lastSend is the last reply that sends a message.
func lastSend(t *testing.T, replies []flows.Reply) flows.Reply {
	t.Helper()
	for i := len(replies) - 1; i >= 0; i-- {
		if replies[i].Action == flows.Send {
			return replies[i]
		}
	}
	t.Fatalf("no message sent in %v", replies)
	return flows.Reply{}
}

func TestCheckFound(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(300, "id")
	u.Onboard("id")
	u.Text("/cek")
	r := u.sendText(ckWawan, 41)
	if !reflect.DeepEqual(r[0], flows.Reply{Action: flows.Delete, ChatID: 300, Lang: "id", MessageID: 41}) {
		t.Errorf("first reply to the NIK = %+v; want the NIK message deleted", r[0])
	}
	h.DB.View(func(tx *store.Tx) error {
		s, _ := tx.Session(300)
		if s.Flow != "ck" || s.State != "name" || bytes.Contains(s.Draft, []byte("3201011203850001")) {
			t.Errorf("session after the NIK = %s/%s draft %s; want ck/name without the digits", s.Flow, s.State, s.Draft)
		}
		return nil
	})
	r = u.Text("wawan  lestari")
	if last := r[len(r)-1]; last.Action != flows.EditButtons || last.MessageID == 0 || len(last.Buttons) > 0 {
		t.Errorf("last reply to the typed name = %+v; want the name prompt's buttons removed", last)
	}
	found := lastSend(t, r[:len(r)-2]) // the menu and the removal follow the result
	if found.Text[0].Key != "check.found" || found.Text[0].Args["Masked"] != "W***N L*****I" || found.Text[1].Key != "check.not_legal" {
		t.Errorf("result = %+v; want check.found for W***N L*****I and the not-a-legal-decision note", found.Text)
	}
	progs := found.Text[0].Args["Programs"].([]flows.Msg)
	if len(progs) != 3 || progs[0].Key != "check.program_yes" || progs[0].Args["Period"] != "Tahap 4 (Oktober-Desember 2026)" {
		t.Errorf("programs = %v", progs)
	}
	u.Text("/check")
	u.sendText("3201015203850002", 43)
	u.Text("Siti Nuraini") // the apostrophe of the KTP is optional
	cmGolden(h, "check_found")
}

// promptIDsOut is replies with the message ids of the buttons removals
// zeroed: the removal of the name prompt's buttons is part of both
// answers, but the harness numbers the prompts by the messages before.
func promptIDsOut(replies []flows.Reply) []flows.Reply {
	out := slices.Clone(replies)
	for i := range out {
		if out[i].Action == flows.EditButtons {
			out[i].MessageID = 0
		}
	}
	return out
}

// TestCheckWrongNameIsNotFound: a registered NIK with a wrong name gets the
// very replies an unregistered NIK gets.
func TestCheckWrongNameIsNotFound(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(301, "id")
	u.Onboard("id")
	u.Text("/cek")
	u.sendText(ckWawan, 10)
	wrong := u.Text("Wawan Lestary")
	u.Text("/cek")
	u.sendText(ckUnknown, 11)
	unknown := u.Text("Wawan Lestari")
	if !reflect.DeepEqual(promptIDsOut(wrong), promptIDsOut(unknown)) {
		t.Errorf("wrong name:\n%#v\nunknown NIK:\n%#v\nwant the same replies", wrong, unknown)
	}
	if r := lastSend(t, unknown); r.Text[0].Key != "check.not_found" || len(r.Buttons) != 3 || r.Buttons[0][0].Data != "ck..rp:320101" || r.Buttons[1][0].Data != "ck..ask:320101" {
		t.Errorf("not found = %+v; want check.not_found with the usul and ask-a-petugas buttons for district 320101", r)
	}
	// The usul button starts a NOT_REGISTERED complaint in the NIK's region.
	u.Press("rp:320101")
	h.DB.View(func(tx *store.Tx) error {
		if s, _ := tx.Session(301); s.Flow != "rp" {
			t.Errorf("after the usul button the flow is %q; want the complaint flow rp", s.Flow)
		}
		return nil
	})
	cmGolden(h, "check_not_found")
}

// TestCheckNameSpellings: a name is found in the spellings FoldName
// forgives (Mohamad for the registry's MUHAMMAD), and a near miss (one
// letter off) gets the very replies an unregistered NIK gets.
func TestCheckNameSpellings(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, "nik,name,desil,PKH\n3201011203850001,MUHAMMAD RIZKI,3,Y\n")
	u := h.User(305, "id")
	u.Onboard("id")
	for _, typed := range []string{"Mohamad Rizki", "muhamad  rizki", "Moh. Rizki"} {
		u.Text("/cek")
		u.sendText(ckWawan, 10)
		r := u.Text(typed)
		if got := lastSend(t, r[:len(r)-2]); got.Text[0].Key != "check.found" { // the menu and the removal follow
			t.Errorf("%q: answer %v; want check.found", typed, got.Text)
		}
	}
	u.Text("/cek")
	u.sendText(ckWawan, 12)
	near := u.Text("Muhammad Rizky")
	u.Text("/cek")
	u.sendText(ckUnknown, 13)
	miss := u.Text("Muhammad Rizky")
	if !reflect.DeepEqual(promptIDsOut(near), promptIDsOut(miss)) {
		t.Errorf("near match:\n%#v\nunknown NIK:\n%#v\nwant the same replies", near, miss)
	}
}

func TestCheckInvalidNIK(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(302, "en")
	u.Onboard("en")
	u.Text("/check")
	for i, nik := range []string{
		"12345",            // nik.wrong_length
		"my nik?",          // nik.not_digits, no digits: not deleted
		"32010112038500O1", // nik.not_digits, deleted
		"9901011203850001", // nik.unknown_region
		"3201013202850001", // nik.bad_date (day 32)
		"3201017104900001", // nik.bad_date (women's 31 April)
		"3201011203850000", // nik.zero_serial
	} {
		r := u.sendText(nik, 20+i)
		if strings.ContainsAny(nik, "0123456789") != (r[0].Action == flows.Delete) {
			t.Errorf("%q: first reply %+v; want a delete exactly when it holds digits", nik, r[0])
		}
	}
	if r := u.Photo("my KTP"); r[0].Action != flows.Delete {
		t.Errorf("a photo at the NIK question: %+v; want it deleted", r[0])
	}
	u.sendText(ckWawan, 30) // valid at last
	u.Photo("Wawan")        // a caption is not the name
	u.Press(flows.PayloadBack)
	u.Text("/batal")
	cmGolden(h, "check_invalid_nik")
}

func TestCheckRateLimits(t *testing.T) {
	cfg := ckConfig()
	cfg.Limits.LookupsPerHour, cfg.Limits.LookupsPerNIKDay = 2, 3
	h := newHarness(t, cfg)
	ckImport(t, h.DB, ckRegistry)
	lookup := func(u *user, nik, name string) []flows.Reply {
		u.Text("/cek")
		u.sendText(nik, 1)
		return u.Text(name)
	}
	h.Note("per user: 2 lookups an hour")
	a := h.User(303, "id")
	a.Onboard("id")
	lookup(a, ckWawan, "Wawan Lestari")
	lookup(a, ckUnknown, "Budi")
	if r := a.Text("/cek"); r[0].Text[0].Key != "check.limit_user" {
		t.Errorf("third /cek within the hour = %v; want check.limit_user", r[0].Text)
	}
	h.Advance(61 * time.Minute)
	lookup(a, ckWawan, "Wawan Lestari")

	h.Note("per NIK: 3 attempts a day, whoever asks and whether or not it is registered")
	for i, id := range []int64{304, 305, 306} {
		u := h.User(id, "id")
		u.Onboard("id")
		r := lookup(u, ckUnknown, "Budi")
		if want := map[bool]string{true: "check.limit_nik", false: "check.not_found"}[i == 2]; lastSend(t, r).Text[0].Key != want {
			t.Errorf("user %d: %v; want %s", id, lastSend(t, r).Text, want)
		}
	}
	h.Advance(24 * time.Hour)
	lookup(h.User(305, "id"), ckUnknown, "Budi")
	cmGolden(h, "check_rate_limit")

	// The counters live in the store: a new engine (a restart) sees them.
	h2 := &harness{t: t, DB: h.DB, Engine: flows.NewEngine(func() flows.Config { c := cfg; c.Now = h.Now; return c }()),
		now: h.now, keyboards: map[int64][][]flows.Button{}, sent: map[int64]int{}, prompts: map[string]int{}}
	u := h2.User(305, "id")
	lookup(u, ckUnknown, "Budi")
	if r := u.Text("/cek"); r[0].Text[0].Key != "check.limit_user" {
		t.Errorf("after a restart: %v; want the per-user limit kept", r[0].Text)
	}
}

func TestCheckCancelAndBack(t *testing.T) {
	h := newHarness(t, ckConfig())
	u := h.User(307, "id")
	u.Onboard("id")
	u.Text("/cek") // no registry yet
	ckImport(t, h.DB, ckRegistry)
	u.Press("check") // from the menu
	u.Text("/batal")
	u.Text("/cek")
	u.Press(flows.PayloadCancel)
	u.Text("/cek")
	u.sendText(ckWawan, 5)
	u.Press(flows.PayloadBack)
	u.sendText(ckWawan, 6)
	u.Text("/batal")
	u.Text("/cek")
	u.sendText(ckWawan, 7)
	u.Text("!!!") // not a name
	u.Press(flows.PayloadCancel)
	h.Note("the NIK given with the command is deleted and read")
	if r := u.sendText("/cek 3201011203850001", 8); r[0].Action != flows.Delete || lastSend(t, r).Text[0].Key != "check.ask_name" {
		t.Errorf("/cek with the NIK: %v; want it deleted and the name asked", r)
	}
	u.Text("/batal")
	h.DB.View(func(tx *store.Tx) error {
		if s, _ := tx.Session(307); s.Flow != "" || s.Draft != nil {
			t.Errorf("after cancel: session %+v; want no flow and no draft", s)
		}
		return nil
	})
	cmGolden(h, "check_cancel")
}

// TestCheckLeavesNoPersonalData imports a synthetic registry, runs every
// kind of lookup, and then looks for every NIK and full name of the file
// in the store's bytes and in the logs.
func TestCheckLeavesNoPersonalData(t *testing.T) {
	var logs bytes.Buffer
	cfg := ckConfig()
	cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Limits.LookupsPerHour = 100
	h := newHarness(t, cfg)
	var csv bytes.Buffer
	samples, err := synthetic.Registry(&csv, 3000, 7)
	if err != nil {
		t.Fatal(err)
	}
	ckImport(t, h.DB, csv.String())
	u := h.User(308, "id")
	u.Onboard("id")
	for _, s := range samples {
		for _, name := range []string{s.Name, strings.ToLower(s.Name), "Bukan " + s.Name} {
			u.Text("/cek")
			u.sendText(s.NIK.Digits(), 1)
			u.Text(name)
		}
	}
	u.Text("/cek")
	u.sendText(samples[0].NIK.Digits()[:15], 2) // invalid
	u.Text("/batal")

	raw, err := storeBytes(h.DB)
	if err != nil {
		t.Fatal(err)
	}
	// The registry has its own file; on PostgreSQL it is in tables of its
	// own, whose bytes store/pgstore's TestRegistryTablesHoldNoNIK scans.
	path := h.DB.RegistryPath()
	if path != "" {
		reg, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, reg...)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")[1:]
	checked := 0
	for _, line := range lines {
		f := strings.Split(line, ",")
		nik, name := f[0], f[1]
		needles := []string{nik}
		if len(name) >= 6 { // shorter strings turn up in random hash bytes by chance
			needles = append(needles, name, strings.ToLower(name), bansosbot.NormalizeName(name), titleCase(name))
		}
		for _, n := range needles {
			if bytes.Contains(raw, []byte(n)) {
				t.Errorf("the store file holds %q", n)
			}
			if strings.Contains(logs.String(), n) {
				t.Errorf("the logs hold %q", n)
			}
			checked++
		}
	}
	if checked < 3000 {
		t.Fatalf("checked only %d strings", checked)
	}
	// The scan can see text: the masked names are in the registry file.
	if path != "" && !bytes.Contains(raw, []byte(bansosbot.MaskName(samples[0].Name))) {
		t.Errorf("masked name %q not found in the file: the scan is blind", bansosbot.MaskName(samples[0].Name))
	}
}

func titleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// TestCheckNameWithoutNIKAsksTheNIK: a name step whose draft lost the NIK's
// hash (a draft of an older version) asks the NIK again by the machine's
// nik_lost event, instead of looking up nothing.
func TestCheckNameWithoutNIKAsksTheNIK(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(300, "id")
	u.Onboard("id")
	u.Text("/cek")
	u.sendText(ckWawan, 41)
	if err := h.DB.Update(func(tx *store.Tx) error {
		s, err := tx.Session(300)
		if err != nil {
			return err
		}
		s.Draft = []byte(`{}`)
		return tx.PutSession(s)
	}); err != nil {
		t.Fatal(err)
	}
	r := u.Text("wawan lestari")
	if ask := lastSend(t, r); ask.Text[0].Key != "check.ask_nik" {
		t.Errorf("answer to a name without a NIK in the draft = %+v; want the NIK asked again", ask.Text)
	}
	h.DB.View(func(tx *store.Tx) error {
		if s, _ := tx.Session(300); s.Flow != "ck" || s.State != "nik" {
			t.Errorf("session = %s/%s; want ck/nik", s.Flow, s.State)
		}
		return nil
	})
}

// TestCheckNIKRefusalNotChargedToTheUser: a lookup the NIK's limit refuses
// does not count against the user's hourly limit (both are asked before
// either counts: refusals come before any write).
func TestCheckNIKRefusalNotChargedToTheUser(t *testing.T) {
	cfg := ckConfig()
	cfg.Limits.LookupsPerHour, cfg.Limits.LookupsPerNIKDay = 2, 1
	h := newHarness(t, cfg)
	ckImport(t, h.DB, ckRegistry)
	lookup := func(u *user, nik, name string) []flows.Reply {
		u.Text("/cek")
		u.sendText(nik, 1)
		return u.Text(name)
	}
	other := h.User(307, "id")
	other.Onboard("id")
	lookup(other, ckUnknown, "Budi") // the NIK's one lookup of the day
	u := h.User(308, "id")
	u.Onboard("id")
	if r := lookup(u, ckUnknown, "Budi"); lastSend(t, r).Text[0].Key != "check.limit_nik" {
		t.Fatalf("a NIK at its limit: %v; want check.limit_nik", lastSend(t, r).Text)
	}
	lookup(u, ckWawan, "Wawan Lestari") // the user's first counted lookup
	if r := u.Text("/cek"); r[0].Text[0].Key == "check.limit_user" {
		t.Errorf("after one counted lookup of 2 an hour, /cek = %v; want the NIK asked (the refused one counted)", r[0].Text)
	}
}
