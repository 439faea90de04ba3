-- The eligibility registry (store/pgstore/registry.go): each snapshot's
-- records are a table of their own, registry_s<id> (nik_hash bytea
-- PRIMARY KEY, value bytea), created and filled by an import's COPY;
-- NIKs are stored only as the keyed hashes the bbolt registry uses.
-- registry_snapshots describes the finished ones (the store's encoded
-- metadata and statistics, the fingerprint of the NIK key, the texts the
-- records refer to); the one row of registry_current names the snapshot
-- that answers lookups and the one kept for a rollback.
CREATE SEQUENCE registry_snapshot_id;

CREATE TABLE registry_snapshots (
	id     bigint PRIMARY KEY,
	meta   bytea NOT NULL,
	stats  bytea NOT NULL,
	key_fp text NOT NULL,
	texts  bytea[] NOT NULL -- bytes as the file gave them, like bbolt
);

CREATE TABLE registry_current (
	one      boolean PRIMARY KEY DEFAULT true CHECK (one),
	current  bigint REFERENCES registry_snapshots (id),
	previous bigint REFERENCES registry_snapshots (id)
);

INSERT INTO registry_current (one) VALUES (true);
