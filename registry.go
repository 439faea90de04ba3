package bansosbot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The eligibility registry: one record per person, as the official Cek
// Bansos service shows it (per program yes/no, period and remark; the
// decile; a masked name; the date of the data). It holds no NIK and no
// name: the record is found by a keyed hash of the NIK and the name typed
// by the citizen is checked against a keyed hash bound to that NIK.

// Program is an aid program a status check reports (PKH, SEMBAKO, PBI-JK,
// extras from configuration).
type Program struct {
	Code string `json:"code"`
	// Names per language, as shown to citizens.
	Names map[string]string `json:"names"`
	// Desil is the decile range [min, max] the program targets. It is
	// informational (shown by `registry stats`): eligibility comes from
	// the imported data, never from a cut-off applied by the bot.
	Desil []int `json:"desil,omitempty"`
	// Payout: the program pays out to the household (money or food, in
	// stages), so "registered but not received yet" is a complaint it can
	// have (PKH, SEMBAKO); not for a premium paid to an insurer (PBI-JK).
	Payout bool `json:"payout,omitempty"`
}

// Name returns the program's name in lang, falling back to Indonesian and
// then to the code.
func (p Program) Name(lang string) string {
	if n := p.Names[lang]; n != "" {
		return n
	}
	if n := p.Names[Languages[0]]; n != "" {
		return n
	}
	return p.Code
}

// Programs is the ordered list of programs.
type Programs []Program

// Get returns the program with the code.
func (ps Programs) Get(code string) (Program, bool) {
	for _, p := range ps {
		if p.Code == code {
			return p, true
		}
	}
	return Program{}, false
}

//go:embed config/programs.json
var defaultPrograms []byte

// DefaultPrograms returns PKH, SEMBAKO, PBI-JK and ATENSI
// (config/programs.json).
func DefaultPrograms() Programs {
	ps, err := LoadPrograms(bytes.NewReader(defaultPrograms))
	if err != nil {
		panic("bansosbot: embedded programs are invalid: " + err.Error())
	}
	return ps
}

// programCode keeps codes usable as CSV column names and short.
var programCode = regexp.MustCompile(`^[A-Z][A-Z0-9-]{0,15}$`)

// LoadPrograms reads and validates a programs file (JSON array; see
// config/programs.json for the format).
func LoadPrograms(r io.Reader) (Programs, error) {
	var ps Programs
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("programs: %w", err)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("programs: the list is empty")
	}
	if len(ps) > 32 {
		return nil, fmt.Errorf("programs: %d programs; at most 32", len(ps))
	}
	seen := map[string]bool{}
	for i, p := range ps {
		if !programCode.MatchString(p.Code) {
			return nil, fmt.Errorf("programs: entry %d: code %q must be 1-16 capital letters, digits or dashes, starting with a letter", i+1, p.Code)
		}
		if seen[p.Code] {
			return nil, fmt.Errorf("programs: code %s appears twice", p.Code)
		}
		seen[p.Code] = true
		for _, l := range Languages {
			if p.Names[l] == "" {
				return nil, fmt.Errorf("programs: %s has no name in %q", p.Code, l)
			}
		}
		if p.Desil != nil && (len(p.Desil) != 2 || p.Desil[0] < 1 || p.Desil[1] > 10 || p.Desil[0] > p.Desil[1]) {
			return nil, fmt.Errorf("programs: %s: desil must be [min, max] within 1-10", p.Code)
		}
	}
	return ps, nil
}

// NIKHash is the keyed hash of a NIK, HMAC-SHA256(key, the 16 digits): the
// registry's key and the only form in which a NIK is kept.
type NIKHash [32]byte

// NameHash verifies a name: the first 16 bytes of HMAC-SHA256(key,
// "name" 0 NIKHash 0 normalised name). Binding it to the NIK means two
// people with the same name have different verifiers, so the file does not
// show who shares a name; without the key nobody can test names offline.
// It takes the NIK's hash, not its digits, because a conversation keeps
// only the hash between the NIK and the name question.
type NameHash [16]byte

// Hasher computes NIK hashes and name verifiers under one key, reusing its
// state: use one per goroutine for bulk work (an import). The zero Hasher
// is not usable; see NewHasher.
type Hasher struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

// NewHasher returns a Hasher for the key (the NIK key from configuration).
func NewHasher(key []byte) *Hasher {
	return &Hasher{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 128), sum: make([]byte, 0, sha256.Size)}
}

// NIK returns the keyed hash of the NIK.
func (h *Hasher) NIK(n NIK) NIKHash {
	h.mac.Reset()
	h.buf = append(h.buf[:0], n...)
	h.mac.Write(h.buf)
	var out NIKHash
	h.sum = h.mac.Sum(h.sum[:0])
	copy(out[:], h.sum)
	return out
}

