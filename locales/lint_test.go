package locales_test

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// The language rules of issue 11 item 10, checked on the raw catalog text
// (every branch of a template, not one rendering).
//
// Which keys are citizen-facing: every key is, unless its prefix is in
// staffKeys below (staff, supervisors and administrators read those). A
// new namespace is therefore citizen-facing until someone lists it here:
// when a staff-only key fails this lint, add its prefix to staffKeys
// rather than bending the text.
var staffKeys = []string{
	"staff.",                         // the staff workspace (ct.* is the citizen's side)
	"escalation.", "digest.", "sla.", // supervisors' notices
	"ops.", "report.", "registry.", "calendar.", // operators, CLI, configuration errors
	"desk.reject_", "desk.evt_", "desk.status_", // desk labels; desk.reason_* is what citizens read
	"role.",                                    // staff roles, shown to staff
	"menu.queue", "menu.summary", "menu.chart", // staff menu entries
	"cmd.register", "cmd.queue", "cmd.summary", // staff commands
	"cmd.invite", "cmd.staff", "cmd.chart", //
	"dashboard.", "cmd.dashboard", // the web dashboard and its /dasbor link, for staff
	"privacy.mydata_staff", "errors.staff_only", // staff-only lines
	"mytickets.staff_",                             // notices to the ticket's staff
	"lang.choose",                                  // bilingual on purpose
	"routing.staff", "usul.staff", "sanggah.staff", // staff sides of other features' catalogs
	"announcing.", "menu.announce", "cmd.announce", // supervisors writing announcements
}

func citizenFacing(key string) bool {
	for _, p := range staffKeys {
		if strings.HasPrefix(key, p) {
			return false
		}
	}
	return true
}

// banned words in citizen-facing Indonesian, with the wording to use.
var bannedID = []struct{ re, why string }{
	{`(?i)\banda\b`, `address the citizen as "Bapak/Ibu"`},
	{`(?i)\bkamu\b`, `address the citizen as "Bapak/Ibu"`},
	{`(?i)\bkarakter\b`, `say "huruf"`},
	{`(?i)\bdianonimkan\b|\banonim`, `say what happens ("nama dan isi ... dihilangkan")`},
	{`(?i)\bantrian\b`, `KBBI: "antrean"`},
	{`(?i)\brespons?\b`, `say "tanggapan"`},
	{`(?i)\bsupervisor\b`, `name the office (Dinas Sosial kabupaten/kota, provinsi, Kementerian Sosial (pusat))`},
	{`(?i)\bpendamping\b`, `the generic worker role is "petugas"`},
	{`(?i)\b(di)?buang\b`, `say "hapus"`},
	{`(?i)\blaporan\b`, `one term: "pengaduan"`},
	{`(?i)\bbatas waktu\b|\btarget selesai\b`, `one term: "tenggat"`},
	{`\bBapak\b(?:[^/]|$)|(?:^|[^/])\bIbu\b`, `always "Bapak/Ibu" together`},
}

// banned phrases in citizen-facing English.
var bannedEN = []struct{ re, why string }{
	{`KTP/KK|ID card \(KK\)`, `KK is a family card, not an ID card: "ID card (KTP) or family card (KK)"`},
	{`(?i)(not|within) our authority`, `say "outside our remit"`},
	{`(?i)\bsupervisor\b`, `name the office`},
	{`(?i)anonymi[sz]ed`, `say what happens`},
}

// mustAddress are citizen-facing keys that speak to the citizen and must
// say "Bapak/Ibu" (the ones issue 11 names, and a few more).
var mustAddress = []string{
	"general.error", "general.too_fast", "general.resume_question",
	"consent.notice", "consent.required", "consent.thanks", "consent.declined",
	"check.limit_user", "check.ask_nik", "complaint.ask_category", "complaint.filed_follow",
	"ct.resolved", "ct.claimed", "privacy.deleted.other", "privacy.mydata",
}

// rawCatalog reads every message of dir as lang -> key -> raw text; plural
// forms appear as key.one, key.other.
func rawCatalog(t *testing.T, fsys fs.FS, dir string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	files, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogs in %s: %v", dir, err)
	}
	for _, f := range files {
		parts := strings.Split(path.Base(f), ".")
		lang := parts[len(parts)-2]
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			t.Fatal(err)
		}
		var tree map[string]any
		if err := toml.Unmarshal(raw, &tree); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if out[lang] == nil {
			out[lang] = map[string]string{}
		}
		var walk func(prefix string, m map[string]any)
		walk = func(prefix string, m map[string]any) {
			for k, v := range m {
				switch v := v.(type) {
				case string:
					out[lang][prefix+k] = v
				case map[string]any:
					walk(prefix+k+".", v)
				}
			}
		}
		walk("", tree)
	}
	return out
}

// lint returns one line per rule broken.
func lint(cat map[string]map[string]string) []string {
	var problems []string
	check := func(lang string, rules []struct{ re, why string }) {
		keys := make([]string, 0, len(cat[lang]))
		for k := range cat[lang] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !citizenFacing(k) {
				continue
			}
			for _, r := range rules {
				if m := regexp.MustCompile(r.re).FindString(cat[lang][k]); m != "" {
					problems = append(problems, fmt.Sprintf("%s %s: %q: %s", lang, k, strings.TrimSpace(m), r.why))
				}
			}
		}
	}
	check("id", bannedID)
	check("en", bannedEN)
	for _, k := range mustAddress {
		if s, ok := cat["id"][k]; ok && !strings.Contains(s, "Bapak/Ibu") {
			problems = append(problems, fmt.Sprintf("id %s: does not address the citizen as \"Bapak/Ibu\"", k))
		}
	}
	return problems
}

func TestCitizenLanguage(t *testing.T) {
	cat := rawCatalog(t, os.DirFS("."), "catalog")
	for _, k := range mustAddress {
		if _, ok := cat["id"][k]; !ok {
			t.Errorf("mustAddress names %s, which is not in the id catalog", k)
		}
	}
	for _, p := range lint(cat) {
		t.Error(p)
	}
}

// TestCitizenLanguageCatches shows that the lint fails on the mistakes it
// is meant for, and leaves staff keys alone.
func TestCitizenLanguageCatches(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("x.id.toml", `
[general]
error = "Maaf, terjadi gangguan. Tim kami sudah dicatat."
too_fast = "Pesan Anda terlalu cepat."
[complaint]
too_short = "Terlalu pendek (5 karakter)."
x = "Ibu dapat mengecek antrian."
[staff]
prompt = "Anda dapat menulis paling banyak 10 karakter."
[privacy.deleted]
other = "Data Bapak/Ibu sudah dihapus ({{.Count}} tiket dianonimkan)."
`)
	write("x.en.toml", `
[nik]
empty = "Type the NIK on your ID card (KTP/KK)."
[staff]
x = "Ask your supervisor."
`)
	got := strings.Join(lint(rawCatalog(t, os.DirFS(dir), ".")), "\n")
	for _, want := range []string{
		`id general.too_fast: "Anda"`,
		`id complaint.too_short: "karakter"`,
		`id complaint.x: "antrian"`,
		`id complaint.x: "Ibu`,
		`id privacy.deleted.other: "dianonimkan"`,
		`id general.error: does not address`,
		`en nik.empty: "KTP/KK"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lint missed %s; it said:\n%s", want, got)
		}
	}
	for _, not := range []string{"staff.prompt", "staff.x", "Bapak/Ibu sudah"} {
		if strings.Contains(got, not) {
			t.Errorf("lint flagged %s, which is fine; it said:\n%s", not, got)
		}
	}
}
