package bansosbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Wawan Lestari", "W***N L*****I"},
		{"WIRMAN LUBIS", "W****N L***S"},
		{"  siti   nur'aini ", "S**I N*****I"},
		{"I Wayan Sudarta", "I W***N S*****A"},
		{"AN", "A*"},
		{"Ni Luh Putu", "N* L*H P**U"},
		{"Dominggus Latuconsina-Pattiasina", "D*******S L*********A P********A"},
		{"Élodie", "É****E"},
		{"", ""},
		{"-- ''", ""},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	same := [][]string{
		{"Siti Nur'aini", "SITI NURAINI", " siti  nuraini ", "Siti Nur’aini", "SITI\tNURAINI"},
		{"I Wayan Sudarta", "I. WAYAN SUDARTA", "i wayan-sudarta"},
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if NormalizeName(s) != NormalizeName(group[0]) {
				t.Errorf("NormalizeName(%q) = %q; want %q like %q", s, NormalizeName(s), NormalizeName(group[0]), group[0])
			}
		}
	}
	if NormalizeName("Siti Nur Aini") == NormalizeName("Siti Nuraini") {
		t.Error("NormalizeName keeps the words as written (masks show them); FoldName joins them")
	}
}

func TestHashNIK(t *testing.T) {
	nik := NIK("3201011203850001")
	key := []byte("secret")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(nik))
	var want NIKHash
	copy(want[:], mac.Sum(nil))
	if got := HashNIK(key, nik); got != want {
		t.Errorf("HashNIK = %x; want HMAC-SHA256(key, digits) = %x", got, want)
	}
	if HashNIK([]byte("other"), nik) == want {
		t.Error("HashNIK does not depend on the key")
	}
	h := NewHasher(key)
	for range 3 { // a reused Hasher gives the same answers
		if h.NIK(nik) != want {
			t.Fatal("Hasher.NIK differs from HashNIK")
		}
	}
}

func TestNameVerifier(t *testing.T) {
	key := []byte("secret")
	a, b := HashNIK(key, "3201011203850001"), HashNIK(key, "3201011203850002")
	v := NameVerifier(key, a, "Wawan Lestari")
	if NameVerifier(key, a, "  WAWAN   lestari ") != v {
		t.Error("the verifier must ignore case and spacing")
	}
	if NameVerifier(key, b, "Wawan Lestari") == v {
		t.Error("the verifier must be bound to the NIK: two people with the same name share it")
	}
	if NameVerifier(key, a, "Wawan Lestary") == v {
		t.Error("a different name gives the same verifier")
	}
	if NameVerifier([]byte("other"), a, "Wawan Lestari") == v {
		t.Error("the verifier does not depend on the key")
	}
	r := Record{Name: v}
	if !r.Matches(v) || r.Matches(NameVerifier(key, a, "Wawan")) {
		t.Error("Record.Matches is wrong")
	}
}

// TestRecordMatchesName: a record matches the spellings FoldName forgives,
// also when it was imported before names were folded (its verifier is of
// the plain form), and nothing else.
func TestRecordMatchesName(t *testing.T) {
	key := []byte("secret")
	n := HashNIK(key, "3201011203850001")
	h := NewHasher(key)
	folded := Record{NIK: n, Name: h.Name(n, "Muhammad Rizki")}
	plain := Record{NIK: n, Name: h.formName(n, NormalizeName("Muhammad Rizki"))} // imported before FoldName
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"Muhammad Rizki", true},
		{"MUHAMMAD  RIZKI", true},
		{"Mohammad Rizki", true},
		{"Moh. Rizki", true},
		{"Muhammad Rizky", false},
		{"Rizki", false},
		{"M. Rizki", false},
	} {
		if got := folded.MatchesName(key, tt.name); got != tt.want {
			t.Errorf("folded record: MatchesName(%q) = %v; want %v", tt.name, got, tt.want)
		}
		// The plain record knows only the exact words; its folded
		// spellings match only through folding "muhamad rizki".
		wantPlain := tt.name == "Muhammad Rizki" || tt.name == "MUHAMMAD  RIZKI"
		if got := plain.MatchesName(key, tt.name); got != wantPlain {
			t.Errorf("plain record: MatchesName(%q) = %v; want %v", tt.name, got, wantPlain)
		}
	}
	if folded.MatchesName([]byte("other"), "Muhammad Rizki") {
		t.Error("MatchesName ignores the key")
	}
}