// Name returns the verifier of name for the NIK with hash n; the name is
// folded first (see FoldName), at import and at lookup alike.
func (h *Hasher) Name(n NIKHash, name string) NameHash { return h.formName(n, FoldName(name)) }

// formName is the verifier of a name already in its compared form.
func (h *Hasher) formName(n NIKHash, norm string) NameHash {
	h.mac.Reset()
	h.buf = append(h.buf[:0], "name\x00"...)
	h.buf = append(h.buf, n[:]...)
	h.buf = append(h.buf, 0)
	h.buf = append(h.buf, norm...)
	h.mac.Write(h.buf)
	var out NameHash
	h.sum = h.mac.Sum(h.sum[:0])
	copy(out[:], h.sum)
	return out
}

// HashNIK returns HMAC-SHA256(key, NIK digits). For many NIKs use a Hasher.
func HashNIK(key []byte, n NIK) NIKHash { return NewHasher(key).NIK(n) }

// NameVerifier returns the verifier of the name for the NIK with hash n
// (see HashNIK) under key: the keyed hash of FoldName(name).
func NameVerifier(key []byte, n NIKHash, name string) NameHash { return NewHasher(key).Name(n, name) }

// NormalizeName is a person's name as written, tidied: lower case,
// apostrophes dropped, any other character that is not a letter or digit
// a space, spaces collapsed ("Siti  Nur'aini" → "siti nuraini"). Masked
// names and length limits use it; names are compared in the looser
// FoldName form.
func NormalizeName(s string) string { return normalizeName(s) }

// MaskName masks a name like the official Cek Bansos service: each word
// keeps its first and last letter, upper case, the rest become stars:
// "Wawan Lestari" → "W***N L*****I". A one-letter word stays, a two-letter
// word keeps its first letter ("AN" → "A*").
func MaskName(name string) string { return maskNormal(normalizeName(name)) }

// maskNormal masks a normalised name (words separated by single spaces).
func maskNormal(norm string) string {
	var b strings.Builder
	b.Grow(len(norm))
	for i := 0; norm != ""; i++ {
		w, rest, _ := strings.Cut(norm, " ")
		norm = rest
		if i > 0 {
			b.WriteByte(' ')
		}
		n := utf8.RuneCountInString(w)
		first, _ := utf8.DecodeRuneInString(w)
		last, _ := utf8.DecodeLastRuneInString(w)
		b.WriteRune(unicode.ToUpper(first))
		switch {
		case n == 2:
			b.WriteByte('*')
		case n > 2:
			for range n - 2 {
				b.WriteByte('*')
			}
			b.WriteRune(unicode.ToUpper(last))
		}
	}
	return b.String()
}

// ProgramStatus is one program's line of a status check.
type ProgramStatus struct {
	Code     string
	Receives bool
	Period   string // e.g. "Oktober-Desember 2026"; "" when none
	Remark   string // e.g. "Dana sudah tersalurkan"; "" when none
}

// Paid reports whether the remark of a program line says the aid was paid
// out ("Dana sudah tersalurkan", "SUDAH DISALURKAN", "Sudah cair"). A
// remark saying it was not, or not yet ("belum", "proses", "gagal",
// "tunda", "retur"), or saying neither, or no remark at all, is not paid:
// the status check then offers a "not received yet" complaint for a
// program that pays out, and the citizen decides whether to use it.
func (ps ProgramStatus) Paid() bool {
	r := strings.ToLower(ps.Remark)
	for _, no := range []string{"belum", "proses", "gagal", "tunda", "retur", "batal", "tidak"} {
		if strings.Contains(r, no) {
			return false
		}
	}
	for _, yes := range []string{"tersalur", "disalurkan", "salur dana", "cair", "sudah diterima", "telah diterima", "sudah ditransfer", "telah ditransfer"} {
		if strings.Contains(r, yes) {
			return true
		}
	}
	return false
}

// Record is one person in the registry.
type Record struct {
	NIK      NIKHash
	Name     NameHash
	Masked   string     // MaskName of the full name
	Province RegionCode // from the NIK; not personal, kept for statistics
	Desil    int        // 1-10; 0 when the person has no decile yet
	// Programs has one entry per program of the snapshot, in its order.
	Programs []ProgramStatus
}

// Matches reports, in constant time, whether v is the record's name
// verifier.
func (r *Record) Matches(v NameHash) bool {
	return subtle.ConstantTimeCompare(r.Name[:], v[:]) == 1
}

