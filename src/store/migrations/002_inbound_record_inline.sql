-- A record's compact JWS is base64url text of about 2 KB with one certificate in x5c: it does not compress, yet
-- with the other columns the row passes PostgreSQL's 2 KB toasting threshold, so every insert would try to
-- compress it in vain and then move it to the TOAST table (one more heap and index insert per record, the
-- largest single cost of storing a batch). Rows up to a page stay inline; longer tokens are still toasted.
ALTER TABLE inbound_record SET (toast_tuple_target = 8160);
