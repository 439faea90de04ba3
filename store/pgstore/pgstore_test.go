package pgstore_test

import (
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
	"github.com/bansosbot/bansosbot/store/storetest"
)

// TestConformance runs the store's conformance suite on PostgreSQL.
func TestConformance(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) *store.DB { return pgtest.OpenStore(t, opts) })
}

// TestBackendConformance checks the PostgreSQL backend against the
// semantics the store relies on; its cursors fetch pages of 16 to 1024
// rows, and the walks cross several page boundaries both ways.
func TestBackendConformance(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunBackend(t, func(t *testing.T) backend.Backend { return pgtest.Open(t) })
}
