package flows_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// announceRun runs the announcement job once with a budget, like the bot
// when the outbox has room, and records what it queued.
func announceRun(t *testing.T, h *harness, budget int) []flows.Reply {
	t.Helper()
	h.Note("announce job, budget %d", budget)
	var replies []flows.Reply
	if err := h.DB.Update(func(tx *store.Tx) (err error) {
		o, err := h.Engine.Announce(context.Background(), tx, h.Now(), budget)
		replies = o.Replies
		return err
	}); err != nil {
		t.Fatal(err)
	}
	h.record(replies)
	return replies
}

func subscriptionOf(t *testing.T, h *harness, id int64) *bansosbot.Subscription {
	t.Helper()
	var s *bansosbot.Subscription
	if err := h.DB.View(func(tx *store.Tx) (err error) { s, err = tx.Subscription(id); return err }); err != nil {
		t.Fatal(err)
	}
	return s
}

func announcementOf(t *testing.T, h *harness, id uint64) *bansosbot.Announcement {
	t.Helper()
	var a *bansosbot.Announcement
	if err := h.DB.View(func(tx *store.Tx) (err error) { a, err = tx.Announcement(id); return err }); err != nil {
		t.Fatal(err)
	}
	return a
}

// subscribe runs a citizen's subscription to a kecamatan by its name.
func subscribeTo(u *user, name string) {
	u.Text("/langganan")
	u.Press("add")
	u.Text(name)
	for _, row := range u.h.keyboards[u.ID] {
		for _, b := range row {
			if p := b.Data[len(b.Data)-len("pick:32.01.01"):]; len(b.Data) > 15 && p[:5] == "pick:" {
				u.Press(p)
				u.Press("yes")
				return
			}
		}
	}
	u.h.t.Fatalf("no region offered for %q", name)
}

// TestSubscribeGolden: a citizen subscribes with consent, sees the
// subscription in /datasaya, and leaves with the button under an
// announcement.
func TestSubscribeGolden(t *testing.T) {
	h := newHarness(t, quiet())
	cit := onboarded(h, 500)
	cit.Text("/langganan")
	cit.Press("add")
	cit.Text("zzzz") // nothing
	cit.Text("cibinong")
	cit.Press("pick:32.01.01")
	cit.Press("yes")
	sub := subscriptionOf(t, h, 500)
	if sub == nil || !slices.Equal(sub.Regions, []bansosbot.RegionCode{cibinong}) || sub.ConsentAt.IsZero() || sub.NoticeVersion != bansosbot.SubscriptionNoticeVersion {
		t.Fatalf("subscription = %+v; want Cibinong with the consent's time and version", sub)
	}
	cit.Press("x")
	cit.Text("/datasaya")
	if !slices.ContainsFunc(h.Replies[0].Text, func(m flows.Msg) bool { return m.Key == "announce.mydata" }) {
		t.Errorf("/datasaya = %v; want the subscription", h.Replies[0].Text)
	}

	sari := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	sari.Text("/pengumuman")
	sari.Press("reg:32.01")
	sari.Press("prog:")
	sari.Text("Pencairan PKH tahap 4 di Kantor Pos Cibinong mulai Senin 7 Desember, pukul 08.00-14.00.")
	sari.Press("skip")
	sari.Press("skip")
	sari.Press("now")
	got := announceRun(t, h, 10)
	sentTo(t, got, 500, "announce.message")
	cit.PressData("sb..u:1")
	if s := subscriptionOf(t, h, 500); s != nil {
		t.Errorf("after the stop button: %+v; want no subscription", s)
	}
	if a := announcementOf(t, h, 1); a.Unsubscribed != 1 || a.Queued != 1 || a.Status != bansosbot.AnnDone {
		t.Errorf("announcement = %+v; want done, 1 queued, 1 unsubscribed", a)
	}
	h.Golden("announce_subscribe")
}

