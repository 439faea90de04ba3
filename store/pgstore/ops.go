package pgstore

import (
	"context"
	"fmt"
	"time"
)

// Replication is what the database tells of its replication, where it is
// visible to the connecting role.
type Replication struct {
	// Standby: the server is a read-only standby (pg_is_in_recovery()).
	Standby bool
	// Standbys is the number of standbys streaming from this primary
	// (pg_stat_replication; 0 also when the role may not see them).
	Standbys int
	// Lag: on a primary, the largest replay lag of its standbys; on a
	// standby, how far its replay is behind the primary's last commit.
	// Known reports whether there was a lag to read (none without
	// standbys, or while a standby has replayed everything).
	Lag   time.Duration
	Known bool
}

// Replication reads the replication state (for doctor, /readyz and the
// metrics). A managed service's replicas may be invisible here: then
// Standbys is 0 and Known false, and its own console tells the lag.
func (s *Store) Replication(ctx context.Context) (Replication, error) {
	var r Replication
	if err := s.pool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&r.Standby); err != nil {
		return r, fmt.Errorf("pgstore: replication: %w", err)
	}
	var secs *float64
	var err error
	if r.Standby {
		err = s.pool.QueryRow(ctx, "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8").Scan(&secs)
	} else {
		err = s.pool.QueryRow(ctx, "SELECT count(*), extract(epoch FROM max(replay_lag))::float8 FROM pg_stat_replication").Scan(&r.Standbys, &secs)
	}
	if err != nil {
		return r, fmt.Errorf("pgstore: replication: %w", err)
	}
	if secs != nil {
		r.Lag, r.Known = time.Duration(*secs*float64(time.Second)), true
	}
	return r, nil
}

// Version is the newest migration applied to the database (0: none).
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM pgstore_migrations").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("pgstore: version: %w", err)
	}
	return v, nil
}

// Ping checks that the database answers within ctx.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	return nil
}

// RecommendedPredicateLocks is the max_pred_locks_per_transaction the
// store wants. Its SERIALIZABLE transactions scan ranges of the kv table
// and take SIREAD locks on the pages they read; with PostgreSQL's default
// (64) a busy server runs out of the shared predicate lock table ("out of
// shared memory", SQLSTATE 53200, failing transactions) or promotes locks
// to whole relations, and then unrelated chats' transactions fail to
// serialize again and again (both seen in this project's CI, with several
// stores busy at once). The table costs some hundred bytes per slot.
const RecommendedPredicateLocks = 1024

// PredicateLocks is the server's max_pred_locks_per_transaction.
func (s *Store) PredicateLocks(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, "SELECT current_setting('max_pred_locks_per_transaction')::int").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: max_pred_locks_per_transaction: %w", err)
	}
	return n, nil
}
