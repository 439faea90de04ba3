package bansosbot

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRegionCode(t *testing.T) {
	tests := []struct {
		in   string
		want RegionCode
		ok   bool
	}{
		{"32", "32", true},
		{"3201", "32.01", true},
		{"320101", "32.01.01", true},
		{"3201012001", "32.01.01.2001", true},
		{"32.01", "32.01", true},
		{"32.01.01", "32.01.01", true},
		{" 32.01.01.2001 ", "32.01.01.2001", true},
		{"32-01-01", "32.01.01", true},
		{"32 01 01", "32.01.01", true},
		{"", "", false},
		{"3", "", false},
		{"320", "", false},
		{"32010", "", false},
		{"32.1", "", false},
		{"32.010", "", false},
		{"32.01.01.201", "", false},
		{"32.01.01.20011", "", false},
		{"32.01.01.2001.01", "", false},
		{"3a.01", "", false},
		{"32..01", "32.01", true}, // empty segments between separators are ignored
		{"abcdef", "", false},
		{"32010120011", "", false},
	}
	for _, tt := range tests {
		got, err := ParseRegionCode(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("ParseRegionCode(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || ErrorKey(err) != "region.bad_code" || ErrorCode(err) != EInvalid {
			t.Errorf("ParseRegionCode(%q) = %q, %v; want error region.bad_code", tt.in, got, err)
		}
	}
}

func TestRegionCodeParts(t *testing.T) {
	tests := []struct {
		c                                   RegionCode
		level                               int
		province, regency, district, parent RegionCode
		undotted                            string
		valid                               bool
	}{
		{"", 0, "", "", "", "", "", false},
		{"32", 1, "32", "", "", "", "32", true},
		{"32.01", 2, "32", "32.01", "", "32", "3201", true},
		{"32.01.01", 3, "32", "32.01", "32.01.01", "32.01", "320101", true},
		{"32.01.01.2001", 4, "32", "32.01", "32.01.01", "32.01.01", "3201012001", true},
		{"320101", 0, "", "", "", "", "320101", false},
		{"32x01", 2, "32", "32x01", "", "32", "32x01", false},
	}
	for _, tt := range tests {
		c := tt.c
		if got := c.Level(); got != tt.level {
			t.Errorf("%q.Level() = %d; want %d", c, got, tt.level)
		}
		if got := c.Province(); got != tt.province {
			t.Errorf("%q.Province() = %q; want %q", c, got, tt.province)
		}
		if got := c.Regency(); got != tt.regency {
			t.Errorf("%q.Regency() = %q; want %q", c, got, tt.regency)
		}
		if got := c.District(); got != tt.district {
			t.Errorf("%q.District() = %q; want %q", c, got, tt.district)
		}
		if got := c.Parent(); got != tt.parent {
			t.Errorf("%q.Parent() = %q; want %q", c, got, tt.parent)
		}
		if got := c.Undotted(); got != tt.undotted {
			t.Errorf("%q.Undotted() = %q; want %q", c, got, tt.undotted)
		}
		if got := c.Valid(); got != tt.valid {
			t.Errorf("%q.Valid() = %v; want %v", c, got, tt.valid)
		}
	}
}

func TestRegionCodeCovers(t *testing.T) {
	tests := []struct {
		c, other RegionCode
		want     bool
	}{
		{"", "", true},
		{"", "32", true},
		{"", "32.01.05.2001", true},
		{"32", "32", true},
		{"32", "32.01", true},
		{"32", "33.01", false},
		{"32", "320", false},
		{"32.01", "32.01", true},
		{"32.01", "32.01.05", true},
		{"32.01", "32.01.05.2001", true},
		{"32.01", "32.010", false},
		{"32.01", "32.02.05", false},
		{"32.01", "32", false},
		{"32.01", "", false},
		{"32.01.05", "32.01.05.2001", true},
		{"32.01.05.2001", "32.01.05.2001", true},
		{"32.01.05.2001", "32.01.05.2002", false},
		{"32.01.05.2001", "32.01.05", false},
	}
	for _, tt := range tests {
		if got := tt.c.Covers(tt.other); got != tt.want {
			t.Errorf("%q.Covers(%q) = %v; want %v", tt.c, tt.other, got, tt.want)
		}
	}
}

func TestRegionTimeZone(t *testing.T) {
	want := map[string][]string{
		TimeZoneWIB:  {"11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36", "61", "62"},
		TimeZoneWITA: {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"},
		TimeZoneWIT:  {"81", "82", "91", "92", "93", "94", "95", "96"},
	}
	offsets := map[string]int{TimeZoneWIB: 7 * 3600, TimeZoneWITA: 8 * 3600, TimeZoneWIT: 9 * 3600}
	names := map[string]string{TimeZoneWIB: "Asia/Jakarta", TimeZoneWITA: "Asia/Makassar", TimeZoneWIT: "Asia/Jayapura"}
	instant := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	seen := 0
	for zone, provinces := range want {
		for _, p := range provinces {
			for _, c := range []RegionCode{RegionCode(p), RegionCode(p) + ".01.02"} {
				if got := c.TimeZoneName(); got != zone {
					t.Errorf("%q.TimeZoneName() = %q; want %q", c, got, zone)
				}
				loc := c.TimeZone()
				if loc == nil || loc.String() != names[zone] {
					t.Errorf("%q.TimeZone() = %v; want %s", c, loc, names[zone])
					continue
				}
				if _, off := instant.In(loc).Zone(); off != offsets[zone] {
					t.Errorf("%q: offset %d; want %d", c, off, offsets[zone])
				}
			}
			seen++
		}
	}
	// Every province of the embedded list has a zone listed above.
	for _, p := range DefaultRegions().Children("") {
		if !slices.Contains(want[p.Code.TimeZoneName()], string(p.Code)) {
			t.Errorf("province %s (%s) not in the zone table", p.Code, p.Name)
		}
	}
	if seen != 38 {
		t.Errorf("zone table has %d provinces; want 38", seen)
	}
	for _, c := range []RegionCode{"", "99", "x"} {
		if got := c.TimeZoneName(); got != TimeZoneWIB {
			t.Errorf("%q.TimeZoneName() = %q; want WIB", c, got)
		}
		if c.TimeZone() == nil {
			t.Errorf("%q.TimeZone() = nil", c)
		}
	}
}

func TestDefaultRegionsCounts(t *testing.T) {
	rs := DefaultRegions()
	if rs != DefaultRegions() {
		t.Fatal("DefaultRegions() is not shared")
	}
	levels := map[int]int{}
	for i := 0; i < rs.Len(); i++ {
		c := RegionCode(rs.code(i))
		levels[c.Level()]++
		if p := c.Parent(); p != "" {
			if _, ok := rs.Get(p); !ok {
				t.Errorf("%s has no parent %s", c, p)
			}
		}
	}
	want := map[int]int{1: 38, 2: 514, 3: 7285, 4: 83762}
	for lvl, n := range want {
		if levels[lvl] != n {
			t.Errorf("level %d: %d regions; want %d", lvl, levels[lvl], n)
		}
	}
	provinces := rs.Children("")
	if len(provinces) != 38 {
		t.Fatalf("Children(\"\") has %d; want 38", len(provinces))
	}
	if provinces[0].Code != "11" || provinces[0].Name != "Aceh" || provinces[0].Level != 1 {
		t.Errorf("first province = %+v; want 11 Aceh", provinces[0])
	}
	if !slices.IsSortedFunc(provinces, func(a, b Region) int { return strings.Compare(string(a.Code), string(b.Code)) }) {
		t.Error("provinces not sorted")
	}
	children := []struct {
		code RegionCode
		n    int
	}{
		{"32", 27},       // Jawa Barat: 18 kabupaten + 9 kota
		{"32.01.01", 13}, // kecamatan Cibinong: its villages
		{"32.01.01.1006", 0},
		{"99", 0},
	}
	for _, tt := range children {
		got := rs.Children(tt.code)
		if len(got) != tt.n {
			t.Errorf("Children(%q) has %d; want %d", tt.code, len(got), tt.n)
		}
		for _, r := range got {
			if r.Code.Parent() != tt.code || r.Level != tt.code.Level()+1 {
				t.Errorf("Children(%q) contains %+v", tt.code, r)
			}
		}
	}
}

func TestRegionsGetPathDisplay(t *testing.T) {
	rs := DefaultRegions()
	r, ok := rs.Get("32.01.01")
	if !ok || r.Name != "Cibinong" || r.Level != 3 {
		t.Errorf("Get(32.01.01) = %+v, %v; want Cibinong level 3", r, ok)
	}
	if r, ok := rs.Get(""); ok {
		t.Errorf("Get(\"\") = %+v, true; want false", r)
	}
	if r, ok := rs.Get("32.01.99"); ok {
		t.Errorf("Get(32.01.99) = %+v, true; want false", r)
	}
	path := rs.Path("32.01.01.1006")
	var names []string
	for _, p := range path {
		names = append(names, p.Name)
	}
	if want := []string{"Jawa Barat", "Kabupaten Bogor", "Cibinong", "Cibinong"}; !slices.Equal(names, want) {
		t.Errorf("Path(32.01.01.1006) = %q; want %q", names, want)
	}
	displays := []struct {
		code RegionCode
		want string
	}{
		{"32.01.01", "Cibinong, Kabupaten Bogor, Jawa Barat"},
		{"32.73", "Kota Bandung, Jawa Barat"},
		{"32", "Jawa Barat"},
		{"", ""},
		{"32.01.99", "32.01.99"},
	}
	for _, tt := range displays {
		if got := rs.DisplayName(tt.code); got != tt.want {
			t.Errorf("DisplayName(%q) = %q; want %q", tt.code, got, tt.want)
		}
	}
}

func TestRegionsSearch(t *testing.T) {
	rs := DefaultRegions()
	codes := func(rr []Region) []RegionCode {
		var out []RegionCode
		for _, r := range rr {
			out = append(out, r.Code)
		}
		return out
	}
	tests := []struct {
		query  string
		level  int
		within RegionCode
		limit  int
		first  []RegionCode // the results must start with these
		has    []RegionCode // and contain these
		n      int          // exact count when >= 0
	}{
		{query: "cibinong", first: []RegionCode{"32.01.01", "32.01.01.1006", "32.01.11.2008", "32.14.03.2006"}, has: []RegionCode{"32.03.04.2005"}, n: -1},
		{query: "CIBINONG", first: []RegionCode{"32.01.01"}, n: -1},
		{query: "  cibin", first: []RegionCode{"32.01.01"}, n: -1},
		{query: "Cibinong!!", first: []RegionCode{"32.01.01"}, n: -1},
		{query: "kecamatan cibinong", first: []RegionCode{"32.01.01"}, n: -1},
		{query: "cibinong", level: 3, first: []RegionCode{"32.01.01"}, n: 1},
		{query: "cibinong", level: 4, within: "32.01", first: []RegionCode{"32.01.01.1006", "32.01.11.2008"}, n: 2},
		{query: "cibinong", limit: 2, first: []RegionCode{"32.01.01", "32.01.01.1006"}, n: 2},
		{query: "kota bandung", first: []RegionCode{"32.73"}, n: -1},
		{query: "kota   bandung.", first: []RegionCode{"32.73"}, n: -1},
		{query: "bandung", level: 2, first: []RegionCode{"32.04", "32.73", "32.17"}, n: 3},
		{query: "kab bogor", first: []RegionCode{"32.01"}, n: -1},
		{query: "cibinong hilir", first: []RegionCode{"32.03.04.2005"}, n: -1},
		{query: "cibinong bogor", level: 3, first: []RegionCode{"32.01.01"}, n: 1},
		{query: "ma'u", level: 3, first: []RegionCode{"12.04.28"}, n: -1},
		{query: "sangalla", level: 3, first: []RegionCode{"73.18.13"}, n: -1},
		{query: "cibinong", within: "32.0", n: 0},
		{query: "xyzzy nowhere", n: 0},
		{query: "", n: 0},
		{query: " ... ", n: 0},
	}
	for _, tt := range tests {
		got := codes(rs.Search(tt.query, tt.level, tt.within, tt.limit))
		if tt.n >= 0 && len(got) != tt.n {
			t.Errorf("Search(%q, %d, %q, %d) = %d results %v; want %d", tt.query, tt.level, tt.within, tt.limit, len(got), head(got), tt.n)
		}
		if len(got) < len(tt.first) || !slices.Equal(got[:len(tt.first)], tt.first) {
			t.Errorf("Search(%q, %d, %q, %d) starts %v; want %v", tt.query, tt.level, tt.within, tt.limit, head(got), tt.first)
		}
		for _, c := range tt.has {
			if !slices.Contains(got, c) {
				t.Errorf("Search(%q) lacks %s", tt.query, c)
			}
		}
		for _, c := range got {
			if tt.level != 0 && c.Level() != tt.level {
				t.Errorf("Search(%q, level %d) returned %s", tt.query, tt.level, c)
			}
			if !tt.within.Covers(c) {
				t.Errorf("Search(%q, within %q) returned %s", tt.query, tt.within, c)
			}
		}
	}
}

func head(c []RegionCode) []RegionCode { return c[:min(len(c), 6)] }

func TestLoadRegionsErrors(t *testing.T) {
	tests := []struct {
		name, regions, villages string
	}{
		{"bad header", "kode,nama,level\n11,Aceh,1\n", ""},
		{"bad code", "code,name,level\n1,Aceh,1\n", ""},
		{"level mismatch", "code,name,level\n11,Aceh,2\n", ""},
		{"duplicate", "code,name,level\n11,Aceh,1\n11,Aceh,1\n", ""},
		{"empty name", "code,name,level\n11,,1\n", ""},
		{"village in regions", "code,name,level\n11.01.01.2001,X,4\n", ""},
		{"region in villages", "code,name,level\n11,Aceh,1\n", "code,name\n11.01,X\n"},
		{"too many fields", "code,name,level\n11,Aceh,1,x\n", ""},
	}
	for _, tt := range tests {
		var v *strings.Reader
		if tt.villages != "" {
			v = strings.NewReader(tt.villages)
		}
		var err error
		if v != nil {
			_, err = LoadRegions(strings.NewReader(tt.regions), v)
		} else {
			_, err = LoadRegions(strings.NewReader(tt.regions), nil)
		}
		if err == nil {
			t.Errorf("%s: LoadRegions succeeded; want an error", tt.name)
		}
	}
	rs, err := LoadRegions(strings.NewReader("code,name,level\r\n11,Aceh,1\r\n11.01,\"Kabupaten Aceh Selatan\",2\r\n"), nil)
	if err != nil || rs.Len() != 2 {
		t.Fatalf("LoadRegions(small) = %v, %v; want 2 regions", rs, err)
	}
	if got := rs.DisplayName("11.01"); got != "Kabupaten Aceh Selatan, Aceh" {
		t.Errorf("DisplayName = %q; want %q", got, "Kabupaten Aceh Selatan, Aceh")
	}
}

func BenchmarkRegionsSearch(b *testing.B) {
	rs := DefaultRegions()
	for b.Loop() {
		rs.Search("cibinong", 0, "", 10)
	}
}

func TestRegionsResolve(t *testing.T) {
	rs := DefaultRegions()
	tests := []struct {
		query    string
		maxLevel int
		want     RegionCode // "" when ambiguous or unknown
		cands    []RegionCode
	}{
		{"kab bogor", 3, "32.01", nil},
		{"Kabupaten Bogor", 3, "32.01", nil},
		{"kota bogor", 3, "32.71", nil},
		{"bogor", 3, "", []RegionCode{"32.01", "32.71"}},
		{"jawa barat", 3, "32", nil},
		{"no such place xyz", 3, "", nil},
	}
	for _, tt := range tests {
		r, cands, ok := rs.Resolve(tt.query, tt.maxLevel, 10)
		if tt.want != "" {
			if !ok || r.Code != tt.want {
				t.Errorf("Resolve(%q) = %v, %v; want %s", tt.query, r.Code, ok, tt.want)
			}
			continue
		}
		if ok {
			t.Errorf("Resolve(%q) = %s; want no single answer", tt.query, r.Code)
		}
		for _, c := range tt.cands {
			if !slices.ContainsFunc(cands, func(r Region) bool { return r.Code == c }) {
				t.Errorf("Resolve(%q) candidates %v lack %s", tt.query, cands, c)
			}
		}
	}
}
