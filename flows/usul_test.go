package flows_test

import (
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Tests of the categories with their own questions (issue 11 items 5-7,
// 9): usul, sanggah, PBI-JK reactivation, ready answers for information
// requests.

// TestPBIReactivation files a "BPJS PBI nonaktif" complaint in both
// languages: its own explanation and question, and its own policy (a
// first response within 1 working day, settled within 14 calendar days).
func TestPBIReactivation(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, quiet())
			u := h.User(701, lang)
			u.Onboard(lang)
			u.Text("/lapor")
			u.Press("c:PBI_REACTIVATION")
			if !hasKey(h, "pbi.intro") {
				t.Errorf("choosing the category: %v; want pbi.intro", lastKeys(h))
			}
			u.Text("cibinong")
			u.Text("pakan")
			for _, k := range []string{"pbi.ask_description"} {
				if !hasKey(h, k) {
					t.Errorf("after the region: %v; want %s", lastKeys(h), k)
				}
			}
			desc := "Kartu BPJS ibu saya nonaktif sejak Oktober, beliau perlu cuci darah."
			if lang == "en" {
				desc = "My mother's BPJS card is inactive since October; she needs dialysis."
			}
			u.Text(desc)
			u.Press("done")
			u.Press("skip")
			u.Press("send")
			if !hasKey(h, "pbi.after") {
				t.Errorf("filing: %v; want pbi.after", lastKeys(h))
			}
			cmGolden(h, "pbi_reactivation_"+lang)
			ts := cmTickets(t, h, u.ID)
			if len(ts) != 1 {
				t.Fatalf("tickets = %d; want 1", len(ts))
			}
			tk := ts[0]
			// Filed Thursday 26 November 10:00 WIB: one working day is
			// Friday 10:00; 14 calendar days is 10 December.
			wantResp := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
			wantRes := time.Date(2026, 12, 10, 3, 0, 0, 0, time.UTC)
			if tk.Category != "PBI_REACTIVATION" || !tk.DueResponse.Equal(wantResp) || !tk.DueResolve.Equal(wantRes) {
				t.Errorf("ticket %s due %v / %v; want PBI_REACTIVATION due %v / %v", tk.Category, tk.DueResponse, tk.DueResolve, wantResp, wantRes)
			}
		})
	}
}

// TestCategoryPoliciesDiffer: the same filing time gives the default,
// sanggah and pbi deadlines their own dates, so a policy mix-up fails.
func TestCategoryPoliciesDiffer(t *testing.T) {
	h := newHarness(t, quiet())
	due := map[string][2]time.Time{}
	for i, code := range []string{"OTHER", "INELIGIBLE_RECIPIENT", "PBI_REACTIVATION"} {
		tk := fileTicket(t, h, int64(710+i), code, "32.01.01", "Uraian yang cukup panjang untuk tiket uji.")
		due[code] = [2]time.Time{tk.DueResponse, tk.DueResolve}
	}
	day := 24 * time.Hour
	want := map[string][2]time.Time{
		"OTHER":                {time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), epoch.Add(60 * day)},
		"INELIGIBLE_RECIPIENT": {time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), epoch.Add(14 * day)},
		"PBI_REACTIVATION":     {time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), epoch.Add(14 * day)},
	}
	for code, w := range want {
		if g := due[code]; !g[0].Equal(w[0]) || !g[1].Equal(w[1]) {
			t.Errorf("%s: due %v / %v; want %v / %v", code, g[0], g[1], w[0], w[1])
		}
	}
	_ = bansosbot.PhaseResponse
}
