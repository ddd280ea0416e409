-- Notifications to border systems: their webhook subscriptions, and the notification outbox, one row per
-- event and subscription, written in the transaction of the inbound commit that caused the event (I1).

-- `secret` signs every notification (Standard Webhooks, `whsec_` + base64); it is shown once, at creation.
-- Empty filter arrays match everything.
CREATE TABLE webhook_subscription (
  id uuid PRIMARY KEY,
  api_client text NOT NULL,
  url text NOT NULL,
  issuers text[] NOT NULL DEFAULT '{}',
  events text[] NOT NULL DEFAULT '{}',
  secret text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX webhook_subscription_client ON webhook_subscription (api_client);

--   pending    committed, waiting for the relay or the worker
--   retrying   the last attempt failed; another is scheduled
--   delivered  the receiver answered 2xx
--   dead       given up after the attempts; visible in the deliveries route
-- `order_key` is the operator (issuer/aeoId) or the partner of an MRA event: rows with one key and one
-- subscription are delivered one at a time, in id order, so a consumer sees an operator's versions in order.
CREATE TABLE notification (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL,
  subscription_id uuid NOT NULL REFERENCES webhook_subscription (id) ON DELETE CASCADE,
  type text NOT NULL,
  issuer text NOT NULL,
  aeo_id text,
  version bigint,
  order_key text NOT NULL,
  payload jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'retrying', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  job_id text,
  enqueued_at timestamptz,
  created_at timestamptz NOT NULL,
  delivered_at timestamptz,
  UNIQUE (event_id, subscription_id)
);
CREATE INDEX notification_open ON notification (subscription_id, order_key, id)
  WHERE state IN ('pending', 'retrying');
CREATE INDEX notification_subscription_state ON notification (subscription_id, state, id);

-- The MRA status last seen in the configuration, per partner: a change found at start is an event.
CREATE TABLE mra_status_seen (
  partner text PRIMARY KEY,
  status text NOT NULL,
  updated_at timestamptz NOT NULL
);
