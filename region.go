package bansosbot

import (
	"cmp"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the WIB/WITA/WIT zones must load on machines without zoneinfo
	"unicode"
	"unicode/utf8"
)

// The Kemendagri region list (Kepmendagri 300.2.2-2138/2025), from the
// MIT-licensed data set cahyadsn/wilayah; see wilayah/README.md and
// wilayah/LICENSE, which must stay next to the copy.
var (
	//go:embed wilayah/regions.csv
	regionsCSV string
	//go:embed wilayah/villages.csv
	villagesCSV string
)

// RegionCode is a Kemendagri region code in dotted form: "PP" (provinsi),
// "PP.KK" (kabupaten/kota), "PP.KK.CC" (kecamatan) or "PP.KK.CC.DDDD"
// (desa/kelurahan). The empty code stands for the whole nation.
type RegionCode string

// ParseRegionCode parses a region code typed in dotted ("32.01.01") or
// undotted ("320101") form; spaces around it are ignored, and spaces or
// dashes may stand for the dots. It checks the syntax only: use
// Regions.Get to know whether the region exists. Failures are *Error
// EInvalid "region.bad_code".
func ParseRegionCode(s string) (RegionCode, error) {
	s = strings.TrimSpace(s)
	bad := Errorf(EInvalid, "region.bad_code")
	if s == "" || len(s) > 32 {
		return "", bad
	}
	var digits string
	if strings.ContainsAny(s, ".- ") {
		segs := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' || r == ' ' })
		if len(segs) == 0 || len(segs) > 4 {
			return "", bad
		}
		for i, seg := range segs {
			want := 2
			if i == 3 {
				want = 4
			}
			if len(seg) != want {
				return "", bad
			}
		}
		digits = strings.Join(segs, "")
	} else {
		digits = s
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", bad
		}
	}
	switch len(digits) {
	case 2, 4, 6, 10:
	default:
		return "", bad
	}
	return dotted(digits), nil
}

// dotted inserts the dots into 2, 4, 6 or 10 digits.
func dotted(d string) RegionCode {
	var b strings.Builder
	b.Grow(13)
	for i := 0; i < len(d); i++ {
		if i == 2 || i == 4 || i == 6 {
			b.WriteByte('.')
		}
		b.WriteByte(d[i])
	}
	return RegionCode(b.String())
}

// Valid reports whether c is syntactically a region code of level 1-4
// (dotted, digits only). The national code "" is not Valid.
func (c RegionCode) Valid() bool {
	lvl := c.Level()
	if lvl == 0 {
		return false
	}
	for i := 0; i < len(c); i++ {
		switch {
		case i == 2 || i == 5 || i == 8:
			if c[i] != '.' {
				return false
			}
		case c[i] < '0' || c[i] > '9':
			return false
		}
	}
	return true
}

// Level is 1 for a province, 2 for a regency/city, 3 for a kecamatan, 4 for
// a village, and 0 for the nation ("") or a malformed code.
func (c RegionCode) Level() int {
	switch len(c) {
	case 2:
		return 1
	case 5:
		return 2
	case 8:
		return 3
	case 13:
		return 4
	}
	return 0
}

// Province is the level-1 prefix of c, or "" when c has none.
func (c RegionCode) Province() RegionCode { return c.prefix(1) }

// Regency is the level-2 (kabupaten/kota) prefix of c, or "" when c is
// above that level.
func (c RegionCode) Regency() RegionCode { return c.prefix(2) }

// District is the level-3 (kecamatan) prefix of c, or "" when c is above
// that level.
func (c RegionCode) District() RegionCode { return c.prefix(3) }

func (c RegionCode) prefix(level int) RegionCode {
	if c.Level() < level {
		return ""
	}
	return c[:[...]int{0, 2, 5, 8, 13}[level]]
}

// Parent is the region one level up: a village's kecamatan, a province's
// parent is the nation "". The nation's parent is "" too.
func (c RegionCode) Parent() RegionCode {
	lvl := c.Level()
	if lvl <= 1 {
		return ""
	}
	return c.prefix(lvl - 1)
}

