-- The tamper-evident audit trail (src/audit/chain.ts) and the retention of withdrawn operators' personal data
-- (src/retention/retention.ts).

-- One hash chain per gateway: each entry's hash covers its fields and the previous entry's hash
-- (src/audit/encoding.ts defines the encoding). `seq` is assigned under an advisory lock held until commit,
-- so it follows commit order and has no gaps; rows are only ever inserted.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  actor text NOT NULL,
  subject text NOT NULL,
  digest text NOT NULL,
  detail jsonb,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
-- Verification finds the entry that covers an evidence row by kind and subject.
CREATE INDEX audit_log_subject ON audit_log (kind, subject);

-- Retention removes the personal data of operators withdrawn for longer than the configured period: the
-- JWS texts, names, addresses and identifiers go; digests, versions, statuses, dates and counts stay, so
-- reports still count and the chain still verifies. `redacted_at` says when.
-- `kept_payload`: the record's payload without the operator's name, address and identifiers, written when its
-- JWS is removed, so that what older versions said (status, dates, programme, roles) can still be read.
ALTER TABLE inbound_record ALTER COLUMN jws DROP NOT NULL, ADD COLUMN redacted_at timestamptz,
  ADD COLUMN kept_payload jsonb;
ALTER TABLE home_record ALTER COLUMN jws DROP NOT NULL, ADD COLUMN redacted_at timestamptz;
-- The operator documents (operator_state.payload, home_operator.operator) keep what is not personal (roles,
-- enterprise size, statuses, dates): the monitoring figures count by them.
ALTER TABLE operator_state ALTER COLUMN name DROP NOT NULL, ADD COLUMN redacted_at timestamptz;
ALTER TABLE home_operator ADD COLUMN redacted_at timestamptz;

-- Evidence stored before the chain existed: its keys, taken here in the migration's transaction, are anchored
-- by one 'baseline' entry per table when the gateway first starts (src/audit/baseline.ts). Verification
-- then accepts exactly these rows without an entry of their own, and only as the baseline digest says.
CREATE TABLE audit_baseline (
  tbl text NOT NULL,
  key text NOT NULL,
  PRIMARY KEY (tbl, key)
);
INSERT INTO audit_baseline (tbl, key) SELECT 'inbound_receipt', receipt_id::text FROM inbound_receipt;
INSERT INTO audit_baseline (tbl, key) SELECT 'outbound_receipt', receipt_id::text FROM outbound_receipt;
INSERT INTO audit_baseline (tbl, key) SELECT 'home_record', seq::text FROM home_record;
INSERT INTO audit_baseline (tbl, key) SELECT 'reconciliation', id::text FROM reconciliation;
