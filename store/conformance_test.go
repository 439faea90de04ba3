package store_test

import (
	"path/filepath"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/storetest"
)

// TestConformance runs the store's conformance suite on bbolt.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) *store.DB {
		opts.NoSync = true
		db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