func TestLoadPrograms(t *testing.T) {
	ps := DefaultPrograms()
	for _, code := range []string{"PKH", "SEMBAKO", "PBI-JK"} {
		p, ok := ps.Get(code)
		if !ok || p.Name("id") == "" || p.Name("en") == "" {
			t.Errorf("default programs: %s missing or unnamed", code)
		}
	}
	if p, _ := ps.Get("PKH"); p.Name("fr") != p.Name("id") {
		t.Error("an unknown language must fall back to Indonesian")
	}
	bad := map[string]string{
		"empty":        `[]`,
		"not json":     `{`,
		"unknown key":  `[{"code":"PKH","names":{"id":"a","en":"b"},"x":1}]`,
		"lower code":   `[{"code":"pkh","names":{"id":"a","en":"b"}}]`,
		"comma code":   `[{"code":"P,KH","names":{"id":"a","en":"b"}}]`,
		"duplicate":    `[{"code":"PKH","names":{"id":"a","en":"b"}},{"code":"PKH","names":{"id":"a","en":"b"}}]`,
		"no english":   `[{"code":"PKH","names":{"id":"a"}}]`,
		"desil range":  `[{"code":"PKH","names":{"id":"a","en":"b"},"desil":[0,4]}]`,
		"desil order":  `[{"code":"PKH","names":{"id":"a","en":"b"},"desil":[5,4]}]`,
		"desil single": `[{"code":"PKH","names":{"id":"a","en":"b"},"desil":[4]}]`,
	}
	for name, src := range bad {
		if _, err := LoadPrograms(strings.NewReader(src)); err == nil {
			t.Errorf("LoadPrograms(%s) = nil error", name)
		}
	}
}

func testColumns(t *testing.T, header string) *RegistryColumns {
	t.Helper()
	c, err := ParseRegistryHeader(strings.Split(header, ","), DefaultPrograms())
	if err != nil {
		t.Fatalf("ParseRegistryHeader(%q): %v", header, err)
	}
	return c
}

func TestParseRegistryHeader(t *testing.T) {
	c := testColumns(t, "\ufeffNIK,Name,DESIL,pbi-jk,PKH,pkh_period,PKH_Remark")
	if len(c.Programs) != 2 || c.Programs[0].Code != "PKH" || c.Programs[1].Code != "PBI-JK" {
		t.Errorf("programs = %v; want PKH, PBI-JK in configuration order", c.Programs)
	}
	// Only the three required columns: valid, no programs (issue 12 item 5).
	if c := testColumns(t, "nik,name,desil"); len(c.Programs) != 0 {
		t.Errorf("nik,name,desil: programs %v", c.Programs)
	}
	bad := []struct{ header, key string }{
		{"nik,name,PKH", "registry.header_missing"},
		{"name,desil,PKH", "registry.header_missing"},
		{"nik,name,desil,PKH,PKH_periode", "registry.header_unknown"},
		{"nik,name,desil,PKH,pkh", "registry.header_duplicate"},
		{"nik,name,desil,PKH,SEMBAKO_period", "registry.header_missing"},
	}
	for _, tt := range bad {
		_, err := ParseRegistryHeader(strings.Split(tt.header, ","), DefaultPrograms())
		if ErrorKey(err) != tt.key {
			t.Errorf("ParseRegistryHeader(%q) = %v; want %s", tt.header, err, tt.key)
		}
	}
}

