-- The lookup read model's snapshot (src/lookup/snapshot-store.ts): written at an orderly shutdown, read at
-- start by every process and replica on this database, then caught up from inbound_record after its mark.
-- One snapshot is held: its head here, its bytes in parts of a few MiB (a value of hundreds of MiB would not
-- fit in one result). Parts are stored without compression: they hardly compress and reading must be fast.
CREATE TABLE read_model_snapshot (
  generation bigint PRIMARY KEY,
  format integer NOT NULL,
  written_at timestamptz NOT NULL,
  -- Epoch ms: every accepted version received before it is in the snapshot, checked by counting them.
  mark_ms bigint NOT NULL,
  versions bigint NOT NULL,
  operators bigint NOT NULL,
  byte_length bigint NOT NULL,
  parts integer NOT NULL,
  sha256 text NOT NULL
);
CREATE TABLE read_model_snapshot_part (
  generation bigint NOT NULL REFERENCES read_model_snapshot (generation) ON DELETE CASCADE,
  part integer NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (generation, part)
);
ALTER TABLE read_model_snapshot_part ALTER COLUMN bytes SET STORAGE EXTERNAL;
-- The start counts the accepted versions received before the mark and sums their ids: with this index it reads
-- no evidence row (once vacuum has marked the pages all-visible).
CREATE INDEX inbound_record_accepted_received_at ON inbound_record (received_at) INCLUDE (record_id)
  WHERE outcome = 'accepted';
-- Operators whose identifiers retention removed: their identifiers are read again after a snapshot.
CREATE INDEX operator_state_redacted ON operator_state (issuer, aeo_id) WHERE redacted_at IS NOT NULL;
