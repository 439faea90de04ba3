package main

import (
	"time"

	"github.com/bansosbot/bansosbot/store"
)

// sweepTemporaries removes what a kill -9 during a backup, a registry
// import or a compaction left in the data and backup directories (issue 10
// item 13): at start (olderThan 0: with the store's lock held, nothing of
// ours is in progress in the data directory; the backup directory keeps an
// hour's margin for a command-line backup of another instance) and daily
// in the maintenance job (a margin longer than any backup or import).
func (m *Main) sweepTemporaries(olderThan time.Duration) {
	now := time.Now() // file times are the real clock's, not the injected one
	for dir, margin := range map[string]time.Duration{m.Config.DataDir: olderThan, m.Config.backupDir(): max(olderThan, time.Hour)} {
		removed, err := store.SweepTemporaries(dir, margin, now)
		if err != nil {
			m.Log.Warn("could not remove stale temporary files", "dir", dir, "err", err)
		}
		if len(removed) > 0 {
			m.Log.Info("removed stale temporary files (a backup or an import was interrupted)", "dir", dir, "files", removed)
		}
	}
}

// sweepMargin is the age after which the daily sweep takes a temporary
// file for a leftover.
const sweepMargin = 6 * time.Hour