// Covers reports whether other lies within c (or is c), comparing whole
// segments: "32.01" covers "32.01.05" and "32.01.05.2001" but not
// "32.010" nor "32.02". The nation "" covers everything.
func (c RegionCode) Covers(other RegionCode) bool {
	if c == "" {
		return true
	}
	if !strings.HasPrefix(string(other), string(c)) {
		return false
	}
	return len(other) == len(c) || other[len(c)] == '.'
}

// Undotted is the code without dots ("320101"), the form NIKs use.
func (c RegionCode) Undotted() string { return strings.ReplaceAll(string(c), ".", "") }

// Indonesian time zones.
const (
	TimeZoneWIB  = "WIB"  // Asia/Jakarta, UTC+7
	TimeZoneWITA = "WITA" // Asia/Makassar, UTC+8
	TimeZoneWIT  = "WIT"  // Asia/Jayapura, UTC+9
)

var zones = sync.OnceValue(func() map[string]*time.Location {
	load := func(name, abbr string, offset int) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil { // unreachable with time/tzdata; Indonesia has no DST
			return time.FixedZone(abbr, offset)
		}
		return loc
	}
	return map[string]*time.Location{
		TimeZoneWIB:  load("Asia/Jakarta", TimeZoneWIB, 7*3600),
		TimeZoneWITA: load("Asia/Makassar", TimeZoneWITA, 8*3600),
		TimeZoneWIT:  load("Asia/Jayapura", TimeZoneWIT, 9*3600),
	}
})

// TimeZoneName is "WIB", "WITA" or "WIT" for the region's province: WIB
// for Sumatra, Java, West and Central Kalimantan (11-36, 61, 62); WITA for
// Bali, Nusa Tenggara, South/East/North Kalimantan and Sulawesi (51-53,
// 63-65, 71-76); WIT for Maluku and Papua (81, 82, 91-96). The nation and
// unknown provinces get WIB, the capital's time.
func (c RegionCode) TimeZoneName() string {
	if len(c) < 2 {
		return TimeZoneWIB
	}
	p, err := strconv.Atoi(string(c[:2]))
	if err != nil {
		return TimeZoneWIB
	}
	switch {
	case p >= 51 && p <= 53, p >= 63 && p <= 65, p >= 71 && p <= 76:
		return TimeZoneWITA
	case p == 81, p == 82, p >= 91 && p <= 96:
		return TimeZoneWIT
	}
	return TimeZoneWIB
}

// TimeZone is the location of the region's time zone (see TimeZoneName):
// Asia/Jakarta, Asia/Makassar or Asia/Jayapura. Never nil.
func (c RegionCode) TimeZone() *time.Location { return zones()[c.TimeZoneName()] }

// Region is one administrative region.
type Region struct {
	Code  RegionCode
	Name  string // as in the official list, e.g. "Kabupaten Bogor", "Cibinong"
	Level int    // 1-4, see RegionCode.Level
}

// Regions is an index of the region list: lookups, children and name
// search. It is read-only and safe for concurrent use.
type Regions struct {
	// buf holds, for every entry, its code, name and normalised name
	// back to back; ents point into it. This keeps ~91k regions in a few MB.
	buf       string
	ents      []regionEnt // sorted by code
	provinces []Region
}

type regionEnt struct {
	off              uint32
	codeLen          uint8
	nameLen, normLen uint16
}

func (rs *Regions) code(i int) string {
	e := rs.ents[i]
	return rs.buf[e.off : e.off+uint32(e.codeLen)]
}

func (rs *Regions) name(i int) string {
	e := rs.ents[i]
	o := e.off + uint32(e.codeLen)
	return rs.buf[o : o+uint32(e.nameLen)]
}

func (rs *Regions) norm(i int) string {
	e := rs.ents[i]
	o := e.off + uint32(e.codeLen) + uint32(e.nameLen)
	return rs.buf[o : o+uint32(e.normLen)]
}

func (rs *Regions) region(i int) Region {
	c := RegionCode(rs.code(i))
	return Region{Code: c, Name: rs.name(i), Level: c.Level()}
}