func TestRegistryRecord(t *testing.T) {
	key := []byte("k")
	c := testColumns(t, "nik,name,desil,PKH,PKH_period,PKH_remark,SEMBAKO,PBI-JK")
	h := NewHasher(key)
	tests := []struct {
		row string
		key string // error key; "" when valid
	}{
		{"3201011203850001,Wawan Lestari,2,Y,Oktober-Desember 2026,Dana sudah tersalurkan,ya,1", ""},
		{"3201 0112 0385 0001,wawan lestari,,n,-,-,TIDAK,0", ""},
		{"3201011203850001,Wawan,10,yes,,,no,true", ""},
		{"320101120385001,Wawan,2,Y,,,Y,Y", "nik.wrong_length"},
		{"3201011203850000,Wawan,2,Y,,,Y,Y", "nik.zero_serial"},
		{"9901011203850001,Wawan,2,Y,,,Y,Y", "nik.unknown_region"},
		{"3201013202850001,Wawan,2,Y,,,Y,Y", "nik.bad_date"},
		{"3201O11203850001,Wawan,2,Y,,,Y,Y", "nik.not_digits"},
		{",Wawan,2,Y,,,Y,Y", "nik.empty"},
		{"3201011203850001, -- ,2,Y,,,Y,Y", "registry.bad_name"},
		{"3201011203850001," + strings.Repeat("A", 101) + ",2,Y,,,Y,Y", "registry.name_too_long"},
		{"3201011203850001,Wawan,11,Y,,,Y,Y", "registry.bad_desil"},
		{"3201011203850001,Wawan,dua,Y,,,Y,Y", "registry.bad_desil"},
		{"3201011203850001,Wawan,2,maybe,,,Y,Y", "registry.bad_flag"},
		{"3201011203850001,Wawan,2,Y," + strings.Repeat("x", 201) + ",,Y,Y", "registry.text_too_long"},
		{"3201011203850001,Wawan,2,Y,\xff,,Y,Y", "registry.bad_text"},
		{"3201011203850001,Wawan,2,Y,,,Y", "registry.field_count"},
	}
	for _, tt := range tests {
		var rec Record
		err := c.Record(strings.Split(tt.row, ","), h, &rec)
		if ErrorKey(err) != tt.key || (tt.key == "") != (err == nil) {
			t.Errorf("Record(%q) = %v; want %q", tt.row, err, tt.key)
		}
	}

	var rec Record
	if err := c.Record(strings.Split(tests[0].row, ","), h, &rec); err != nil {
		t.Fatal(err)
	}
	nh := HashNIK(key, "3201011203850001")
	want := Record{NIK: nh, Name: NameVerifier(key, nh, "WAWAN LESTARI"), Masked: "W***N L*****I", Province: "32", Desil: 2,
		Programs: []ProgramStatus{
			{Code: "PKH", Receives: true, Period: "Oktober-Desember 2026", Remark: "Dana sudah tersalurkan"},
			{Code: "SEMBAKO", Receives: true}, {Code: "PBI-JK", Receives: true},
		}}
	if rec.NIK != want.NIK || rec.Name != want.Name || rec.Masked != want.Masked || rec.Province != want.Province ||
		rec.Desil != want.Desil || len(rec.Programs) != 3 {
		t.Fatalf("record = %+v; want %+v", rec, want)
	}
	for i := range want.Programs {
		if rec.Programs[i] != want.Programs[i] {
			t.Errorf("program %d = %+v; want %+v", i, rec.Programs[i], want.Programs[i])
		}
	}
	// "-" means none, like the official site; N is no.
	if err := c.Record(strings.Split(tests[1].row, ","), h, &rec); err != nil || rec.Programs[0] != (ProgramStatus{Code: "PKH"}) || rec.Desil != 0 {
		t.Errorf("row with dashes = %+v, %v", rec.Programs[0], err)
	}
}

func TestRegistryStatsAdd(t *testing.T) {
	var s RegistryStats
	add := func(prov RegionCode, desil int, yes ...bool) {
		r := Record{Province: prov, Desil: desil}
		for _, y := range yes {
			r.Programs = append(r.Programs, ProgramStatus{Receives: y})
		}
		s.Add(&r)
	}
	add("33", 1, true, false)
	add("11", 0, true, true)
	add("33", 1, false, true)
	if s.Rows != 3 || s.Desil[0] != 1 || s.Desil[1] != 2 || s.Receivers[0] != 2 || s.Receivers[1] != 2 {
		t.Errorf("stats = %+v", s)
	}
	if len(s.Provinces) != 2 || s.Provinces[0].Code != "11" || s.Provinces[1].Rows != 2 || s.Provinces[1].Receivers[1] != 1 {
		t.Errorf("provinces = %+v; want 11 then 33 (2 rows, 1 receiving the second program)", s.Provinces)
	}
}

// FuzzRegistryRecord: any row either fails with a locale key or gives a
// record that holds no digit of the NIK and no full name.
func FuzzRegistryRecord(f *testing.F) {
	f.Add("3201011203850001", "Wawan Lestari", "2", "Y", "Oktober 2026")
	f.Add("3201 0112 0385 0001", "Ni Luh", "", "-", "-")
	f.Add("", "", "x", "maybe", "\xff")
	c, err := ParseRegistryHeader([]string{"nik", "name", "desil", "PKH", "PKH_period"}, DefaultPrograms())
	if err != nil {
		f.Fatal(err)
	}
	h := NewHasher([]byte("k"))
	f.Fuzz(func(t *testing.T, nik, name, desil, flag, period string) {
		var rec Record
		err := c.Record([]string{nik, name, desil, flag, period}, h, &rec)
		if err != nil {
			if ErrorKey(err) == "" {
				t.Fatalf("error without a locale key: %v", err)
			}
			return
		}
		if rec.Desil < 0 || rec.Desil > 10 || len(rec.Programs) != 1 || !rec.Province.Valid() {
			t.Fatalf("bad record %+v", rec)
		}
		if !utf8.ValidString(rec.Masked) || !utf8.ValidString(rec.Programs[0].Period) {
			t.Fatalf("invalid UTF-8 in %+v", rec)
		}
		n, _ := ParseNIK(nik)
		if strings.Contains(rec.Masked, n.Digits()[4:]) {
			t.Fatalf("masked name %q shows NIK digits", rec.Masked)
		}
		if words := strings.Fields(NormalizeName(name)); len(words) > 0 {
			for _, w := range words {
				if utf8.RuneCountInString(w) > 2 && strings.Contains(strings.ToLower(rec.Masked), w) {
					t.Fatalf("masked name %q shows the word %q", rec.Masked, w)
				}
			}
		}
	})
}