// MatchesName reports whether name is the record's name under key: its
// FoldName verifier, or the verifier of its plain NormalizeName form,
// which registries imported before names were folded hold (they answer
// until the next import replaces them). Both are always computed and
// compared in constant time, so the time taken says nothing either.
func (r *Record) MatchesName(key []byte, name string) bool {
	h := NewHasher(key)
	folded := r.Matches(h.formName(r.NIK, FoldName(name)))
	plain := r.Matches(h.formName(r.NIK, normalizeName(name)))
	return folded || plain
}

// Snapshot is one imported registry file: what a status check answers
// from until the next import replaces it.
type Snapshot struct {
	ID         uint64        `json:"id"`
	AsOf       time.Time     `json:"as_of"` // the date of the data, shown with every answer
	ImportedAt time.Time     `json:"imported_at"`
	Source     string        `json:"source,omitempty"` // file name, for the operator
	Programs   Programs      `json:"programs"`         // as configured at import time
	Stats      RegistryStats `json:"stats"`
}

// RegistryStats counts a snapshot's records.
type RegistryStats struct {
	Rows      int             `json:"rows"`
	Desil     [11]int         `json:"desil"`     // [0]: no decile
	Receivers []int           `json:"receivers"` // per program of the snapshot
	Provinces []ProvinceStats `json:"provinces"` // sorted by code
}

// ProvinceStats counts the records of one province (of the NIK).
type ProvinceStats struct {
	Code      RegionCode `json:"code"`
	Rows      int        `json:"rows"`
	Receivers []int      `json:"receivers"`
}

// Add counts a record.
func (s *RegistryStats) Add(r *Record) {
	s.Rows++
	if r.Desil >= 0 && r.Desil <= 10 {
		s.Desil[r.Desil]++
	}
	if len(s.Receivers) < len(r.Programs) {
		s.Receivers = append(s.Receivers, make([]int, len(r.Programs)-len(s.Receivers))...)
	}
	i, ok := slices.BinarySearchFunc(s.Provinces, r.Province, func(p ProvinceStats, c RegionCode) int {
		return strings.Compare(string(p.Code), string(c))
	})
	if !ok {
		s.Provinces = slices.Insert(s.Provinces, i, ProvinceStats{Code: r.Province, Receivers: make([]int, len(r.Programs))})
	}
	p := &s.Provinces[i]
	p.Rows++
	for k, st := range r.Programs {
		if st.Receives {
			s.Receivers[k]++
			if k < len(p.Receivers) {
				p.Receivers[k]++
			}
		}
	}
}

// Limits of a registry row.
const (
	MaxNameRunes  = 100 // a full name
	MaxStatusText = 200 // a period or remark, in bytes
)

// RegistryColumns is the column layout of a registry CSV file, read from
// its header line. The format (UTF-8, comma-separated, RFC 4180 quoting,
// header names case-insensitive, any order):
//
//	nik             the 16-digit NIK (spaces, dots, dashes tolerated)
//	name            the full name as on the KTP
//	desil           the welfare decile 1-10; empty, "-" or "0" for none
//	<CODE>          per program of the configuration (PKH, SEMBAKO, PBI-JK,
//	                ...): receives it? Y/N, YA/TIDAK, YES/NO, 1/0, TRUE/FALSE;
//	                empty means no
//	<CODE>_period   optional: the period, e.g. "Oktober-Desember 2026"
//	<CODE>_remark   optional: the remark, e.g. "Dana sudah tersalurkan"
//
// nik, name and desil are required. A program without its <CODE> column
// is not part of the snapshot; period and remark columns need their
// program's column; any other column is an error (a typo must not drop
// data silently). Example:
//
//	nik,name,desil,PKH,PKH_period,PKH_remark,SEMBAKO,PBI-JK
//	3201011203850001,Wawan Lestari,2,Y,Oktober-Desember 2026,Dana sudah tersalurkan,Y,Y
type RegistryColumns struct {
	// Programs are the programs present in the file, in configuration order.
	Programs             Programs
	n                    int
	nik, name, desil     int
	flag, period, remark []int // per program; -1 when absent
}