// TestAnnounceApprovalGolden: a supervisor writes an announcement over the
// approval size; a second supervisor at the same level approves; the job
// queues every recipient exactly once across batches, in their language,
// and skips who blocked the bot.
func TestAnnounceApprovalGolden(t *testing.T) {
	cfg := quiet()
	cfg.AnnounceApprovalOver = 2
	cfg.NIKKey = []byte("test nik key")
	h := newHarness(t, cfg)
	var citizens []*user
	for i, lang := range []string{"id", "en", "id", "id"} {
		u := h.User(int64(500+i), lang)
		u.Onboard(lang)
		citizens = append(citizens, u)
	}
	h.log.Reset()
	for _, u := range citizens {
		subscribeTo(u, "cibinong")
	}
	if err := h.DB.Update(func(tx *store.Tx) error { // 503 blocked the bot
		p, err := tx.Profile(503)
		if err != nil {
			return err
		}
		p.Unreachable = true
		return tx.PutProfile(p)
	}); err != nil {
		t.Fatal(err)
	}
	h.log.Reset()
	dewi := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	hadi := addStaff(t, h, 702, "Hadi", bansosbot.RoleSupervisor, bogor)
	addStaff(t, h, 703, "Rudi", bansosbot.RoleSupervisor, cibinong) // lower level: may not approve
	dewi.Text("/pengumuman")
	dewi.Text("cibinong") // a kecamatan within her kabupaten
	dewi.Press("reg:32.01.01")
	dewi.Press("prog:")
	dewi.Text("Waspada penipuan: petugas tidak pernah meminta uang untuk pencairan bansos.")
	dewi.Text("Beware of scams: officers never ask for money to release aid.")
	dewi.Photo("")
	dewi.Press("now")
	sentTo(t, h.Replies, 702, "announcing.approve_request")
	if slices.Contains(chats(h.Replies), 703) {
		t.Errorf("the kecamatan supervisor was asked to approve a kabupaten supervisor's announcement")
	}
	if got := announceRun(t, h, 10); len(got) != 0 {
		t.Fatalf("pending announcement queued %v", chats(got))
	}
	dewi.PressData("an..ok:1") // the author cannot approve her own
	if a := announcementOf(t, h, 1); a.Status != bansosbot.AnnPending {
		t.Fatalf("after the author's own approval: %s; want pending", a.Status)
	}
	hadi.Press("ok:1")
	sentTo(t, h.Replies, 701, "announcing.decided_ok")
	first := announceRun(t, h, 2)
	second := announceRun(t, h, 2)
	third := announceRun(t, h, 2)
	all := append(append(slices.Clone(first), second...), third...)
	var to []int64
	for _, r := range all {
		if r.Announcement == 1 {
			to = append(to, r.ChatID)
			if r.Action != flows.SendPhoto || (r.ChatID == 501) != (r.Lang == "en") {
				t.Errorf("to %d: action %d lang %s; want the photo in the citizen's language", r.ChatID, r.Action, r.Lang)
			}
		}
	}
	if !slices.Equal(to, []int64{500, 501, 502}) {
		t.Errorf("queued to %v; want 500, 501, 502 once each (503 blocked the bot)", to)
	}
	if a := announcementOf(t, h, 1); a.Status != bansosbot.AnnDone || a.Queued != 3 || a.ApprovedBy != 702 {
		t.Errorf("announcement = %s queued %d approved by %d; want done, 3, 702", a.Status, a.Queued, a.ApprovedBy)
	}
	h.Golden("announce_approval")

	// The effect: a recipient checking their status within the week.
	h.Advance(48 * time.Hour)
	citizens[0].Text("/cek")
	citizens[0].Text("/cek") // counted once
	if a := announcementOf(t, h, 1); a.Acted != 1 {
		t.Errorf("acted = %d; want 1", a.Acted)
	}
	// The supervisors' summary tells the announcement's figures.
	dewi.Text("/ringkasan")
	var line *flows.Msg
	for i, m := range h.Replies[0].Text {
		if m.Key == "announcing.summary_line" {
			line = &h.Replies[0].Text[i]
		}
	}
	if line == nil || line.Args["Acted"] != 1 || line.Args["Recipients"] != 3 {
		t.Errorf("/ringkasan = %v; want the announcement with 3 recipients, 1 acted", h.Replies[0].Text)
	}
}

