-- Which partners have rows to deliver is asked on every relay pass and after every committed publish. Read from
-- outbox_open it meant every open row (a bulk import leaves hundreds of thousands, so the import's cost grew with
-- its square); with the partner first, it is one index probe per configured partner.
CREATE INDEX outbox_open_partner ON outbox (partner) WHERE state IN ('pending', 'retrying');
