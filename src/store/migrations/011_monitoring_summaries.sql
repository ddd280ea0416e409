-- Monitoring summaries (docs/protocol.md, "Monitoring summaries"): what partners reported about our operators
-- at their border, what we reported about theirs at ours, the receipts of both ways, and where we are in each
-- partner's summary feed.

-- Every receipt this gateway signed for a partner's batch of summaries, exactly as sent. Apart from
-- inbound_receipt, whose rows are the records exchange that the monitoring figures count.
CREATE TABLE monitoring_summary_receipt (
  receipt_id uuid PRIMARY KEY,
  sender text,
  received_at timestamptz NOT NULL,
  summary_count integer NOT NULL,
  accepted_count integer NOT NULL,
  receipt_jws text NOT NULL
);
CREATE INDEX monitoring_summary_receipt_sender_time ON monitoring_summary_receipt (sender, received_at);

-- Evidence: every summary received that passed all checks (accepted or superseded), as the exact compact JWS.
CREATE TABLE monitoring_summary_in (
  summary_id uuid PRIMARY KEY,
  reporter text NOT NULL,
  subject text NOT NULL,
  mra_id text NOT NULL,
  period_from date NOT NULL,
  period_to date NOT NULL,
  revision bigint NOT NULL CHECK (revision >= 1),
  issued_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  jws text NOT NULL,
  -- base64url SHA-256 of the compact JWS: the receipt's digest and the audit entry's.
  digest text NOT NULL,
  payload_sha256 text NOT NULL,
  figures jsonb NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('accepted', 'superseded')),
  receipt_id uuid NOT NULL REFERENCES monitoring_summary_receipt (receipt_id),
  UNIQUE (reporter, subject, mra_id, period_from, period_to, revision)
);

-- Every summary this gateway signed about a partner's operators, every revision; seq is the feed's order.
CREATE TABLE monitoring_summary_out (
  seq bigserial PRIMARY KEY,
  summary_id uuid NOT NULL UNIQUE,
  reporter text NOT NULL,
  subject text NOT NULL,
  mra_id text NOT NULL,
  period_from date NOT NULL,
  period_to date NOT NULL,
  revision bigint NOT NULL CHECK (revision >= 1),
  issued_at timestamptz NOT NULL,
  jws text NOT NULL,
  digest text NOT NULL,
  payload_sha256 text NOT NULL,
  figures jsonb NOT NULL,
  -- Push state: delivered once the partner's verified receipt says accepted, duplicate or superseded.
  delivered_at timestamptz,
  receipt_id uuid,
  receipt_jws text,
  -- A partner's receipt that rejected it: the code; such a summary is not pushed again.
  rejected_code text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_error text,
  UNIQUE (subject, mra_id, period_from, period_to, revision)
);
CREATE INDEX monitoring_summary_out_pending ON monitoring_summary_out (next_attempt_at)
  WHERE delivered_at IS NULL AND rejected_code IS NULL;
CREATE INDEX monitoring_summary_out_subject ON monitoring_summary_out (subject, seq);

-- Where this gateway is in each partner's summary feed (GET /monitoring).
CREATE TABLE monitoring_summary_pull (
  partner text PRIMARY KEY,
  cursor text,
  pulled_at timestamptz,
  last_error text
);
