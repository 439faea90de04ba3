package flows_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

const (
	digestMakassar = 611 // supervisor of Kota Makassar (WITA)
	mariso         = bansosbot.RegionCode("73.71.01")
)

// digest runs the digest job once, like cron every few minutes.
func digest(t *testing.T, h *harness) []flows.Reply {
	t.Helper()
	h.Note("digest at %s", h.Now().In(wib).Format("Mon 2006-01-02 15:04 MST"))
	var replies []flows.Reply
	if err := h.DB.Update(func(tx *store.Tx) error {
		o, err := h.Engine.Digest(context.Background(), tx, h.Now())
		replies = o.Replies
		return err
	}); err != nil {
		t.Fatalf("Digest: %v", err)
	}
	h.record(replies)
	return replies
}

// digestArg returns an argument of the message with the key in r.
func digestArg(t *testing.T, r flows.Reply, key, arg string) any {
	t.Helper()
	for _, m := range r.Text {
		if m.Key == key {
			return m.Args[arg]
		}
	}
	t.Fatalf("no %s in the message to %d", key, r.ChatID)
	return nil
}

// Each supervisor gets one digest per working day from 07:00 in their
// own time zone, a weekly one on the first working day of the week, and
// nothing on weekends and holidays.
func TestDigestGolden(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	addStaff(t, h, digestMakassar, "Made", bansosbot.RoleSupervisor, "73.71")
	putLang(t, h, digestMakassar, "en")
	if err := h.DB.Update(func(tx *store.Tx) error { // inactive: no digest
		return tx.PutStaff(&bansosbot.Staff{UserID: 699, Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{bogor}})
	}); err != nil {
		t.Fatal(err)
	}
	worker := flows.Actor{ID: slaWorker, Role: string(bansosbot.RoleWorker)}

	t1 := slaTicket(t, h, cibinong, "PAYMENT_NOT_RECEIVED", slaWorker) // Thu 26 Nov 10:00 WIB
	t2 := slaTicket(t, h, mariso, "KKS_CARD", 0)
	h.Advance(time.Hour)
	transition(t, h, t1.ID, flows.EvStart, worker) // answered on time
	advanceTo(t, h, "2026-11-26 14:00", wib)
	t3 := slaTicket(t, h, cibinong, "INFO_REQUEST", slaWorker)
	h.Advance(time.Hour)
	transition(t, h, t3.ID, flows.EvResolve, worker) // answered and resolved on time

	advanceTo(t, h, "2026-11-27 05:59", wib) // 06:59 WITA
	if got := digest(t, h); len(got) != 0 {
		t.Fatalf("before 07:00 anywhere: %v", chats(got))
	}
	h.Advance(time.Minute) // 07:00 WITA
	if got := chats(digest(t, h)); !slices.Equal(got, []int64{digestMakassar}) {
		t.Fatalf("07:00 WITA: digests to %v; want Makassar only", got)
	}
	advanceTo(t, h, "2026-11-27 07:00", wib)
	friday := digest(t, h)
	if got := chats(friday); !slices.Equal(got, []int64{slaRegency, slaNeighbour, slaProvince, slaNational}) {
		t.Fatalf("07:00 WIB: digests to %v; want the WIB supervisors", got)
	}
	if got := digest(t, h); len(got) != 0 {
		t.Fatalf("second run sent %v", chats(got))
	}
	advanceTo(t, h, "2026-11-27 23:59", wib)
	if got := digest(t, h); len(got) != 0 {
		t.Fatalf("same day, later: %v", chats(got))
	}
	for _, r := range friday {
		if r.Text[0].Key != "digest.daily_title" {
			t.Errorf("Friday's digest to %d is %s; want daily", r.ChatID, r.Text[0].Key)
		}
	}
	rudi := friday[0]
	counts := map[string]any{}
	for _, m := range rudi.Text {
		if m.Key == "digest.counts" || m.Key == "digest.now_counts" {
			for k, v := range m.Args {
				counts[k] = v
			}
		}
	}
	if counts["New"] != 2 || counts["Open"] != 1 || counts["Overdue"] != 0 || counts["Resolved"] != 1 {
		t.Errorf("Kabupaten Bogor's counts = %v; want 2 new, 1 open, 0 overdue, 1 resolved", counts)
	}
	if got := digestArg(t, friday[3], "digest.counts", "New"); got != 3 {
		t.Errorf("national new = %v; want 3", got)
	}
	if got := digestArg(t, friday[1], "digest.counts", "New"); got != 0 {
		t.Errorf("Sukabumi new = %v; want 0", got)
	}

	advanceTo(t, h, "2026-11-28 08:00", wib) // Saturday
	if got := digest(t, h); len(got) != 0 {
		t.Fatalf("Saturday: %v", chats(got))
	}
	advanceTo(t, h, "2026-11-30 07:00", wib) // Monday: the week
	monday := digest(t, h)
	if len(monday) != 5 {
		t.Fatalf("Monday: %d digests; want 5", len(monday))
	}
	for _, r := range monday {
		if r.Text[0].Key != "digest.weekly_title" {
			t.Errorf("Monday's digest to %d is %s; want weekly", r.ChatID, r.Text[0].Key)
		}
	}
	advanceTo(t, h, "2026-12-02 07:00", wib) // Wednesday: t2 (Makassar) is overdue
	wednesday := digest(t, h)
	if got := digestArg(t, wednesday[len(wednesday)-1], "digest.now_counts", "Overdue"); got != 1 {
		t.Errorf("national overdue on Wednesday = %v; want 1 (%s)", got, t2.No)
	}
	h.Golden("escalation_digest")

	// Christmas: cuti bersama on Thursday, Christmas on Friday.
	advanceTo(t, h, "2026-12-24 09:00", wib)
	if got := digest(t, h); len(got) != 0 {
		t.Fatalf("collective leave: %v", chats(got))
	}
	advanceTo(t, h, "2026-12-25 09:00", wib)
	if got := digest(t, h); len(got) != 0 {
		t.Fatalf("Christmas: %v", chats(got))
	}
	// Nyepi 2027 falls on a Monday: the weekly digest moves to Tuesday.
	advanceTo(t, h, "2027-03-08 09:00", wib)
	if got := digest(t, h); len(got) != 0 {
		t.Fatalf("Nyepi: %v", chats(got))
	}
	advanceTo(t, h, "2027-03-09 09:00", wib)
	for _, r := range digest(t, h) {
		if r.Text[0].Key != "digest.weekly_title" {
			t.Errorf("Tuesday after a Monday holiday: %s to %d; want weekly", r.Text[0].Key, r.ChatID)
		}
	}
}

