-- Outbound publishing: the home administration's operators, the records it signed, their delivery to
-- partners (the transactional outbox), receipts kept as proof, and what the pull side needs.

-- The national register as the national AEO system declared it: the latest details of each operator and
-- whether it consented to the exchange. `version` is the version of the last record published for it.
CREATE TABLE home_operator (
  aeo_id text PRIMARY KEY,
  consent boolean NOT NULL,
  version bigint NOT NULL DEFAULT 0,
  status text NOT NULL,
  programme text NOT NULL,
  operator jsonb NOT NULL,
  status_since date NOT NULL,
  certified_on date NOT NULL,
  last_validated_on date,
  suspended_until date,
  updated_at timestamptz NOT NULL
);

-- Decisions already applied, by the national system's own id, so a retried call changes nothing.
CREATE TABLE home_decision (
  decision_id uuid PRIMARY KEY,
  aeo_id text NOT NULL,
  decision text NOT NULL,
  record_id uuid,
  applied_at timestamptz NOT NULL
);

-- Every record the home administration signed. `seq` follows commit order (publishing takes one lock), so
-- a feed cursor never skips a record that commits late.
CREATE TABLE home_record (
  seq bigserial PRIMARY KEY,
  record_id uuid NOT NULL UNIQUE,
  aeo_id text NOT NULL,
  version bigint NOT NULL,
  status text NOT NULL,
  programme text NOT NULL,
  roles text[] NOT NULL,
  jws text NOT NULL,
  digest text NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (aeo_id, version)
);

-- One row per record and partner whose MRA covers it: written with the record, in the same transaction.
--   pending    committed, waiting for the relay or for the worker
--   delivered  a verified receipt says accepted, duplicate or superseded
--   retrying   the last attempt failed; another is scheduled
--   dead       given up (attempts exhausted, a 4xx, or the partner rejected the record); can be replayed
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  partner text NOT NULL,
  record_seq bigint NOT NULL REFERENCES home_record (seq),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'retrying', 'dead')),
  job_id text,
  enqueued_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  outcome text,
  receipt_id uuid,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL,
  UNIQUE (partner, record_seq)
);
CREATE INDEX outbox_to_enqueue ON outbox (partner, id) WHERE enqueued_at IS NULL AND state <> 'delivered';
CREATE INDEX outbox_open ON outbox (state, enqueued_at) WHERE state IN ('pending', 'retrying');

-- Receipts partners signed for our batches: the proof of delivery.
CREATE TABLE outbound_receipt (
  receipt_id uuid PRIMARY KEY,
  partner text NOT NULL,
  received_at timestamptz NOT NULL,
  receipt_jws text NOT NULL
);

-- Request tokens (`jti`) already used on feed and snapshot, kept until they expire.
CREATE TABLE request_jti (
  jti text PRIMARY KEY,
  partner text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- The receiving side's position in each partner's feed, and the last reconciliation against its snapshot.
CREATE TABLE partner_feed (
  partner text PRIMARY KEY,
  cursor text,
  pulled_at timestamptz,
  last_error text
);
CREATE TABLE reconciliation (
  id bigserial PRIMARY KEY,
  partner text NOT NULL,
  at timestamptz NOT NULL,
  partner_digest text,
  local_digest text NOT NULL,
  partner_count integer,
  local_count integer NOT NULL,
  in_sync boolean NOT NULL,
  detail text
);
