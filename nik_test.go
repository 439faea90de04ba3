package bansosbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseNIK(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want NIK
		key  string // error key when want == ""
		got  int    // Args["Got"] for nik.wrong_length
	}{
		{name: "valid male", in: "3201011203850001", want: "3201011203850001"},
		{name: "valid female day+40", in: "3201015203850002", want: "3201015203850002"},
		{name: "female day 71", in: "3201017101900003", want: "3201017101900003"},
		{name: "male day 31", in: "3201013101900003", want: "3201013101900003"},
		{name: "spaces", in: "3201 0112 0385 0001", want: "3201011203850001"},
		{name: "dots", in: "3201.01.120385.0001", want: "3201011203850001"},
		{name: "dashes", in: "3201-0112-0385-0001", want: "3201011203850001"},
		{name: "mixed separators", in: " NIK? no: 32/01/01_120385,0001 ", key: "nik.not_digits"},
		{name: "slashes underscores commas", in: " 32/01/01_120385,0001 ", want: "3201011203850001"},
		{name: "tabs and newlines", in: "\t3201011203850001\r\n", want: "3201011203850001"},
		{name: "zero width space", in: "3201\u200b011203850001", want: "3201011203850001"},
		{name: "no-break spaces", in: "3201\u00a001120385\u00a00001", want: "3201011203850001"},
		{name: "full-width digits", in: "３２０１０１１２０３８５０００１", want: "3201011203850001"},
		{name: "old district only in lists before 2023", in: "9101011203850001", want: "9101011203850001"},
		{name: "Feb 29 2000 (yy 00)", in: "3201012902000001", want: "3201012902000001"},
		{name: "Feb 29 1996", in: "3201012902960001", want: "3201012902960001"},
		{name: "Feb 29 female 2004", in: "3201016902040001", want: "3201016902040001"},
		{name: "Feb 29 non-leap 97", in: "3201012902970001", key: "nik.bad_date"},
		{name: "Feb 29 non-leap 01", in: "3201012902010001", key: "nik.bad_date"},
		{name: "Feb 30", in: "3201013002000001", key: "nik.bad_date"},
		{name: "Apr 31", in: "3201013104900001", key: "nik.bad_date"},
		{name: "female Apr 31", in: "3201017104900001", key: "nik.bad_date"},
		{name: "day 00", in: "3201010001900001", key: "nik.bad_date"},
		{name: "day 32", in: "3201013201900001", key: "nik.bad_date"},
		{name: "day 40", in: "3201014001900001", key: "nik.bad_date"},
		{name: "day 72", in: "3201017201900001", key: "nik.bad_date"},
		{name: "month 00", in: "3201011200900001", key: "nik.bad_date"},
		{name: "month 13", in: "3201011213900001", key: "nik.bad_date"},
		{name: "empty", in: "", key: "nik.empty"},
		{name: "blank", in: "   ", key: "nik.empty"},
		{name: "separators only", in: "- . -", key: "nik.empty"},
		{name: "letter O for zero", in: "32010112038500O1", key: "nik.not_digits"},
		{name: "letters", in: "abc", key: "nik.not_digits"},
		{name: "invalid UTF-8", in: "3201011203850001\xff", key: "nik.not_digits"},
		{name: "15 digits", in: "320101120385001", key: "nik.wrong_length", got: 15},
		{name: "17 digits", in: "32010112038500011", key: "nik.wrong_length", got: 17},
		{name: "one digit", in: "3", key: "nik.wrong_length", got: 1},
		{name: "KK-like 20 digits", in: "3201 0112 0385 0001 1234", key: "nik.wrong_length", got: 20},
		{name: "unknown district", in: "9901011203850001", key: "nik.unknown_region"},
		{name: "unknown kecamatan", in: "3201991203850001", key: "nik.unknown_region"},
		{name: "zero serial", in: "3201011203850000", key: "nik.zero_serial"},
	}
	for _, tt := range tests {
		got, err := ParseNIK(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("%s: ParseNIK(%q) = %q, %v; want %q, nil", tt.name, tt.in, got.Digits(), err, tt.want.Digits())
			}
			continue
		}
		if got != "" || ErrorKey(err) != tt.key || ErrorCode(err) != EInvalid {
			t.Errorf("%s: ParseNIK(%q) = %q, %v; want error %s", tt.name, tt.in, got.Digits(), err, tt.key)
			continue
		}
		if tt.key == "nik.wrong_length" {
			if e := err.(*Error); e.Args["Got"] != tt.got {
				t.Errorf("%s: Args[Got] = %v; want %d", tt.name, e.Args["Got"], tt.got)
			}
		}
	}
}

