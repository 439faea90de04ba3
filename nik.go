package bansosbot

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Every 6-digit district code of the Kemendagri lists 2016-2025 (see
// wilayah/README.md): a NIK keeps the code of its first registration for
// life, so codes that no longer exist are still valid in a NIK.
//
//go:embed wilayah/nik_district_codes.csv
var nikDistrictCSV string

// nikDistricts is the sorted set of known district codes as numbers.
var nikDistricts = sync.OnceValue(func() []uint32 {
	codes, err := loadNIKDistricts(strings.NewReader(nikDistrictCSV))
	if err != nil {
		panic("bansosbot: embedded NIK district codes are invalid: " + err.Error())
	}
	return codes
})

func loadNIKDistricts(r io.Reader) ([]uint32, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	cr.ReuseRecord = true
	var codes []uint32
	for line := 0; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if line == 0 {
			if rec[0] != "district_code" {
				return nil, fmt.Errorf("header %q", rec)
			}
			continue
		}
		if len(rec[0]) != 6 {
			return nil, fmt.Errorf("bad district code %q", rec[0])
		}
		n, err := strconv.ParseUint(rec[0], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad district code %q", rec[0])
		}
		codes = append(codes, uint32(n))
	}
	slices.Sort(codes)
	return slices.Compact(codes), nil
}

// KnownNIKDistrict reports whether the 6-digit district code (PPKKCC, no
// dots) appears in any Kemendagri list from 2016 on, i.e. may start a NIK.
func KnownNIKDistrict(code string) bool {
	if len(code) != 6 || !allDigits(code) {
		return false
	}
	n, _ := strconv.ParseUint(code, 10, 32)
	_, ok := slices.BinarySearch(nikDistricts(), uint32(n))
	return ok
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NIK is a Nomor Induk Kependudukan: 16 digits PPKKCC DDMMYY SSSS (district
// of first registration, birth date with +40 on the day for women, serial).
// A NIK from ParseNIK or MakeNIK is normalised and valid.
//
// A NIK is personal data: its String, GoString and LogValue return the
// masked form, so fmt verbs and log/slog never print the digits by
// accident. Use Digits for the full value (storage, registry lookups).
// encoding/json and similar encoders see the full digits, as storage
// needs them: never marshal a NIK into logs or metrics.
type NIK string

// ParseNIK normalises and validates a NIK as typed by a user. Spaces,
// dots, dashes, slashes and other punctuation or symbols between the
// digits are ignored ("3201 0112 3456 0001", "3201.01.123456.0001");
// full-width digits count as digits. Each failure is an *Error with code
// EInvalid and one of the keys:
//
//	nik.empty          no digits at all
//	nik.not_digits     letters or other characters that are not separators
//	nik.wrong_length   not 16 digits; Args["Got"] is the number of digits
//	nik.unknown_region digits 1-6 are in no district list since 2016
//	nik.bad_date       digits 7-12 are not a real date (day +40 for women)
//	nik.zero_serial    digits 13-16 are 0000
func ParseNIK(s string) (NIK, error) {
	var buf [16]byte
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		d, kind := nikRune(r, size)
		switch kind {
		case nikSeparator:
			continue
		case nikOther:
			return "", Errorf(EInvalid, "nik.not_digits")
		}
		if n < len(buf) {
			buf[n] = d
		}
		n++
	}
	switch {
	case n == 0:
		return "", Errorf(EInvalid, "nik.empty")
	case n != len(buf):
		return "", Errorf(EInvalid, "nik.wrong_length", "Got", n)
	}
	d := string(buf[:])
	if err := checkNIK(d); err != nil {
		return "", err
	}
	return NIK(d), nil
}

// The kinds of rune in a NIK as people type it.
const (
	nikDigit     = iota // an ASCII or full-width digit
	nikSeparator        // space, punctuation, symbol or an invisible format character (zero-width space, joiners)
	nikOther            // anything else: letters, other scripts' digits, invalid UTF-8
)

// nikRune reads one rune (of size bytes) the way ParseNIK reads a NIK: a
// digit with its ASCII value, a separator that is skipped, or anything
// else. RedactNIKs finds NIKs in free text with the same reading, so that
// every spelling the bot accepts is also masked.
func nikRune(r rune, size int) (byte, int) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), nikDigit
	case r >= '０' && r <= '９':
		return byte('0' + (r - '０')), nikDigit
	case r == utf8.RuneError && size <= 1:
		return 0, nikOther
	case unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.Is(unicode.Cf, r):
		return 0, nikSeparator
	}
	return 0, nikOther
}

