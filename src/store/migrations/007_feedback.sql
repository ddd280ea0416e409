-- Border systems' feedback: per consignment, a benefit of the MRA applied or refused to a foreign operator,
-- kept for the monitoring reviews of the agreement (docs/lookup.md "Feedback"). One row per
-- (client, consignment, operator, benefit): a border system that repeats a report does not count twice.
CREATE TABLE border_feedback (
  client_id text NOT NULL,
  consignment_ref text NOT NULL,
  issuer text NOT NULL,
  aeo_id text NOT NULL,
  benefit text NOT NULL,
  applied boolean NOT NULL,
  at timestamptz NOT NULL,
  reason text,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, consignment_ref, issuer, aeo_id, benefit)
);
-- The monitoring summary filters by partner and by time.
CREATE INDEX border_feedback_issuer_at ON border_feedback (issuer, at);
