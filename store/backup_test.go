package store

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var marker = []byte("DELETED-PERSONAL-DATA-6f1c")

// writeThenDelete stores values holding marker and deletes them: their
// old bytes stay in free pages of the file.
func writeThenDelete(t *testing.T, db *DB) {
	t.Helper()
	val := bytes.Repeat(marker, 40)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("scratch"))
		if err != nil {
			return err
		}
		for i := range 200 {
			if err := b.Put(u64(uint64(i)), val); err != nil {
				return err
			}
		}
		_, err = tx.CreateBucketIfNotExists([]byte("kept"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("kept")).Put([]byte("k"), []byte("still here")) })
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("scratch")) }); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(db.Path())
	if !bytes.Contains(raw, marker) {
		t.Fatal("the deleted values are not in the file's free pages: the test is blind")
	}
}

func checkBackup(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, marker) {
		t.Error("the backup holds deleted data from free pages")
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("backup damaged: %v", err)
		}
		if v := tx.Bucket([]byte("kept")).Get([]byte("k")); string(v) != "still here" {
			t.Errorf("kept value in the backup = %q", v)
		}
		return nil
	})
}

// TestBackupHasNoFreePageData: whatever the retention setting (no scrub
// ran), a backup's free pages are zeros (issue 10 item 10).
func TestBackupHasNoFreePageData(t *testing.T) {
	db := openTicketDB(t)
	writeThenDelete(t, db)
	// A reader open during the backup: pending pages are zeroed too.
	rtx, _ := db.bolt.Begin(false)
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := db.BackupFile(out); err != nil {
		t.Fatal(err)
	}
	rtx.Rollback()
	checkBackup(t, out)
	raw, _ := os.ReadFile(db.Path())
	if !bytes.Contains(raw, marker) {
		t.Error("the backup changed the live file") // the scrub job does that, not the backup
	}

	// Read-only store (bansosbot backup with no bot running).
	path := db.Path()
	db.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	out2 := filepath.Join(t.TempDir(), "backup2.db")
	if err := ro.BackupFile(out2); err != nil {
		t.Fatal(err)
	}
	checkBackup(t, out2)
}

// TestSweepTemporaries: leftovers of a kill -9 during a backup, an import
// or a compaction are removed; recent ones only with olderThan 0; other
// files never (issue 10 item 13).
func TestSweepTemporaries(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-48 * time.Hour)
	files := map[string]time.Time{
		".backup-123": old, ".registry-run-9": old, ".registry-new-1": old, ".compact-5": old,
		".registry-run-recent": now, "bansosbot.db": old, "registry.db": old, "secret": old, ".backupnot": old,
	}
	for name, mt := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o600)
		os.Chtimes(p, mt, mt)
	}
	got, err := SweepTemporaries(dir, 6*time.Hour, now)
	slices.Sort(got)
	if want := []string{".backup-123", ".compact-5", ".registry-new-1", ".registry-run-9"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("daily sweep removed %v, %v; want %v", got, err, want)
	}
	got, _ = SweepTemporaries(dir, 0, now)
	if !reflect.DeepEqual(got, []string{".registry-run-recent"}) {
		t.Errorf("sweep at start removed %v; want the recent run file", got)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 4 {
		t.Errorf("left %v; want the four other files", left)
	}
	if got, err := SweepTemporaries(filepath.Join(dir, "missing"), 0, now); got != nil || err != nil {
		t.Errorf("missing dir: %v, %v", got, err)
	}
}
