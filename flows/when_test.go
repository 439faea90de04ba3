package flows_test

import (
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
)

// TestRetryInCitizensZone: the /cek limit says when to try again
// relatively, and at the clock time of where the citizen lives (their
// newest ticket's region: WIB, WITA, WIT), never in the server's zone; a
// citizen without a ticket gets the relative time only.
func TestRetryInCitizensZone(t *testing.T) {
	for _, tt := range []struct {
		region bansosbot.RegionCode // "" = no ticket
		zone   string
	}{
		{"", ""},
		{"32.01.01", "WIB"}, // Cibinong, Jawa Barat
		{"51.71.01", "WITA"},
		{"91.71.01", "WIT"}, // Jayapura Utara, Papua
	} {
		t.Run(tt.zone, func(t *testing.T) {
			cfg := ckConfig()
			cfg.Limits.LookupsPerHour = 1
			h := newHarness(t, cfg)
			ckImport(t, h.DB, ckRegistry)
			u := h.User(350, "id")
			u.Onboard("id")
			if tt.region != "" {
				cmSeedTicket(t, h, u.ID, func(tk *bansosbot.Ticket) { tk.Region = tt.region })
			}
			u.Text("/cek")
			u.sendText(ckUnknown, 2)
			u.Text("Budi")
			h.Advance(15*time.Minute + 20*time.Second)
			r := lastSend(t, u.Text("/cek"))
			if r.Text[0].Key != "check.limit_user" {
				t.Fatalf("second /cek: %v; want check.limit_user", r.Text)
			}
			retry := r.Text[0].Args["Retry"].(flows.Msg)
			in := retry.Args["In"].(flows.Msg).Args["Span"].(flows.Msg)
			if retry.Key != "when.retry" || in.Key != "when.minutes" || in.Args["Count"] != 45 {
				t.Errorf("retry = %v; want when.retry in 45 minutes", FormatMsg(retry))
			}
			at, hasAt := retry.Args["At"].(flows.Time)
			if tt.zone == "" {
				if hasAt || retry.Args["Zone"] != false {
					t.Errorf("no ticket: retry = %v; want the relative time only", FormatMsg(retry))
				}
				return
			}
			if !hasAt || retry.Args["Zone"] != true {
				t.Fatalf("retry = %v; want a clock time", FormatMsg(retry))
			}
			if name, _ := at.T.In(at.Loc).Zone(); name != tt.zone || !at.T.Equal(epoch.Add(time.Hour)) {
				t.Errorf("retry at %v %s; want %v in %s", at.T, name, epoch.Add(time.Hour), tt.zone)
			}
		})
	}
}

// TestMyDataInCitizensZone: /datasaya dates a ticket in its region's zone
// and the consent in the zone of the citizen's newest ticket.
func TestMyDataInCitizensZone(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(351, "id")
	u.Onboard("id")
	h.Advance(20 * time.Hour) // 06:00 the next day in WIB, 07:00 WITA, 08:00 WIT; still the 26th in UTC
	cmSeedTicket(t, h, u.ID, func(tk *bansosbot.Ticket) { tk.Region = "91.71.01" })
	var mydata flows.Msg
	for _, r := range u.Text("/datasaya") {
		for _, m := range r.Text {
			if m.Key == "privacy.mydata" {
				mydata = m
			}
			if m.Key == "privacy.mydata_ticket" {
				if at := m.Args["Created"].(flows.Time); at.Loc == nil || at.T.In(at.Loc).Day() != 27 {
					t.Errorf("ticket created %v in %v; want the 27th in WIT", at.T, at.Loc)
				}
			}
		}
	}
	if at, ok := mydata.Args["ConsentAt"].(flows.Time); !ok || at.Loc == nil || at.Loc.String() != bansosbot.RegionCode("91.71.01").TimeZone().String() {
		t.Errorf("consent time %v; want it in WIT", mydata.Args["ConsentAt"])
	}
}

// TestFiledDeadlinesInResidenceZone: the deadlines a citizen reads when a
// complaint is filed, and in /tiket, are in the zone of where they said
// they live.
func TestFiledDeadlinesInResidenceZone(t *testing.T) {
	for i, tt := range []struct {
		district, village, zone string
	}{
		{"cibinong", "pakansari", "WIB"},
		{"denpasar selatan", "sesetan", "WITA"},
		{"jayapura utara", "gurabesi", "WIT"},
	} {
		t.Run(tt.zone, func(t *testing.T) {
			h := newHarness(t, quiet())
			u := h.User(int64(360+i), "id")
			u.Onboard("id")
			u.Text("/lapor")
			u.Press("c:OTHER")
			u.Text(tt.district)
			u.Text(tt.village)
			u.Text(descText)
			u.Press("done")
			u.Press("skip")
			u.Press("send")
			var filed flows.Msg
			for _, r := range h.Replies {
				if len(r.Text) > 0 && r.Text[0].Key == "complaint.filed" {
					filed = r.Text[0]
				}
			}
			for _, arg := range []string{"DueResponse", "DueResolve"} {
				at, ok := filed.Args[arg].(flows.Time)
				if !ok || at.Loc == nil {
					t.Fatalf("complaint.filed %s = %v; want a time with a zone", arg, filed.Args[arg])
				}
				if name, _ := at.T.In(at.Loc).Zone(); name != tt.zone {
					t.Errorf("%s in %s; want %s", arg, name, tt.zone)
				}
			}
		})
	}
}
