package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStaffRecords(t *testing.T) {
	db := openDB(t)
	err := db.Update(func(tx *store.Tx) error {
		for _, s := range []*bansosbot.Staff{
			{UserID: 7, Name: "B", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01.01"}, Active: true},
			{UserID: 3, Name: "A", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{""}, Active: true},
		} {
			if err := tx.PutStaff(s); err != nil {
				return err
			}
		}
		return tx.DeleteStaff(7)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *store.Tx) error {
		if s, err := tx.Staff(7); s != nil || err != nil {
			t.Errorf("deleted staff = %+v, %v; want nil", s, err)
		}
		s, err := tx.Staff(3)
		if err != nil || s == nil || s.Regions[0] != "" || s.CreatedAt.IsZero() {
			t.Errorf("staff 3 = %+v, %v; want the national supervisor with a creation time", s, err)
		}
		return nil
	})
}

func TestInvites(t *testing.T) {
	db := openDB(t)
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	err := db.Update(func(tx *store.Tx) error {
		a, _ := tx.NextInviteSeq()
		b, _ := tx.NextInviteSeq()
		if a == b {
			t.Errorf("invite sequence repeats: %d", a)
		}
		if err := tx.PutInvite(&bansosbot.Invite{}); err == nil {
			t.Error("an invite without hash was stored")
		}
		for i, exp := range []time.Time{now.Add(-time.Hour), now.Add(time.Hour)} {
			if err := tx.PutInvite(&bansosbot.Invite{CodeHash: bansosbot.HashInviteCode(nil, string(rune('A'+i))), Role: bansosbot.RoleWorker, ExpiresAt: exp}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeInvites(now)
	if err != nil || n != 1 {
		t.Fatalf("PurgeInvites = %d, %v; want 1", n, err)
	}
	db.View(func(tx *store.Tx) error {
		if inv, _ := tx.Invite(bansosbot.HashInviteCode(nil, "A")); inv != nil {
			t.Errorf("expired invite kept: %+v", inv)
		}
		if inv, _ := tx.Invite(bansosbot.HashInviteCode(nil, "B")); inv == nil || inv.Role != bansosbot.RoleWorker {
			t.Errorf("valid invite = %+v; want it kept", inv)
		}
		if inv, err := tx.Invite("nope"); inv != nil || err != nil {
			t.Errorf("unknown invite = %+v, %v; want nil, nil", inv, err)
		}
		return nil
	})
}
