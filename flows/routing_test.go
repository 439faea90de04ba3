package flows_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

func staffDB(t *testing.T, staff []bansosbot.Staff) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(func(tx *store.Tx) error {
		for i := range staff {
			if err := tx.PutStaff(&staff[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func worker(id int64, regions ...bansosbot.RegionCode) bansosbot.Staff {
	return bansosbot.Staff{UserID: id, Role: bansosbot.RoleWorker, Regions: regions, Active: true}
}

func supervisor(id int64, regions ...bansosbot.RegionCode) bansosbot.Staff {
	return bansosbot.Staff{UserID: id, Role: bansosbot.RoleSupervisor, Regions: regions, Active: true}
}

func TestRoute(t *testing.T) {
	inactive := worker(9, cibinong)
	inactive.Active = false
	tests := []struct {
		name     string
		category string
		staff    []bansosbot.Staff
		want     []int64
	}{
		{"most specific worker wins", "DATA_ERROR",
			[]bansosbot.Staff{worker(1, bogor), worker(2, cibinong), worker(3, jabar), supervisor(10, bogor)}, []int64{2}},
		{"ties share the queue", "DATA_ERROR",
			[]bansosbot.Staff{worker(4, cibinong), worker(2, cibinong, sukabumiKec), worker(1, bogor)}, []int64{2, 4}},
		{"a kabupaten worker when no kecamatan one", "DATA_ERROR",
			[]bansosbot.Staff{worker(1, bogor), worker(2, gunungputri), supervisor(10, bogor)}, []int64{1}},
		{"inactive and other regions' workers are skipped", "DATA_ERROR",
			[]bansosbot.Staff{inactive, worker(2, gunungputri), worker(3, sukabumiKec), supervisor(10, bogor)}, []int64{10}},
		{"no worker: the kabupaten supervisor", "DATA_ERROR",
			[]bansosbot.Staff{supervisor(10, bogor), supervisor(11, jabar), supervisor(12, "")}, []int64{10}},
		{"no kabupaten supervisor: the province", "DATA_ERROR",
			[]bansosbot.Staff{supervisor(11, jabar), supervisor(12, ""), supervisor(13, "32.02")}, []int64{11}},
		{"only the nation", "DATA_ERROR",
			[]bansosbot.Staff{supervisor(12, ""), supervisor(14, "33")}, []int64{12}},
		{"admins are not routed to", "DATA_ERROR",
			[]bansosbot.Staff{{UserID: 99, Role: bansosbot.RoleAdmin, Active: true}}, nil},
		{"nobody", "DATA_ERROR", nil, nil},
		{"PUNGLI skips every worker", "PUNGLI",
			[]bansosbot.Staff{worker(2, cibinong), worker(1, bogor), worker(3, jabar), supervisor(10, bogor)}, []int64{10}},
		{"PUNGLI never to the kecamatan's own supervisor", "PUNGLI",
			[]bansosbot.Staff{supervisor(20, cibinong), supervisor(11, jabar)}, []int64{11}},
		{"PUNGLI never to anyone also covering the kecamatan", "PUNGLI",
			[]bansosbot.Staff{supervisor(21, jabar, cibinong), supervisor(12, "")}, []int64{12}},
		{"PUNGLI kabupaten ties", "PUNGLI",
			[]bansosbot.Staff{supervisor(10, bogor), supervisor(15, bogor), supervisor(11, jabar)}, []int64{10, 15}},
		{"OFFICER_MISCONDUCT like PUNGLI", "OFFICER_MISCONDUCT",
			[]bansosbot.Staff{worker(2, cibinong), supervisor(20, cibinong), supervisor(11, jabar)}, []int64{11}},
		{"PUNGLI with nobody allowed", "PUNGLI",
			[]bansosbot.Staff{worker(2, cibinong), supervisor(20, cibinong)}, nil},
	}
	e := flows.NewEngine(flows.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := staffDB(t, tt.staff)
			tk := &bansosbot.Ticket{ID: 1, Category: tt.category, Region: cibinong}
			cat, _ := e.Config().Categories.Get(tt.category)
			tk.HideReporter = cat.HideReporter
			var got []int64
			err := db.View(func(tx *store.Tx) error {
				staff, err := e.Route(tx, tk)
				for _, s := range staff {
					got = append(got, s.UserID)
				}
				return err
			})
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Route = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestRouteFallsBackToConfigAdmins: a ticket nobody covers still reaches
// someone, and the routing is audited.
func TestRouteFallsBackToConfigAdmins(t *testing.T) {
	h := newHarness(t, flows.Config{Admins: []int64{900}})
	tk := fileTicket(t, h, 500, "OTHER", sukabumiKec, "Pertanyaan tentang jadwal pencairan bantuan.")
	if got := chats(h.Replies); !slices.Equal(got, []int64{900}) {
		t.Errorf("routed to %v; want the configured admin", got)
	}
	entries := auditTicket(t, h, tk.ID)
	if len(entries) != 1 || entries[0].Action != bansosbot.AuditRoute || entries[0].Reason != "no_staff" || entries[0].Actor != 0 {
		t.Errorf("audit = %+v; want one system route entry with reason no_staff", entries)
	}
}

func TestSupervisorsFor(t *testing.T) {
	db := staffDB(t, []bansosbot.Staff{
		supervisor(10, bogor), supervisor(11, jabar), supervisor(12, ""), supervisor(13, "32.02"),
		supervisor(14, jabar, bogor), worker(1, bogor), {UserID: 15, Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{bogor}},
	})
	for _, tt := range []struct {
		level int
		want  []int64
	}{{2, []int64{10, 14}}, {1, []int64{11, 14}}, {0, []int64{12}}, {3, nil}} {
		var got []int64
		db.View(func(tx *store.Tx) error {
			ss, err := flows.SupervisorsFor(tx, cibinong, tt.level)
			for _, s := range ss {
				got = append(got, s.UserID)
			}
			return err
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("SupervisorsFor(%s, %d) = %v; want %v", cibinong, tt.level, got, tt.want)
		}
	}
}

// BenchmarkQueue measures a worker's queue over a kabupaten with many
// open tickets (the status+region index keeps it to the area's entries).
func BenchmarkQueue(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "q.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	e := flows.NewEngine(flows.Config{})
	regions := []bansosbot.RegionCode{cibinong, gunungputri, sukabumiKec}
	err = db.Update(func(tx *store.Tx) error {
		for i := 1; i <= 5000; i++ {
			tk := &bansosbot.Ticket{ID: uint64(i), Category: "DATA_ERROR", Region: regions[i%3], Status: bansosbot.StatusNew,
				CreatedAt: epoch, UpdatedAt: epoch}
			e.Schedule(tk, epoch)
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s := &bansosbot.Staff{UserID: 1, Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{bogor}, Active: true}
	b.ResetTimer()
	for range b.N {
		db.View(func(tx *store.Tx) error {
			_, err := e.Queue(tx, s, "a", epoch)
			return err
		})
	}
}

// fileByChat files a complaint of category OTHER in Cibinong through the
// conversation, as a citizen does.
func fileByChat(t *testing.T, h *harness, id int64) {
	t.Helper()
	cat, _ := h.Engine.Config().Categories.Get("OTHER")
	u := h.User(id, "id")
	u.Onboard("id")
	u.Text("/lapor")
	u.Press("c:OTHER")
	u.Text("cibinong")
	u.Text("pakan") // every category asks the village
	if cat.Asks(bansosbot.FieldReason) {
		u.Text(reasonText)
	}
	u.Text(descText)
	u.Press("done")
	u.Press("skip")
	u.Press("send")
	filedNo(t, h)
}

// TestRouteUnstaffed: a ticket whose region has no staff goes to every
// admin, the stored admin records too (not only BANSOSBOT_ADMINS); with no
// admin either, the citizen is told honestly that the service is not
// staffed yet, the routing is audited as unrouted, and Unrouted counts it
// until someone who may handle it exists (issue 12 item 10).
func TestRouteUnstaffed(t *testing.T) {
	t.Run("stored admins", func(t *testing.T) {
		h := newHarness(t, quiet())
		if err := h.DB.Update(func(tx *store.Tx) error {
			return tx.PutStaff(&bansosbot.Staff{UserID: 950, Role: bansosbot.RoleAdmin, Active: true})
		}); err != nil {
			t.Fatal(err)
		}
		fileByChat(t, h, 501)
		if !slices.Contains(chats(h.Replies), 950) {
			t.Errorf("replies went to %v; want the stored admin 950 told", chats(h.Replies))
		}
		if hasKey(h, "routing.unstaffed") {
			t.Error("the citizen was told the service is unstaffed although an admin was told")
		}
	})
	t.Run("nobody", func(t *testing.T) {
		h := newHarness(t, quiet())
		fileByChat(t, h, 502)
		if !hasKey(h, "routing.unstaffed") {
			t.Errorf("replies %v; want the citizen told routing.unstaffed", lastKeys(h))
		}
		if got := chats(h.Replies); !slices.Equal(got, []int64{502}) {
			t.Errorf("replies went to %v; want only the citizen", got)
		}
		tk := cmTickets(t, h, 502)[0]
		entries := auditTicket(t, h, tk.ID)
		if len(entries) != 1 || entries[0].Reason != flows.ReasonUnrouted {
			t.Errorf("audit = %+v; want one route entry with reason %s", entries, flows.ReasonUnrouted)
		}
		unrouted := func() int {
			var n int
			if err := h.DB.View(func(tx *store.Tx) (err error) { n, err = h.Engine.Unrouted(tx); return err }); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := unrouted(); n != 1 {
			t.Errorf("Unrouted = %d; want 1", n)
		}
		// A worker of another kabupaten does not help; one of the province does.
		h.DB.Update(func(tx *store.Tx) error { w := worker(3, sukabumiKec); return tx.PutStaff(&w) })
		if n := unrouted(); n != 1 {
			t.Errorf("Unrouted with a worker elsewhere = %d; want 1", n)
		}
		h.DB.Update(func(tx *store.Tx) error { w := worker(4, jabar); return tx.PutStaff(&w) })
		if n := unrouted(); n != 0 {
			t.Errorf("Unrouted with a province worker = %d; want 0", n)
		}
	})
}
