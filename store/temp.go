package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// temporaryPrefixes name the files that the store writes aside and renames
// or removes when done: a kill -9 in the middle leaves them behind.
var temporaryPrefixes = []string{tmpBackup, tmpRegistryRun, tmpRegistryNew, tmpRegistrySwap, tmpCompact}

// SweepTemporaries removes from dir the temporary files of backups,
// registry imports and compactions (".backup-*", ".registry-run-*",
// ".registry-new-*", ".registry-swap-*", ".compact-*") last modified more
// than olderThan before now, and returns the names it removed. At start,
// with the store's lock held, nothing of this process is in progress and
// olderThan can be 0; a daily sweep passes a margin longer than any
// backup or import. A missing dir is not an error.
func SweepTemporaries(dir string, olderThan time.Duration, now time.Time) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: sweep temporaries: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		if !e.Type().IsRegular() || !isTemporary(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < olderThan {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

func isTemporary(name string) bool {
	for _, p := range temporaryPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
