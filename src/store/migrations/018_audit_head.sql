-- The last entry of the audit chain, read after its lock is taken, in one call: an append takes the lock and
-- reads the head it links to in one round trip instead of two. The lock key is the caller's (src/store/locks.ts).
-- A VOLATILE function's query takes its snapshot when it runs, after the lock: the head of the last append
-- committed before it, never an older one.
CREATE FUNCTION audit_head(lock_key bigint) RETURNS TABLE (seq bigint, hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  RETURN QUERY SELECT a.seq, a.hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
END
$$;
