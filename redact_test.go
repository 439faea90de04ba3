package bansosbot

import "testing"

func TestRedactContacts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hubungi 0812-3456-7890 ya", "hubungi [PHONE] ya"},
		{"HP: +62 812 3456 7890.", "HP: [PHONE]."},
		{"wa 6281234567890", "wa [PHONE]"},
		{"telp (0251) 8321 123", "telp [PHONE]"},
		{"081234567890", "[PHONE]"},
		{"email budi.santoso@example.co.id, terima kasih", "email [EMAIL], terima kasih"},
		{"Kirim ke SITI_99+bansos@mail.com!", "Kirim ke [EMAIL]!"},
		{"rekening 1234567890123", "rekening [NUMBER]"},
		// Phone numbers typed with loose separators are masked whole, not
		// left as groups that together give the number away.
		{"hp 0812 - 3456 - 7890 ya", "hp [PHONE] ya"},
		{"hp 0812  3456  7890", "hp [PHONE]"},
		{"telp (0251)/832-1123", "telp [PHONE]"},
		{"WA +62 812 - 3456 - 7890.", "WA [PHONE]."},
		{"Rp 50.000 - 60.000 per bulan", "Rp 50.000 - 60.000 per bulan"},
		{"RT 03 - RW 05", "RT 03 - RW 05"},
		// What stays: amounts, dates, short numbers, a lone @.
		{"potongan Rp 50.000 pada 2026-11-20", "potongan Rp 50.000 pada 2026-11-20"},
		{"Rp 1.500.000 untuk 3 orang", "Rp 1.500.000 untuk 3 orang"},
		{"RT 03 RW 05, no. 12", "RT 03 RW 05, no. 12"},
		{"tahap 2 @ desa", "tahap 2 @ desa"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactContacts(tt.in); got != tt.want {
			t.Errorf("RedactContacts(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedactContacts(f *testing.F) {
	for _, s := range []string{"0812-3456-7890", "a@b.co", "+62 (21) 555", "((((", "1-2-3-4-5-6-7-8-9-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactContacts(s)
		if RedactContacts(out) != out {
			t.Errorf("not idempotent: %q -> %q -> %q", s, out, RedactContacts(out))
		}
	})
}