// checkNIK validates 16 digits.
func checkNIK(d string) error {
	if !KnownNIKDistrict(d[:6]) {
		return Errorf(EInvalid, "nik.unknown_region")
	}
	day, month, yy := nikDate(d)
	if !validDay(1900+yy, month, day) && !validDay(2000+yy, month, day) {
		return Errorf(EInvalid, "nik.bad_date")
	}
	if d[12:] == "0000" {
		return Errorf(EInvalid, "nik.zero_serial")
	}
	return nil
}

// nikDate decodes DDMMYY, removing the +40 of women; day is 0 when DD is
// in no valid range.
func nikDate(d string) (day, month, yy int) {
	day = int(d[6]-'0')*10 + int(d[7]-'0')
	month = int(d[8]-'0')*10 + int(d[9]-'0')
	yy = int(d[10]-'0')*10 + int(d[11]-'0')
	switch {
	case day >= 41 && day <= 71:
		day -= 40
	case day > 31:
		day = 0
	}
	return day, month, yy
}

// validDay reports whether year-month-day exists in the Gregorian calendar.
func validDay(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// MakeNIK builds a valid NIK, for tests and data generators. district is
// the 6-digit code, dotted or not ("320101" or "32.01.01"); the birth date
// is taken in birth's location; serial must be 1-9999. Errors are the ones
// of ParseNIK, or *Error EInvalid "nik.bad_serial" for a serial out of range.
func MakeNIK(district string, birth time.Time, female bool, serial int) (NIK, error) {
	if serial < 1 || serial > 9999 {
		return "", Errorf(EInvalid, "nik.bad_serial")
	}
	district = strings.ReplaceAll(district, ".", "")
	if len(district) != 6 || !allDigits(district) {
		return "", Errorf(EInvalid, "nik.unknown_region")
	}
	y, m, d := birth.Date()
	if female {
		d += 40
	}
	return ParseNIK(fmt.Sprintf("%s%02d%02d%02d%04d", district, d, int(m), y%100, serial))
}

// Digits is the full 16-digit NIK. Handle with care: never log it.
func (n NIK) Digits() string { return string(n) }

// DistrictCode is the 6-digit district code of first registration
// ("320101"); "" for a malformed NIK. The code may be one that no longer
// exists in the current region list.
func (n NIK) DistrictCode() string {
	if len(n) != 16 {
		return ""
	}
	return string(n[:6])
}

// RegionCode is DistrictCode in dotted form ("32.01.01"); "" for a
// malformed NIK.
func (n NIK) RegionCode() string {
	if len(n) != 16 {
		return ""
	}
	return string(dotted(string(n[:6])))
}

// Female reports whether the day of birth carries the +40 for women.
func (n NIK) Female() bool {
	return len(n) == 16 && n[6] >= '4'
}

// BirthDate is the date of birth at midnight in now's location. The
// two-digit year is taken as 20YY unless that date is after now, then as
// 19YY. It is the zero Time for a malformed NIK.
func (n NIK) BirthDate(now time.Time) time.Time {
	if len(n) != 16 || !allDigits(string(n)) {
		return time.Time{}
	}
	day, month, yy := nikDate(string(n))
	if !validDay(1900+yy, month, day) && !validDay(2000+yy, month, day) {
		return time.Time{}
	}
	loc := now.Location()
	b := time.Date(2000+yy, time.Month(month), day, 0, 0, 0, 0, loc)
	if (b.After(now) || !validDay(2000+yy, month, day)) && validDay(1900+yy, month, day) {
		b = time.Date(1900+yy, time.Month(month), day, 0, 0, 0, 0, loc)
	}
	return b
}

// Masked shows the first and last four digits only: "3201********0001",
// for staff displays. A malformed NIK is masked entirely.
func (n NIK) Masked() string {
	if len(n) != 16 {
		return strings.Repeat("*", utf8.RuneCountInString(string(n)))
	}
	return string(n[:4]) + "********" + string(n[12:])
}

// String is the masked form, so a NIK printed by mistake does not leak.
func (n NIK) String() string { return n.Masked() }

// GoString is the masked form too (for %#v).
func (n NIK) GoString() string { return "bansosbot.NIK(" + strconv.Quote(n.Masked()) + ")" }

// LogValue makes log/slog record the masked form.
func (n NIK) LogValue() slog.Value { return slog.StringValue(n.Masked()) }