func TestNIKMethods(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		nik      NIK
		district string
		region   string
		female   bool
		birth    string
		masked   string
	}{
		{"3201011203850001", "320101", "32.01.01", false, "1985-03-12", "3201********0001"},
		{"3201015203850002", "320101", "32.01.01", true, "1985-03-12", "3201********0002"},
		{"3201011006100003", "320101", "32.01.01", false, "2010-06-10", "3201********0003"},
		{"3201012611260004", "320101", "32.01.01", false, "2026-11-26", "3201********0004"}, // born today
		{"3201010112260005", "320101", "32.01.01", false, "1926-12-01", "3201********0005"}, // 2026-12-01 is in the future
		{"3201016902000006", "320101", "32.01.01", true, "2000-02-29", "3201********0006"},
		{"9101011203850001", "910101", "91.01.01", false, "1985-03-12", "9101********0001"},
	}
	for _, tt := range tests {
		n := tt.nik
		if got := n.DistrictCode(); got != tt.district {
			t.Errorf("%s.DistrictCode() = %q; want %q", n.Masked(), got, tt.district)
		}
		if got := n.RegionCode(); got != tt.region {
			t.Errorf("%s.RegionCode() = %q; want %q", n.Masked(), got, tt.region)
		}
		if got := n.Female(); got != tt.female {
			t.Errorf("%s.Female() = %v; want %v", n.Masked(), got, tt.female)
		}
		b := n.BirthDate(now)
		if got := b.Format(time.DateOnly); got != tt.birth {
			t.Errorf("%s.BirthDate() = %s; want %s", n.Masked(), got, tt.birth)
		}
		if b.Location() != now.Location() || b.Hour() != 0 {
			t.Errorf("%s.BirthDate() = %v; want midnight in %v", n.Masked(), b, now.Location())
		}
		if got := n.Masked(); got != tt.masked {
			t.Errorf("Masked() = %q; want %q", got, tt.masked)
		}
		if got := n.Digits(); got != string(tt.nik) {
			t.Errorf("Digits() = %q; want %q", got, string(tt.nik))
		}
	}
	// Century choice in another zone: born "today" in WIT is still in the
	// future in UTC a few hours earlier.
	wit := RegionCode("91").TimeZone()
	n := NIK("3201012611260004")
	if got := n.BirthDate(time.Date(2026, 11, 26, 1, 0, 0, 0, wit)).Year(); got != 2026 {
		t.Errorf("BirthDate(now in WIT) year = %d; want 2026", got)
	}
	if got := n.BirthDate(time.Date(2026, 11, 25, 23, 0, 0, 0, wit)).Year(); got != 1926 {
		t.Errorf("BirthDate(day before) year = %d; want 1926", got)
	}
	// Malformed values never panic.
	for _, bad := range []NIK{"", "123", "32010112038500011", "abcdefghijklmnop"} {
		if bad.DistrictCode() != "" && len(bad) != 16 {
			t.Errorf("%q.DistrictCode() = %q; want \"\"", string(bad), bad.DistrictCode())
		}
		if !bad.BirthDate(now).IsZero() {
			t.Errorf("%q.BirthDate() = %v; want zero", string(bad), bad.BirthDate(now))
		}
		if strings.ContainsAny(bad.Masked(), "0123456789") {
			t.Errorf("%q.Masked() = %q leaks digits", string(bad), bad.Masked())
		}
	}
}

func TestNIKNeverPrintsDigits(t *testing.T) {
	n, err := ParseNIK("3201011203850001")
	if err != nil {
		t.Fatal(err)
	}
	secret := "1203850"
	type wrapper struct {
		NIK NIK
	}
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", n),
		"%s":     fmt.Sprintf("%s", n),
		"%q":     fmt.Sprintf("%q", n),
		"%x":     fmt.Sprintf("%x", n),
		"%+v":    fmt.Sprintf("%+v", n),
		"%#v":    fmt.Sprintf("%#v", n),
		"struct": fmt.Sprintf("%v %+v", wrapper{n}, &wrapper{n}),
		"slice":  fmt.Sprint([]NIK{n}),
		"String": n.String(),
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "nik", n)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "nik", n)
	outputs["slog"] = buf.String()
	for verb, out := range outputs {
		if strings.Contains(out, secret) || !strings.Contains(out, "3201********0001") && verb != "%x" {
			t.Errorf("%s printed %q; want the masked form only", verb, out)
		}
	}
	// Storage sees the full value.
	b, _ := json.Marshal(n)
	if string(b) != `"3201011203850001"` {
		t.Errorf("json.Marshal = %s; want the digits", b)
	}
}

