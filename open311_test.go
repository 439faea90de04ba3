package bansosbot_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
)

func geoTicket() *bansosbot.Ticket {
	created := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	return &bansosbot.Ticket{
		ID: 7, No: "BS-AZP7AHA", Category: "PAYMENT_NOT_RECEIVED", Region: "32.01.01", Village: "32.01.01.1007",
		Description: "Bantuan belum masuk. NIK saya 3201014508900001, HP 081234567890, Rp 600.000.",
		Extra:       map[string]string{"reason": "tetangga 3201010101900002"},
		Attachments: []bansosbot.Attachment{{FileID: "AgACAgUAAx", FileUniqueID: "AQAD"}},
		Location:    &bansosbot.Location{Lat: -6.48167, Lon: 106.85417}, Phone: "+6289876543210",
		CitizenID: 777000111, CitizenLang: "id", Status: bansosbot.StatusInProgress, Assignee: 9001,
		CreatedAt: created, UpdatedAt: created.Add(26 * time.Hour),
		DueResponse: created.Add(72 * time.Hour), DueResolve: created.AddDate(0, 0, 60),
	}
}

var geoOpts = bansosbot.GeoReportOptions{
	Categories: bansosbot.DefaultCategories(), Regions: bansosbot.DefaultRegions(),
	Agency: "Dinas Sosial Kabupaten Bogor", Notes: "Sedang dicek ke bank penyalur.",
}

func TestGeoReportMapping(t *testing.T) {
	got := geoTicket().GeoReport(geoOpts)
	lat, lon := -6.48167, 106.85417
	want := bansosbot.GeoReportRequest{
		ServiceRequestID: "BS-AZP7AHA", Status: "open", StatusNotes: "Sedang dicek ke bank penyalur.",
		ServiceName: "Bantuan belum/tidak diterima", ServiceCode: "PAYMENT_NOT_RECEIVED",
		Description:       "Bantuan belum masuk. NIK saya [NIK], HP [PHONE], Rp 600.000.",
		AgencyResponsible: "Dinas Sosial Kabupaten Bogor",
		RequestedDatetime: "2026-11-26T10:00:00+07:00", UpdatedDatetime: "2026-11-27T12:00:00+07:00",
		ExpectedDatetime: "2027-01-25T10:00:00+07:00",
		Address:          "Pakansari, Cibinong, Kabupaten Bogor, Jawa Barat", AddressID: "32.01.01.1007",
		Lat: &lat, Long: &lon,
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("GeoReport =\n%s\nwant\n%s", gj, wj)
	}
	// GeoReport field names, and media_url present even when empty.
	for _, f := range []string{`"service_request_id"`, `"status"`, `"service_code"`, `"requested_datetime"`, `"updated_datetime"`,
		`"expected_datetime"`, `"agency_responsible"`, `"lat"`, `"long"`, `"media_url":""`} {
		if !strings.Contains(string(gj), f) {
			t.Errorf("JSON lacks %s: %s", f, gj)
		}
	}
}

func TestGeoReportStatusAndPrivacy(t *testing.T) {
	reporterData := regexp.MustCompile(`777000111|6289876543210|9001|AgACAgUAAx|AQAD|\d{16}|tetangga`)
	for _, st := range bansosbot.Statuses {
		for _, hide := range []bool{false, true} {
			tk := geoTicket()
			tk.Status, tk.HideReporter = st, hide
			if hide {
				tk.Category = "PUNGLI"
			}
			r := tk.GeoReport(geoOpts)
			j, _ := json.Marshal(r)
			if r.Status != st.Open311() {
				t.Errorf("%s: status %q; want %q", st, r.Status, st.Open311())
			}
			if (r.Status == "open") != (r.ExpectedDatetime != "") {
				t.Errorf("%s: expected_datetime %q for a %s request", st, r.ExpectedDatetime, r.Status)
			}
			if m := reporterData.FindString(string(j)); m != "" {
				t.Errorf("%s hide=%v: export carries reporter data or a NIK (%q): %s", st, hide, m, j)
			}
			if hide && (r.Lat != nil || r.Long != nil || r.StatusNotes != "" || r.AddressID != "32.01.01") {
				t.Errorf("%s: a hidden reporter's ticket exports location, village or notes: %s", st, j)
			}
		}
	}
	tk := geoTicket()
	tk.Purged = true
	if r := tk.GeoReport(geoOpts); r.Description != "" {
		t.Errorf("purged ticket exports description %q", r.Description)
	}
}