// ParseRegistryHeader reads the header line of a registry file. Errors are
// *Error EInvalid with keys registry.header_missing, header_unknown,
// header_duplicate (Args["Column"]; header_unknown also Args["Programs"],
// the configured program codes).
func ParseRegistryHeader(header []string, programs Programs) (*RegistryColumns, error) {
	c := &RegistryColumns{n: len(header), nik: -1, name: -1, desil: -1}
	type slot struct {
		prog  int
		field int // 0 flag, 1 period, 2 remark
	}
	slots := map[string]slot{}
	for i, p := range programs {
		code := strings.ToLower(p.Code)
		slots[code] = slot{i, 0}
		slots[code+"_period"] = slot{i, 1}
		slots[code+"_remark"] = slot{i, 2}
	}
	cols := make([][3]int, len(programs))
	for i := range cols {
		cols[i] = [3]int{-1, -1, -1}
	}
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if seen[name] {
			return nil, Errorf(EInvalid, "registry.header_duplicate", "Column", h)
		}
		seen[name] = true
		switch name {
		case "nik":
			c.nik = i
		case "name":
			c.name = i
		case "desil":
			c.desil = i
		default:
			s, ok := slots[name]
			if !ok {
				codes := make([]string, len(programs))
				for i, p := range programs {
					codes[i] = p.Code
				}
				return nil, Errorf(EInvalid, "registry.header_unknown", "Column", h, "Programs", strings.Join(codes, ", "))
			}
			cols[s.prog][s.field] = i
		}
	}
	for _, req := range []struct {
		col  int
		name string
	}{{c.nik, "nik"}, {c.name, "name"}, {c.desil, "desil"}} {
		if req.col < 0 {
			return nil, Errorf(EInvalid, "registry.header_missing", "Column", req.name)
		}
	}
	for i, p := range programs {
		if cols[i][0] < 0 {
			if cols[i][1] >= 0 || cols[i][2] >= 0 {
				return nil, Errorf(EInvalid, "registry.header_missing", "Column", p.Code)
			}
			continue
		}
		c.Programs = append(c.Programs, p)
		c.flag = append(c.flag, cols[i][0])
		c.period = append(c.period, cols[i][1])
		c.remark = append(c.remark, cols[i][2])
	}
	// A file without program columns (only nik, name, desil) is valid:
	// the status check then tells the decile alone.
	return c, nil
}

// Record converts one data row into rec, reusing rec's Programs slice.
// Period and remark strings share memory with fields. Errors are the
// *Error of ParseNIK (nik.*) or EInvalid with keys registry.field_count
// (Got, Want), registry.bad_name, registry.name_too_long (Max),
// registry.bad_desil (Value), registry.bad_flag (Column, Value) and
// registry.bad_text (Column), registry.text_too_long (Column, Max).
func (c *RegistryColumns) Record(fields []string, h *Hasher, rec *Record) error {
	if len(fields) != c.n {
		return Errorf(EInvalid, "registry.field_count", "Got", len(fields), "Want", c.n)
	}
	nik, err := ParseNIK(fields[c.nik])
	if err != nil {
		return err
	}
	name := fields[c.name]
	norm := normalizeName(name)
	if !strings.ContainsFunc(norm, unicode.IsLetter) {
		return Errorf(EInvalid, "registry.bad_name")
	}
	if utf8.RuneCountInString(norm) > MaxNameRunes {
		return Errorf(EInvalid, "registry.name_too_long", "Max", MaxNameRunes)
	}
	desil, err := parseDesil(fields[c.desil])
	if err != nil {
		return err
	}
	rec.Programs = rec.Programs[:0]
	for i, p := range c.Programs {
		st := ProgramStatus{Code: p.Code}
		if st.Receives, err = parseFlag(p.Code, fields[c.flag[i]]); err != nil {
			return err
		}
		if st.Period, err = statusText(p.Code, "_period", fields, c.period[i]); err != nil {
			return err
		}
		if st.Remark, err = statusText(p.Code, "_remark", fields, c.remark[i]); err != nil {
			return err
		}
		rec.Programs = append(rec.Programs, st)
	}
	rec.NIK = h.NIK(nik)
	rec.Name = h.formName(rec.NIK, FoldName(norm))
	rec.Masked = maskNormal(norm)
	rec.Province = RegionCode(nik.Digits()[:2])
	rec.Desil = desil
	return nil
}

func parseDesil(s string) (int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "-", "0":
		return 0, nil
	}
	d, err := strconv.Atoi(s)
	if err != nil || d < 1 || d > 10 {
		return 0, Errorf(EInvalid, "registry.bad_desil", "Value", s)
	}
	return d, nil
}

func parseFlag(column, s string) (bool, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "Y", "YA", "YES", "1", "TRUE":
		return true, nil
	case "", "-", "N", "T", "TIDAK", "NO", "0", "FALSE":
		return false, nil
	}
	return false, Errorf(EInvalid, "registry.bad_flag", "Column", column, "Value", s)
}

// statusText is a period or remark; "-" stands for none, as on the
// official site.
func statusText(code, suffix string, fields []string, i int) (string, error) {
	if i < 0 {
		return "", nil
	}
	s := strings.TrimSpace(fields[i])
	if s == "-" {
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", Errorf(EInvalid, "registry.bad_text", "Column", code+suffix)
	}
	if len(s) > MaxStatusText {
		return "", Errorf(EInvalid, "registry.text_too_long", "Column", code+suffix, "Max", MaxStatusText)
	}
	return s, nil
}
