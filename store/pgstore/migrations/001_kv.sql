-- The store's buckets (store/backend): ordered key-value pairs per bucket,
-- the set of buckets, and each bucket's sequence. Keys compare as bytes
-- (bytea), as in bbolt.
CREATE TABLE kv_buckets (
	name bytea PRIMARY KEY
);

CREATE TABLE kv (
	bucket bytea NOT NULL,
	key    bytea NOT NULL,
	value  bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);

-- Apart from kv_buckets: every transaction reads the bucket set, and a
-- sequence taken must not conflict with those reads.
CREATE TABLE kv_seq (
	bucket bytea PRIMARY KEY,
	value  bigint NOT NULL
);