func TestRedactNIKs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"tidak ada angka", "tidak ada angka"},
		{"NIK 3201014508900001.", "NIK [NIK]."},
		{"3201 0145 0890 0001 dan KK 3201-0101-0190-0002", "[NIK] dan KK [NIK]"},
		{"32.01.01.4508900001", "[NIK]"},
		{"HP 081234567890, Rp 1.500.000, 12-05-2026", "HP 081234567890, Rp 1.500.000, 12-05-2026"},
		{"123456789012345", "123456789012345"}, // 15 digits
		{"1234567890123456789", "[NIK]"},
		{"nomor:3201014508900001x", "nomor:[NIK]x"},
		// Every spelling ParseNIK accepts is masked (issue 10 item 7).
		{"NIK ３２０１０１４５０８９００００１ ya", "NIK [NIK] ya"},
		{"NIK ３２０１ ０１４５ ０８９０ ０００１", "NIK [NIK]"},
		{"3201  0145 0890 0001", "[NIK]"},
		{"3201_0145_0890_0001", "[NIK]"},
		{"3201, 0145, 0890, 0001.", "[NIK]."},
		{"3201\u200b0145\u200c0890\u200d0001", "[NIK]"},
		{"3\u200b2\u200b0\u200b1014508900001", "[NIK]"},
		{"3201/0145/0890/0001", "[NIK]"},
		{"(3201) 0145 - 0890 - 0001", "([NIK]"},
		{"3201\u00a00145\u30000890\t0001", "[NIK]"},
		{"nik: 3201-0145.0890 0001, kk 3201 0101 0190 0002", "nik: [NIK], kk [NIK]"},
		// What stays: shorter numbers, and digits the NIK reader does not read.
		{"Rp 1.500.000, tgl 12-05-2026", "Rp 1.500.000, tgl 12-05-2026"},
		{"٣٢٠١٠١٤٥٠٨٩٠٠٠٠١", "٣٢٠١٠١٤٥٠٨٩٠٠٠٠١"},
	}
	for _, tt := range tests {
		if got := bansosbot.RedactNIKs(tt.in); got != tt.want {
			t.Errorf("RedactNIKs(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

var sixteenDigits = regexp.MustCompile(`\d{16}`)

func FuzzRedactNIKs(f *testing.F) {
	for _, s := range []string{"3201014508900001", "a 3201 0145 0890 0001 b", "1.2.3", "-- 9 9 9", "٣٢٠١",
		"３２０１ ０１４５ ０８９０ ０００１", "3201_0145_0890_0001", "3201, 0145, 0890, 0001", "3201\u200b0145\u200b0890\u200b0001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := bansosbot.RedactNIKs(s)
		if sixteenDigits.MatchString(out) {
			t.Fatalf("RedactNIKs(%q) = %q still holds 16 digits in a row", s, out)
		}
		if again := bansosbot.RedactNIKs(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, again)
		}
		// What ParseNIK would read as digits, its separators dropped: no
		// 16 digits in a row remain anywhere in the output.
		if sixteenDigits.MatchString(nikDigits(out)) {
			t.Fatalf("RedactNIKs(%q) = %q still holds a NIK as ParseNIK reads it", s, out)
		}
		if !sixteenDigits.MatchString(nikDigits(s)) && out != s {
			t.Fatalf("RedactNIKs(%q) = %q changed text without a long digit run", s, out)
		}
		// Any substring of the output that ParseNIK accepts is a NIK leak.
		for _, part := range strings.FieldsFunc(out, unicode.IsLetter) {
			if _, err := bansosbot.ParseNIK(part); err == nil {
				t.Fatalf("RedactNIKs(%q) = %q leaves %q, which ParseNIK accepts", s, out, part)
			}
		}
	})
}

// nikDigits keeps the digits of s as ParseNIK reads them (full-width ones
// as ASCII) and drops its separators; anything else stays.
func nikDigits(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError: // invalid UTF-8 ends a NIK
			return r
		case r >= '０' && r <= '９':
			return '0' + r - '０'
		case r >= '0' && r <= '9':
			return r
		case unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}
