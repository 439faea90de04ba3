package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
)

// TestRenderRetryInZone: the times citizens read, relative and in the zone
// of their region (issue 11 item 3).
func TestRenderRetryInZone(t *testing.T) {
	r := testRenderer()
	at := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC) // 11.00 WIB
	in := func(span flows.Msg) flows.Msg { return flows.T("when.in", "Span", span) }
	mins := func(n int) flows.Msg { return flows.T("when.minutes", "Count", n) }
	hours := func(n int) flows.Msg { return flows.T("when.hours", "Count", n) }
	retry := func(span flows.Msg, region bansosbot.RegionCode) flows.Msg {
		if region == "" {
			return flows.T("when.retry", "In", in(span), "Zone", false)
		}
		return flows.T("when.retry", "In", in(span), "Zone", true, "At", flows.Time{T: at, Loc: region.TimeZone()})
	}
	for _, tt := range []struct {
		lang string
		msg  flows.Msg
		want string
	}{
		{"id", retry(mins(45), ""), "dalam 45 menit"},
		{"en", retry(mins(1), ""), "in 1 minute"},
		{"en", retry(mins(45), ""), "in 45 minutes"},
		{"id", retry(flows.T("when.pair", "A", hours(2), "B", mins(5)), ""), "dalam 2 jam 5 menit"},
		{"en", retry(flows.T("when.pair", "A", hours(1), "B", mins(5)), ""), "in 1 hour 5 minutes"},
		{"id", retry(mins(45), "32.01.01"), "dalam 45 menit (26 November 2026 11.00 WIB)"},
		{"id", retry(mins(45), "51.71.01"), "dalam 45 menit (26 November 2026 12.00 WITA)"},
		{"en", retry(mins(45), "91.71.01"), "in 45 minutes (26 November 2026, 13:00 WIT)"},
		{"id", flows.T("check.limit_user", "Count", 5, "Retry", retry(mins(45), "91.71.01")), "dalam 45 menit (26 November 2026 13.00 WIT)"},
	} {
		got := r.Msg(tt.lang, tt.msg)
		if tt.msg.Key == "check.limit_user" {
			if !strings.Contains(got, tt.want) || strings.Contains(got, "setelah dalam") {
				t.Errorf("%s: %q; want it to hold %q", tt.lang, got, tt.want)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%s: %q; want %q", tt.lang, got, tt.want)
		}
	}
}