var defaultRegions = sync.OnceValue(func() *Regions {
	rs, err := LoadRegions(strings.NewReader(regionsCSV), strings.NewReader(villagesCSV))
	if err != nil {
		panic("bansosbot: embedded region list is invalid: " + err.Error())
	}
	return rs
})

// DefaultRegions is the index of the embedded region list (38 provinces,
// 514 regencies/cities, 7,285 kecamatan, 83,762 villages). It is built on
// first use and shared.
func DefaultRegions() *Regions { return defaultRegions() }

// LoadRegions builds an index from CSV files in the format of
// wilayah/regions.csv (header "code,name,level", levels 1-3) and
// wilayah/villages.csv (header "code,name", level 4). villages may be nil.
// Codes must be dotted and unique.
func LoadRegions(regions, villages io.Reader) (*Regions, error) {
	rs := &Regions{}
	var b strings.Builder
	hint := 0
	for _, r := range [...]io.Reader{regions, villages} {
		if l, ok := r.(interface{ Len() int }); ok {
			hint += l.Len() * 3 / 2 // code+name+normalised name ≈ 1.5 × the CSV
		}
	}
	b.Grow(hint)
	add := func(code, name string) error {
		c := RegionCode(code)
		if !c.Valid() {
			return fmt.Errorf("bad region code %q", code)
		}
		name = strings.TrimSpace(name)
		if name == "" || len(name) > 0xffff {
			return fmt.Errorf("region %s: bad name", code)
		}
		norm := normalizeName(name)
		if b.Len()+len(code)+len(name)+len(norm) > 1<<32-1 {
			return errors.New("region list too large")
		}
		rs.ents = append(rs.ents, regionEnt{
			off: uint32(b.Len()), codeLen: uint8(len(code)),
			nameLen: uint16(len(name)), normLen: uint16(min(len(norm), 0xffff)),
		})
		b.WriteString(code)
		b.WriteString(name)
		b.WriteString(norm[:min(len(norm), 0xffff)])
		return nil
	}
	read := func(r io.Reader, file string, header []string) error {
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = len(header)
		cr.ReuseRecord = true
		first := true
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if first {
				first = false
				if !slices.Equal(rec, header) {
					return fmt.Errorf("%s: header %q, want %q", file, rec, header)
				}
				continue
			}
			if len(header) == 3 {
				c := RegionCode(rec[0])
				if lvl, err := strconv.Atoi(rec[2]); err != nil || lvl != c.Level() || lvl > 3 {
					return fmt.Errorf("%s: region %q: bad level %q", file, rec[0], rec[2])
				}
			} else if RegionCode(rec[0]).Level() != 4 {
				return fmt.Errorf("%s: %q is not a village code", file, rec[0])
			}
			if err := add(rec[0], rec[1]); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
		return nil
	}
	if err := read(regions, "regions", []string{"code", "name", "level"}); err != nil {
		return nil, err
	}
	if villages != nil {
		if err := read(villages, "villages", []string{"code", "name"}); err != nil {
			return nil, err
		}
	}
	rs.buf = b.String()
	slices.SortFunc(rs.ents, func(x, y regionEnt) int {
		return strings.Compare(rs.buf[x.off:x.off+uint32(x.codeLen)], rs.buf[y.off:y.off+uint32(y.codeLen)])
	})
	for i := range rs.ents {
		if i > 0 && rs.code(i) == rs.code(i-1) {
			return nil, fmt.Errorf("duplicate region code %s", rs.code(i))
		}
		if len(rs.code(i)) == 2 {
			rs.provinces = append(rs.provinces, rs.region(i))
		}
	}
	return rs, nil
}

// Len is the number of regions of all levels.
func (rs *Regions) Len() int { return len(rs.ents) }

// find returns the index of code and whether it exists.
func (rs *Regions) find(code RegionCode) (int, bool) {
	return slices.BinarySearchFunc(rs.ents, string(code), func(e regionEnt, c string) int {
		return strings.Compare(rs.buf[e.off:e.off+uint32(e.codeLen)], c)
	})
}

