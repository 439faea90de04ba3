package bansosbot

import "testing"

// TestProgramStatusPaid is the table of remarks the status check reads as
// "paid out": only a remark that says so; "not yet", "in process", a
// failure or no remark is not paid (the citizen is offered the "not
// received yet" complaint and decides).
func TestProgramStatusPaid(t *testing.T) {
	for _, tt := range []struct {
		remark string
		paid   bool
	}{
		{"Dana sudah tersalurkan", true},
		{"DANA SUDAH TERSALURKAN", true},
		{"Sudah disalurkan melalui PT Pos", true},
		{"Telah diterima KPM", true},
		{"Sudah cair", true},
		{"Proses penyaluran melalui Bank Himbara", false},
		{"Belum disalurkan", false},
		{"Dana belum tersalurkan", false},
		{"Gagal salur (rekening tidak aktif)", false},
		{"Tertunda", false},
		{"Retur", false},
		{"Aktif", false},
		{"", false},
	} {
		if got := (ProgramStatus{Code: "PKH", Receives: true, Remark: tt.remark}).Paid(); got != tt.paid {
			t.Errorf("Paid(%q) = %v; want %v", tt.remark, got, tt.paid)
		}
	}
}

// TestDefaultProgramsPayout: the programs that pay out to the household
// (and can be "not received yet") are PKH and SEMBAKO, not the PBI-JK
// premium nor ATENSI.
func TestDefaultProgramsPayout(t *testing.T) {
	want := map[string]bool{"PKH": true, "SEMBAKO": true, "PBI-JK": false, "ATENSI": false}
	for _, p := range DefaultPrograms() {
		if p.Payout != want[p.Code] {
			t.Errorf("%s: Payout = %v; want %v", p.Code, p.Payout, want[p.Code])
		}
	}
}
