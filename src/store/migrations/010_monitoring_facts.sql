-- Facts for the monitoring reviews of each MRA (docs/monitoring.md), recorded where they happen.

-- Border lookups per partner (issuer), UTC day and outcome: 'recognised' or the reason it was not. Lookups are
-- counted in memory and added here every few seconds and at a clean stop (src/lookup/lookup-counts.ts): a
-- crash loses at most the counts of the last seconds, never a lookup's answer.
CREATE TABLE lookup_daily (
  issuer text NOT NULL,
  day date NOT NULL,
  outcome text NOT NULL,
  count bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (issuer, day, outcome)
);

-- What each receipt said, counted when it was signed: {accepted, duplicate, superseded, rejected: {CODE: n}}.
-- NULL for receipts signed before this column existed: the report decodes their receipt_jws instead.
ALTER TABLE inbound_receipt ADD COLUMN outcome_counts jsonb;

-- The enterprise size of the operator's version in effect at the consignment (src/lookup/feedback.ts), so that
-- a later change of size does not move past feedback between SMEs and large enterprises. NULL: not known.
ALTER TABLE border_feedback ADD COLUMN enterprise_size text;

-- Every version of the terms of each partner's MRA the gateway has run with, written at start when the
-- configured terms differ from the latest row (src/monitoring/mra-history.ts). `terms` is canonical JSON.
CREATE TABLE mra_terms (
  partner text NOT NULL,
  since timestamptz NOT NULL,
  terms jsonb NOT NULL,
  terms_sha256 text NOT NULL,
  PRIMARY KEY (partner, since)
);

-- The report's latency to the border: the first notification of each received version.
CREATE INDEX notification_version ON notification (issuer, aeo_id, version) WHERE aeo_id IS NOT NULL;
-- The report's figures of records published to a partner in a period.
CREATE INDEX outbox_partner_created ON outbox (partner, created_at);
