-- A record's compact JWS is about 3 KB of base64url (2.1 KB of it the x5c chain of the protected header): too
-- long to stay in the row, and incompressible. Stored EXTENDED (the default), PostgreSQL first runs pglz over
-- every one of them, fails to save the quarter it asks for, and only then moves it out of line as it is.
-- EXTERNAL moves it out of line without the attempt; what is stored and read back is the same text.
ALTER TABLE home_record ALTER COLUMN jws SET STORAGE EXTERNAL;
