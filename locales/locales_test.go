package locales_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/locales"
)

func TestEveryKeyInEveryLanguage(t *testing.T) {
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	langs := c.Languages()
	if len(langs) < 2 || langs[0] != "en" || langs[1] != "id" {
		t.Fatalf("languages = %v; want [en id]", langs)
	}
	for _, a := range langs {
		for _, b := range langs {
			for _, k := range c.Keys(a) {
				if !c.Has(b, k) {
					t.Errorf("key %s exists in %s but not in %s", k, a, b)
				}
			}
		}
	}
}

func TestFallbackAndPlural(t *testing.T) {
	c := locales.MustDefault()
	tests := []struct {
		lang, key string
		args      map[string]any
		want      string
	}{
		{"id", "month.12", nil, "Desember"},
		{"en", "month.12", nil, "December"},
		{"fr", "month.12", nil, "Desember"}, // unknown language falls back to Indonesian
		{"en", "no.such.key", nil, "[no.such.key]"},
		{"en", "general.unknown_command", map[string]any{"Command": "/x"}, "Unknown command /x."},
	}
	for _, tt := range tests {
		if got := c.Text(tt.lang, tt.key, tt.args); got != tt.want {
			t.Errorf("Text(%s, %s) = %q; want %q", tt.lang, tt.key, got, tt.want)
		}
	}
	// Count selects plural forms where a message has them and is accepted
	// by a message that has none.
	for _, tt := range []struct {
		lang  string
		count int
		want  string
	}{
		{"en", 1, "deleted. Your name and the content of 1 complaint have been removed."},
		{"en", 2, "deleted. Your name and the content of 2 complaints have been removed."},
		{"en", 0, "deleted. Thank you"},
		{"id", 1, "dihapus. Nama dan isi 1 pengaduan juga"},
		{"id", 5, "dihapus. Nama dan isi 5 pengaduan juga"},
		{"id", 0, "dihapus. Terima kasih"},
	} {
		if got := c.Text(tt.lang, "privacy.deleted", map[string]any{"Count": tt.count}); !strings.Contains(got, tt.want) {
			t.Errorf("privacy.deleted %s Count=%d = %q; want %q", tt.lang, tt.count, got, tt.want)
		}
	}
	// A message without plural forms accepts a Count too.
	if got := c.Text("en", "general.unknown_command", map[string]any{"Command": "/x", "Count": 3}); got != "Unknown command /x." {
		t.Errorf("Count on a simple message = %q", got)
	}
}

// TestKeysUsedInCodeExist parses the Go code that produces replies and
// checks that every locale key it names exists: T("key", ...),
// Errorf(code, "key", ...) and Msg{Key: "key"}. A key built by
// concatenation ("status." + s) must match at least one key.
func TestKeysUsedInCodeExist(t *testing.T) {
	c := locales.MustDefault()
	keys := c.Keys("id")
	has := func(k string, prefix bool) bool {
		for _, x := range keys {
			if x == k || prefix && strings.HasPrefix(x, k) {
				return true
			}
		}
		return false
	}
	found := 0
	for _, dir := range []string{"..", "../flows", "../bot", "../cmd/bansosbot", "../store"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			for _, u := range keysIn(t, f) {
				found++
				if !has(u.key, u.prefix) {
					t.Errorf("%s: locale key %q (prefix=%v) is not in the catalog", u.pos, u.key, u.prefix)
				}
			}
		}
	}
	if found < 20 {
		t.Fatalf("found only %d key uses; the scanner is broken", found)
	}
}

type use struct {
	pos    string
	key    string
	prefix bool
}

func keysIn(t *testing.T, file string) []use {
	t.Helper()
	fset := token.NewFileSet()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(fset, file, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []use
	add := func(e ast.Expr) {
		if k, prefix, ok := keyOf(e); ok {
			out = append(out, use{fset.Position(e.Pos()).String(), k, prefix})
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			switch name := funcName(n.Fun); {
			case name == "T" && len(n.Args) > 0:
				add(n.Args[0])
			case name == "Errorf" && len(n.Args) > 1:
				add(n.Args[1])
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Key" {
				add(n.Value)
			}
		}
		return true
	})
	return out
}

func funcName(e ast.Expr) string {
	switch f := e.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok && (x.Name == "bansosbot" || x.Name == "flows") {
			return f.Sel.Name
		}
	}
	return ""
}

// keyOf returns the key of a string literal, or the literal prefix of a
// concatenation starting with one.
func keyOf(e ast.Expr) (string, bool, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind == token.STRING {
			s, err := strconv.Unquote(v.Value)
			return s, false, err == nil && strings.Contains(s, ".")
		}
	case *ast.BinaryExpr:
		if k, _, ok := keyOf(v.X); ok && v.Op == token.ADD {
			return k, true, true
		}
	}
	return "", false, false
}

func TestLoadFSRejectsDuplicates(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a.id.toml": "[x]\ny = \"1\"\n",
		"b.id.toml": "[x]\ny = \"2\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := locales.LoadFS(os.DirFS(dir), "."); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("LoadFS with a duplicate key: err = %v; want 'defined twice'", err)
	}
}

// TestPrivacyNoticeContact: the notice points to "the contact above" only
// when a contact is configured (BANSOSBOT_CONTROLLER_CONTACT); without
// one it does not send the citizen looking for a contact that is not
// there (issue 11 item 11).
func TestPrivacyNoticeContact(t *testing.T) {
	c := locales.MustDefault()
	above := map[string]string{"id": "kontak di atas", "en": "contact above"}
	for _, lang := range []string{"id", "en"} {
		args := map[string]any{"Controller": "Dinas Sosial", "Version": 1, "Retention": "1 tahun"}
		if got := c.Text(lang, "consent.notice", args); strings.Contains(got, above[lang]) {
			t.Errorf("%s without a contact: %q mentions %q", lang, got, above[lang])
		}
		args["Contact"] = "0251-123456"
		if got := c.Text(lang, "consent.notice", args); !strings.Contains(got, "0251-123456") || !strings.Contains(got, above[lang]) {
			t.Errorf("%s with a contact: %q; want the contact and %q", lang, got, above[lang])
		}
	}
}

// TestStaffHistoryOneFormat: every line of a ticket's history as staff
// read it ("4 Desember 2026 12.01 WIB · Budi ...") has one format, the
// usul checklist and outcome too (the citizen's history has its own).
func TestStaffHistoryOneFormat(t *testing.T) {
	c := locales.MustDefault()
	n := 0
	for _, lang := range c.Languages() {
		for _, k := range c.Keys(lang) {
			if !strings.HasPrefix(k, "staff.ev_") && !strings.HasPrefix(k, "desk.evt_") && !strings.HasPrefix(k, "usul.staff.ev_") {
				continue
			}
			n++
			got := c.Text(lang, k, map[string]any{"At": "AT", "Who": "WHO"})
			if !strings.HasPrefix(got, "AT · ") {
				t.Errorf("%s %s = %q; want it to start like the other history lines, \"{{.At}} · \"", lang, k, got)
			}
		}
	}
	if n < 20 {
		t.Errorf("checked %d history keys; the key names changed?", n)
	}
}