// subtree returns the index range of code and everything below it.
func (rs *Regions) subtree(code RegionCode) (lo, hi int) {
	if code == "" {
		return 0, len(rs.ents)
	}
	lo, _ = rs.find(code)
	hi, _ = rs.find(code + "/") // '/' sorts right after '.', before digits
	return lo, hi
}

// Get returns the region with the given code.
func (rs *Regions) Get(code RegionCode) (Region, bool) {
	i, ok := rs.find(code)
	if !ok || code == "" {
		return Region{}, false
	}
	return rs.region(i), true
}

// Children lists the regions directly below code, sorted by code: the
// provinces for the nation "", the villages of a kecamatan, nothing for a
// village or an unknown code.
func (rs *Regions) Children(code RegionCode) []Region {
	if code == "" {
		return slices.Clone(rs.provinces)
	}
	if _, ok := rs.find(code); !ok {
		return nil
	}
	want := code.Level() + 1
	lo, hi := rs.subtree(code)
	var out []Region
	for i := lo; i < hi; i++ {
		if len(rs.code(i)) == [...]int{0, 2, 5, 8, 13, 0}[want] {
			out = append(out, rs.region(i))
		}
	}
	return out
}

// Path lists the regions from the province down to code itself; nil when
// code is unknown.
func (rs *Regions) Path(code RegionCode) []Region {
	if _, ok := rs.Get(code); !ok {
		return nil
	}
	var out []Region
	for lvl := 1; lvl <= code.Level(); lvl++ {
		if r, ok := rs.Get(code.prefix(lvl)); ok {
			out = append(out, r)
		}
	}
	return out
}

// DisplayName names a region with its ancestors, most specific first:
// "Cibinong, Kabupaten Bogor, Jawa Barat". It is "" for the nation and the
// code itself for an unknown code, so a display never goes blank.
func (rs *Regions) DisplayName(code RegionCode) string {
	path := rs.Path(code)
	if len(path) == 0 {
		return string(code)
	}
	names := make([]string, len(path))
	for i, r := range path {
		names[len(path)-1-i] = r.Name
	}
	return strings.Join(names, ", ")
}

// Search finds regions by name, best matches first. Matching ignores
// case, punctuation, apostrophes and extra spaces; a leading "kab" stands
// for "kabupaten", and a leading "kecamatan", "kec", "desa", "kelurahan",
// "kel" or "provinsi" is ignored. Matches rank as: exact name (also
// without the "Kabupaten"/"Kota" prefix) > name prefix > word prefix >
// substring > substring ignoring spaces > every word found in the name or
// the names of its ancestors ("cibinong bogor"). Ties go to the higher
// level (province before kecamatan before village), then by code.
// level 1-4 restricts the results to that level (0 = any); within, when
// not "", restricts them to that subtree (including within itself; a
// malformed within finds nothing).
// limit <= 0 means no limit. An empty query finds nothing.
func (rs *Regions) Search(query string, level int, within RegionCode, limit int) []Region {
	q := normalizeQuery(query)
	if q == "" || (within != "" && !within.Valid()) {
		return nil
	}
	qc := strings.ReplaceAll(q, " ", "")
	words := strings.Fields(q)
	type hit struct {
		i, rank int
	}
	var hits []hit
	lo, hi := rs.subtree(within)
	for i := lo; i < hi; i++ {
		if level != 0 && RegionCode(rs.code(i)).Level() != level {
			continue
		}
		r := matchRank(rs.norm(i), q, qc)
		if r < 0 && len(words) > 1 && hasWordPrefix(rs.norm(i), words[0]) && rs.pathMatches(i, words) {
			r = rankPath
		}
		if r >= 0 {
			hits = append(hits, hit{i, r})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		if c := cmp.Compare(rs.ents[a.i].codeLen, rs.ents[b.i].codeLen); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i) // entries are sorted by code
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Region, len(hits))
	for k, h := range hits {
		out[k] = rs.region(h.i)
	}
	return out
}