func TestMakeNIK(t *testing.T) {
	tests := []struct {
		district string
		birth    time.Time
		female   bool
		serial   int
		want     NIK
		key      string
	}{
		{"320101", time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC), false, 1, "3201011203850001", ""},
		{"32.01.01", time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC), true, 42, "3201015203850042", ""},
		{"910101", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), true, 9999, "9101016902009999", ""},
		{"320101", time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC), false, 0, "", "nik.bad_serial"},
		{"320101", time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC), false, 10000, "", "nik.bad_serial"},
		{"990101", time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC), false, 1, "", "nik.unknown_region"},
		{"3201", time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC), false, 1, "", "nik.unknown_region"},
	}
	for _, tt := range tests {
		got, err := MakeNIK(tt.district, tt.birth, tt.female, tt.serial)
		if got != tt.want || ErrorKey(err) != tt.key {
			t.Errorf("MakeNIK(%q, %s, %v, %d) = %q, %v; want %q, %q", tt.district, tt.birth.Format(time.DateOnly), tt.female, tt.serial, got.Digits(), err, tt.want.Digits(), tt.key)
		}
	}
	// Round trip over every day of a leap year, both sexes.
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for d := time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 1996; d = d.AddDate(0, 0, 1) {
		for _, female := range []bool{false, true} {
			n, err := MakeNIK("110101", d, female, 7)
			if err != nil {
				t.Fatalf("MakeNIK(%s, %v) = %v", d.Format(time.DateOnly), female, err)
			}
			if !n.BirthDate(now).Equal(d) || n.Female() != female {
				t.Fatalf("MakeNIK(%s, %v): BirthDate %v Female %v", d.Format(time.DateOnly), female, n.BirthDate(now), n.Female())
			}
		}
	}
}

func TestKnownNIKDistrict(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"320101", true},
		{"110101", true},
		{"910101", true}, // only in the 2016-2022 lists
		{"990101", false},
		{"32.01.01", false},
		{"32010", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := KnownNIKDistrict(tt.code); got != tt.want {
			t.Errorf("KnownNIKDistrict(%q) = %v; want %v", tt.code, got, tt.want)
		}
	}
	if n := len(nikDistricts()); n != 7879 {
		t.Errorf("%d district codes; want 7879", n)
	}
	// Every current kecamatan is a valid NIK district.
	rs := DefaultRegions()
	for _, p := range rs.Children("") {
		for _, k := range rs.Children(p.Code) {
			for _, c := range rs.Children(k.Code) {
				if !KnownNIKDistrict(c.Code.Undotted()) {
					t.Errorf("kecamatan %s not a known NIK district", c.Code)
				}
			}
		}
	}
}

func FuzzParseNIK(f *testing.F) {
	for _, s := range []string{
		"3201011203850001", "3201 0112 0385 0001", "3201.01.120385.0001", "3201016902000006",
		"3201012902970001", "9101011203850001", "3201011203850000", "", "abc", "３２０１０１１２０３８５０００１",
		"32010112038500011", "3201\u200b011203850001",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNIK(s)
		if err != nil {
			if n != "" {
				t.Fatalf("ParseNIK(%q) = %q with error %v", s, n.Digits(), err)
			}
			if ErrorCode(err) != EInvalid || !strings.HasPrefix(ErrorKey(err), "nik.") {
				t.Fatalf("ParseNIK(%q) error %v; want an EInvalid nik.* *Error", s, err)
			}
			return
		}
		d := n.Digits()
		if len(d) != 16 || !allDigits(d) {
			t.Fatalf("ParseNIK(%q) = %q; want 16 digits", s, d)
		}
		again, err := ParseNIK(d)
		if err != nil || again != n {
			t.Fatalf("ParseNIK(%q) = %q, %v; want itself", d, again.Digits(), err)
		}
		if !KnownNIKDistrict(n.DistrictCode()) {
			t.Fatalf("accepted %q with unknown district", d)
		}
		if n.BirthDate(now).IsZero() {
			t.Fatalf("accepted %q with invalid date", d)
		}
		if strings.HasSuffix(d, "0000") {
			t.Fatalf("accepted %q with serial 0000", d)
		}
		if strings.Contains(n.String(), d[4:12]) {
			t.Fatalf("String() %q leaks digits", n.String())
		}
	})
}
