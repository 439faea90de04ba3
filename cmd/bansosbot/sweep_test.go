package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestSweepTemporariesAtStartAndDaily: the leftovers of a kill -9 during a
// backup or an import are removed when the bot starts and by the daily
// maintenance job (issue 10 item 13).
func TestSweepTemporariesAtStartAndDaily(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	seedFixture(t, cfg)
	os.MkdirAll(cfg.backupDir(), 0o700)
	old := time.Now().Add(-48 * time.Hour)
	plant := func(dir, name string, mt time.Time) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("half a file"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mt, mt)
	}
	plant(e.dir, ".registry-run-123", time.Now())
	plant(e.dir, ".registry-new-9", old)
	plant(e.dir, ".backup-77", old)
	plant(cfg.backupDir(), ".backup-55", old)
	plant(cfg.backupDir(), "keep.txt", old)
	m := e.start(cfg)
	defer m.Close()
	m.cron.Stop()
	names := func(dir string) []string {
		ents, _ := os.ReadDir(dir)
		var out []string
		for _, en := range ents {
			if n := en.Name(); n[0] == '.' || n == "keep.txt" {
				out = append(out, n)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := names(e.dir); len(got) != 0 {
		t.Errorf("temporaries left in the data directory after start: %v", got)
	}
	if got := names(cfg.backupDir()); !slices.Equal(got, []string{"keep.txt"}) {
		t.Errorf("backup directory after start: %v; want only keep.txt", got)
	}

	plant(e.dir, ".registry-run-old", old)
	plant(e.dir, ".registry-run-now", time.Now()) // an import in progress
	if err := m.maintenance(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := names(e.dir); !slices.Equal(got, []string{".registry-run-now"}) {
		t.Errorf("after the daily sweep: %v; want only the file in use", got)
	}
}
