package store_test

import (
	"path/filepath"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/bansosbot/bansosbot/store/storetest"
	bolt "go.etcd.io/bbolt"
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

// TestBackendConformance checks the bbolt backend against the semantics
// the store relies on (the reference for other backends).
func TestBackendConformance(t *testing.T) {
	storetest.RunBackend(t, func(t *testing.T) backend.Backend {
		b, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return store.NewBoltBackend(b)
	})
}