// TestAnnounceAuthorization (golden announce_refused): a worker cannot announce; a supervisor's
// forged button for another region and forged approvals are refused and
// audited; nothing is stored.
func TestAnnounceAuthorization(t *testing.T) {
	h := newHarness(t, quiet())
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	dewi := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	sari.Text("/pengumuman")
	if h.Replies[0].Text[0].Key != "errors.supervisors_only" && h.Replies[0].Text[0].Key != "announcing.supervisors_only" {
		t.Errorf("worker /pengumuman: %v; want refused", keysOf(h.Replies))
	}
	dewi.Text("/pengumuman")
	step := h.keyboards[701][0][0].Data[3:4]
	dewi.PressData(fmt.Sprintf("an.%s.reg:32.02", step)) // Kabupaten Sukabumi: not hers
	if st := subscriptionOf(t, h, 701); st != nil {
		t.Fatal("unexpected subscription")
	}
	var sess *bansosbot.Session
	h.DB.View(func(tx *store.Tx) (err error) { sess, err = tx.Session(701); return err })
	if sess.State != "region" {
		t.Errorf("after a forged region the flow is in %q; want still choosing the region", sess.State)
	}
	sari.PressData("an..ok:1")
	sari.PressData("an..c:1")
	var refused []string
	for _, a := range append(auditOf(t, h, 601), auditOf(t, h, 701)...) {
		if !a.Allowed {
			refused = append(refused, a.Action+":"+a.Reason)
		}
	}
	if len(refused) < 3 {
		t.Errorf("refused audit entries %v; want the worker's command, the forged region and the forged approval", refused)
	}
	h.Golden("announce_refused")
}

// TestErasureRemovesSubscription: /hapusdata removes the subscription and
// every mark linking the citizen to an announcement.
func TestErasureRemovesSubscription(t *testing.T) {
	h := newHarness(t, quiet())
	cit := onboarded(h, 500)
	subscribeTo(cit, "cibinong")
	dewi := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	dewi.Text("/pengumuman")
	dewi.Press("reg:32.01")
	dewi.Press("prog:")
	dewi.Text("Jadwal pencairan berubah.")
	dewi.Press("skip")
	dewi.Press("skip")
	dewi.Press("now")
	announceRun(t, h, 10)
	subJSON := []byte(`"regions":["32.01.01"],"consent_at"`)
	if raw, err := storeBytes(h.DB); err != nil || !bytes.Contains(raw, subJSON) {
		t.Fatalf("the subscription is not in the file before erasure (%v): the scan below would prove nothing", err)
	}
	cit.Text("/hapusdata")
	cit.Press("yes")
	if s := subscriptionOf(t, h, 500); s != nil {
		t.Errorf("after erasure: %+v", s)
	}
	var ids []uint64
	h.DB.Update(func(tx *store.Tx) (err error) { ids, err = tx.ActOnAnnouncements(500, time.Time{}); return err })
	if len(ids) != 0 {
		t.Errorf("after erasure the citizen is still marked as a recipient of %v", ids)
	}
	// The file itself: once the freed pages are scrubbed (as the erasure
	// job and every backup do), no subscription of the citizen is left.
	if _, err := h.DB.ScrubFreePages(); err != nil {
		t.Fatal(err)
	}
	raw, err := storeBytes(h.DB)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, subJSON) {
		t.Error("the database file still holds the erased citizen's subscription")
	}
}

// TestProgramOfferAfterCheck: a status check that answers YA offers that
// program's announcements; only with the citizen's consent is the program
// kept, and a program announcement reaches only those who kept it.
func TestProgramOfferAfterCheck(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	wawan := h.User(340, "id")
	wawan.Onboard("id")
	other := onboarded(h, 341)
	subscribeTo(wawan, "cibinong")
	subscribeTo(other, "cibinong")
	wawan.Text("/cek")
	wawan.sendText(ckWawan, 3)
	wawan.Text("Wawan Lestari")
	offered := false
	for _, d := range buttonData(resultReply(t, h)) {
		offered = offered || d == "sb..p:PKH"
	}
	if !offered {
		t.Fatalf("no PKH announcement offer under the answer")
	}
	if s := subscriptionOf(t, h, 340); len(s.Programs) != 0 {
		t.Fatalf("program kept before consent: %v", s.Programs)
	}
	wawan.PressData("sb..p:PKH")
	wawan.Press("yes")
	if s := subscriptionOf(t, h, 340); !slices.Equal(s.Programs, []string{"PKH"}) {
		t.Fatalf("programs after consent = %v; want PKH", s.Programs)
	}
	dewi := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	dewi.Text("/pengumuman")
	dewi.Press("reg:32.01")
	dewi.Press("prog:PKH")
	dewi.Text("Pencairan PKH tahap 4 dimulai Senin.")
	dewi.Press("skip")
	dewi.Press("skip")
	dewi.Press("now")
	if got := chats(announceRun(t, h, 10)); !slices.Contains(got, 340) || slices.Contains(got, 341) {
		t.Errorf("PKH announcement went to %v; want Wawan, not the subscriber without the program", got)
	}
}
