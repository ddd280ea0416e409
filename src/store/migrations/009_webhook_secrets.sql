-- Webhook secrets sealed at rest, and rotation with overlap (docs/notifications.md).
-- `secret` holds base64url(iv ‖ AES-256-GCM ciphertext ‖ tag) under the configured key `secret_key_id`; NULL
-- there means the secret as issued, from before keys were configured: the gateway seals such rows at start
-- once a key is configured (src/notifications/secrets.ts), as it cannot here without the key.
-- After a rotation the previous secret still signs, next to the new one, until `previous_secret_until`.
ALTER TABLE webhook_subscription
  ADD COLUMN secret_key_id text,
  ADD COLUMN previous_secret text,
  ADD COLUMN previous_secret_key_id text,
  ADD COLUMN previous_secret_until timestamptz;

-- What a subscriber sees of a failed delivery is its class, never an address, a port or an error text
-- (docs/threats.md 75); errors kept from before are reduced to theirs.
UPDATE notification SET last_error = CASE
    WHEN last_error ~ '^HTTP 3' THEN 'http-3xx'
    WHEN last_error ~ '^HTTP 4' THEN 'http-4xx'
    WHEN last_error ~ '^HTTP 5' THEN 'http-5xx'
    WHEN last_error ~* 'timeout|timed out' THEN 'timeout'
    WHEN last_error ~ 'ECONNREFUSED' THEN 'refused'
    WHEN last_error ~* 'certificate|TLS|SSL' THEN 'tls'
    ELSE 'network'
  END
  WHERE last_error IS NOT NULL;
ALTER TABLE notification ADD CONSTRAINT notification_last_error_class CHECK (
  last_error IS NULL OR last_error IN ('timeout', 'refused', 'tls', 'http-3xx', 'http-4xx', 'http-5xx',
                                       'refused-address', 'network', 'gateway')
);
