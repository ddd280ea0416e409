-- The lookup read model reloads the versions received since its synchronisation mark after a gap in its
-- change events, and on a timer: without this index each reload would scan every evidence row.
CREATE INDEX IF NOT EXISTS inbound_record_received_at ON inbound_record (received_at);
