-- The fleet: several serve instances sharing one PostgreSQL database
-- (README "Fleet"). Created on SQLite too (one schema for both), where a
-- single instance uses none of it.
--
--   instances      one row per instance.name: its heartbeat (the database's
--                  clock, unix ms) and, once another instance saw it miss
--                  three beats, when it fell silent (set once, with its alert)
--   target_owners  which instance watches a target; a name is unique in the
--                  fleet
--   reports        the latest diagnostics report each owner published per
--                  target (what status/diagnose on another instance read)
--   requests       commands and button presses for a target, queued for its
--                  owner (claimed with FOR UPDATE SKIP LOCKED) and answered
--                  through the same row
--   outbox.claimed_by  the instance that claimed an item: when it falls
--                  silent (kill -9), whoever noticed releases its claims at
--                  once instead of after the lease

-- +goose Up
CREATE TABLE instances (
	name         TEXT    PRIMARY KEY,
	host         TEXT    NOT NULL,
	pid          BIGINT  NOT NULL,
	version      TEXT    NOT NULL,
	started_at   BIGINT  NOT NULL,
	heartbeat_at BIGINT  NOT NULL,
	stopped_at   BIGINT,
	silent_since BIGINT,
	silent_ref   TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE target_owners (
	target     TEXT    PRIMARY KEY,
	instance   TEXT    NOT NULL REFERENCES instances (name) ON DELETE CASCADE,
	claimed_at BIGINT  NOT NULL
);
CREATE INDEX target_owners_instance ON target_owners (instance);

CREATE TABLE reports (
	target   TEXT    PRIMARY KEY,
	instance TEXT    NOT NULL,
	at       BIGINT  NOT NULL,
	report   {{.Bytes}} NOT NULL
);

CREATE TABLE requests (
	id         {{.ID}},
	instance   TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('command', 'press')),
	payload    {{.Bytes}} NOT NULL,
	asker      TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL,
	claimed_at BIGINT,
	done_at    BIGINT,
	reply      {{.Bytes}}
);
CREATE INDEX requests_todo ON requests (instance, id) WHERE claimed_at IS NULL;
CREATE INDEX requests_created ON requests (created_at);

ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_by;
DROP TABLE requests;
DROP TABLE reports;
DROP TABLE target_owners;
DROP TABLE instances;
