-- A notification about a version that takes effect later (its statusSince is after its receipt) is held until
-- then: the lookup answer changes at that instant (docs/lookup.md), and so does what a border system hears.
-- NULL: due at once. Per operator and subscription, rows due at once go out in id order, then held rows by
-- due time (src/notifications/relay.ts).
ALTER TABLE notification ADD COLUMN deliver_after timestamptz;