// Resolve finds the one region a typed name means, where a single answer
// is needed (the command line's --region): the only match of Search at
// levels 1..maxLevel (0: any), or else the only exact one ("kab bogor" is
// Kabupaten Bogor although Kota Bogor matches too). Otherwise ok is false
// and candidates holds the best matches, at most limit.
func (rs *Regions) Resolve(query string, maxLevel, limit int) (r Region, candidates []Region, ok bool) {
	q := normalizeQuery(query)
	qc := strings.ReplaceAll(q, " ", "")
	var exact []Region
	for _, h := range rs.Search(query, 0, "", 0) {
		if maxLevel > 0 && h.Level > maxLevel {
			continue
		}
		candidates = append(candidates, h)
		if matchRank(normalizeName(h.Name), q, qc) == rankExact {
			exact = append(exact, h)
		}
	}
	switch {
	case len(candidates) == 1:
		return candidates[0], nil, true
	case len(exact) == 1:
		return exact[0], nil, true
	}
	if limit > 0 && len(candidates) > limit {
		candidates = candidates[:limit]
	}
	return Region{}, candidates, false
}

// Match ranks, best first.
const (
	rankExact = iota
	rankPrefix
	rankWordPrefix
	rankSubstring
	rankCompact
	rankPath
)

// matchRank ranks how the normalised name matches the normalised query q
// (qc is q without spaces); -1 when it does not match.
func matchRank(name, q, qc string) int {
	bare := stripRegionType(name)
	switch {
	case name == q || bare == q:
		return rankExact
	case strings.HasPrefix(name, q) || strings.HasPrefix(bare, q):
		return rankPrefix
	case hasWordPrefix(name, q):
		return rankWordPrefix
	case strings.Contains(name, q):
		return rankSubstring
	case len(qc) >= 3 && containsIgnoringSpaces(name, qc):
		return rankCompact
	}
	return -1
}

// pathMatches reports whether every word is a word prefix in the name of
// entry i or of one of its ancestors.
func (rs *Regions) pathMatches(i int, words []string) bool {
	names := []string{rs.norm(i)}
	code := RegionCode(rs.code(i))
	for p := code.Parent(); p != ""; p = p.Parent() {
		if j, ok := rs.find(p); ok {
			names = append(names, rs.norm(j))
		}
	}
	for _, w := range words {
		found := false
		for _, n := range names {
			if hasWordPrefix(n, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// stripRegionType drops a leading "kabupaten " or "kota " from a
// normalised name.
func stripRegionType(name string) string {
	for _, p := range [...]string{"kabupaten ", "kota "} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest
		}
	}
	return name
}

// hasWordPrefix reports whether q occurs in s at the start of a word.
func hasWordPrefix(s, q string) bool {
	for off := 0; ; {
		k := strings.Index(s[off:], q)
		if k < 0 {
			return false
		}
		k += off
		if k == 0 || s[k-1] == ' ' {
			return true
		}
		off = k + 1
	}
}

// containsIgnoringSpaces reports whether q (without spaces) occurs in s
// when the spaces of s are ignored.
func containsIgnoringSpaces(s, q string) bool {
	for start := 0; start < len(s); start++ {
		if s[start] == ' ' {
			continue
		}
		j := 0
		for k := start; k < len(s) && j < len(q); k++ {
			if s[k] == ' ' {
				continue
			}
			if s[k] != q[j] {
				break
			}
			j++
		}
		if j == len(q) {
			return true
		}
	}
	return false
}

// normalizeName lowercases s, drops apostrophes, turns any other
// character that is not a letter or digit into a space and collapses
// spaces.
func normalizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\'' || r == '\u2019' || r == '\u2018' || r == '`':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			if r < utf8.RuneSelf {
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				b.WriteByte(byte(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
		default:
			space = true
		}
	}
	return b.String()
}

// normalizeQuery normalises a typed query like a name and handles the
// region-type words users add (see Search).
func normalizeQuery(s string) string {
	words := strings.Fields(normalizeName(s))
	for len(words) > 1 {
		switch words[0] {
		case "kab":
			words[0] = "kabupaten"
		case "kecamatan", "kec", "desa", "ds", "kelurahan", "kel", "provinsi", "propinsi", "prov":
			words = words[1:]
			continue
		}
		break
	}
	return strings.Join(words, " ")
}