// TestDigestStatesItsPeriod: a digest that goes out hours after its period
// ended (here the first one of a supervisor registered at noon) counts as
// new only what the period holds, and tells the open tickets as of the
// moment it is sent, with that moment.
func TestDigestStatesItsPeriod(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	advanceTo(t, h, "2026-11-27 07:00", wib)
	digest(t, h) // the existing supervisors' Friday digests
	advanceTo(t, h, "2026-11-27 10:00", wib)
	late := slaTicket(t, h, cibinong, "PAYMENT_NOT_RECEIVED", 0) // after the period
	advanceTo(t, h, "2026-11-27 12:00", wib)
	addStaff(t, h, 720, "Wati", bansosbot.RoleSupervisor, bogor)
	got := digest(t, h)
	if len(got) != 1 || got[0].ChatID != 720 {
		t.Fatalf("digests %v; want only the new supervisor's", chats(got))
	}
	r := got[0]
	if n := digestArg(t, r, "digest.counts", "New"); n != 0 {
		t.Errorf("new in the period = %v; want 0 (%s came after 07:00)", n, late.No)
	}
	if n := digestArg(t, r, "digest.now_counts", "Open"); n != 1 {
		t.Errorf("open now = %v; want 1 (%s)", n, late.No)
	}
	at, _ := digestArg(t, r, "digest.now_counts", "At").(flows.Time)
	to, _ := digestArg(t, r, "digest.period", "To").(flows.Time)
	if !at.T.Equal(h.Now()) || !to.T.Before(at.T) {
		t.Errorf("open tickets told as of %v, period to %v; want the sending time %v after the period", at.T, to.T, h.Now())
	}
}
