-- Inbound exchange: evidence of partners' records, current state per operator, identifiers, receipts.

-- Every receipt this gateway signed for a partner's batch, exactly as sent: the record of what was
-- acknowledged, including each rejection with its code.
CREATE TABLE inbound_receipt (
  receipt_id uuid PRIMARY KEY,
  sender text,
  received_at timestamptz NOT NULL,
  record_count integer NOT NULL,
  accepted_count integer NOT NULL,
  receipt_jws text NOT NULL
);
CREATE INDEX inbound_receipt_sender_time ON inbound_receipt (sender, received_at);

-- Evidence: every record that passed all checks (accepted or superseded), as the exact compact JWS received.
CREATE TABLE inbound_record (
  record_id uuid PRIMARY KEY,
  issuer text NOT NULL,
  aeo_id text NOT NULL,
  version bigint NOT NULL,
  jws text NOT NULL,
  jws_digest text NOT NULL,
  payload_sha256 text NOT NULL,
  signer_fingerprint text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('accepted', 'superseded')),
  issued_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  receipt_id uuid NOT NULL REFERENCES inbound_receipt (receipt_id),
  UNIQUE (issuer, aeo_id, version)
);

-- Current state of each foreign operator: the latest accepted version.
CREATE TABLE operator_state (
  issuer text NOT NULL,
  aeo_id text NOT NULL,
  version bigint NOT NULL,
  record_id uuid NOT NULL REFERENCES inbound_record (record_id),
  status text NOT NULL,
  status_since date NOT NULL,
  programme text NOT NULL,
  roles text[] NOT NULL,
  name text NOT NULL,
  enterprise_size text,
  payload jsonb NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, aeo_id)
);

-- Other numbers an operator is known by, for lookups by identifier.
CREATE TABLE operator_identifier (
  scheme text NOT NULL,
  value text NOT NULL,
  issuer text NOT NULL,
  aeo_id text NOT NULL,
  PRIMARY KEY (scheme, value, issuer, aeo_id),
  FOREIGN KEY (issuer, aeo_id) REFERENCES operator_state (issuer, aeo_id) ON DELETE CASCADE
);
CREATE INDEX operator_identifier_operator ON operator_identifier (issuer, aeo_id);

-- Security-relevant events kept with the evidence (a partner re-using a recordId for another payload).
CREATE TABLE security_event (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  partner text,
  record_id uuid,
  detail text NOT NULL
);
