-- The queues in tables of their own (store/backend.Queue): the inbox of
-- accepted updates, the processed marks that deduplicate them, and the
-- outbox. They were ranges of kv (the buckets inbox, done and outbox):
-- their rows move here, so an upgrade keeps every queued update, mark and
-- message. Keys are the buckets' 8-byte big-endian numbers as bigint;
-- values are the store's encoded records, as in kv.
CREATE TABLE inbox (
	update_id bigint PRIMARY KEY,
	value     bytea NOT NULL
);

CREATE TABLE inbox_done (
	update_id bigint PRIMARY KEY,
	value     bytea NOT NULL -- when it was processed: unix seconds, 8 bytes
);

-- Outbox ids come from a sequence, which concurrent transactions take
-- without waiting for one another (the outbox's row of kv_seq made every
-- two transactions that queued a reply conflict). The sender therefore
-- follows the outbox by taking rows (taken_by: the sender that took
-- them), not by id.
CREATE SEQUENCE outbox_id_seq;
CREATE TABLE outbox (
	id       bigint PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
	value    bytea NOT NULL,
	taken_by bigint
);
ALTER SEQUENCE outbox_id_seq OWNED BY outbox.id;

INSERT INTO inbox (update_id, value)
	SELECT ('x' || encode(key, 'hex'))::bit(64)::bigint, value FROM kv WHERE bucket = 'inbox'::bytea;
INSERT INTO inbox_done (update_id, value)
	SELECT ('x' || encode(key, 'hex'))::bit(64)::bigint, value FROM kv WHERE bucket = 'done'::bytea;
INSERT INTO outbox (id, value)
	SELECT ('x' || encode(key, 'hex'))::bit(64)::bigint, value FROM kv WHERE bucket = 'outbox'::bytea;

-- The outbox numbers on from the last id handed out (the next is 1 when
-- there was none).
SELECT setval('outbox_id_seq', greatest(n, 1), n > 0)
	FROM (SELECT greatest(coalesce((SELECT value FROM kv_seq WHERE bucket = 'outbox'::bytea), 0),
		coalesce((SELECT max(id) FROM outbox), 0)) AS n) last;

DELETE FROM kv WHERE bucket IN ('inbox'::bytea, 'done'::bytea, 'outbox'::bytea);
DELETE FROM kv_seq WHERE bucket = 'outbox'::bytea;
