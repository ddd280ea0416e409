/**
 * SQL that reads a stored record's payload in the database, so that only the few fields a query needs cross
 * the wire: the payload segment of its compact JWS (base64url → JSON), or, for a record whose JWS retention
 * removed, the payload it kept without the operator's personal data (src/retention/retention.ts).
 */

/** The payload of the inbound_record row aliased `alias`, as jsonb. */
export function payloadSql(alias: string): string {
  const segment = `split_part(${alias}.jws, '.', 2)`;
  return `coalesce(convert_from(decode(rpad(translate(${segment}, '-_', '+/'),
  ((length(${segment}) + 3) / 4) * 4, '='), 'base64'), 'UTF8')::jsonb, ${alias}.kept_payload)`;
}

/** effectiveFrom of the as-of rule (src/mra/recognition.ts) as a timestamptz: `since` a date, `received` a timestamptz. */
export function effectiveFromSql(since: string, received: string): string {
  return `greatest((${since})::timestamp AT TIME ZONE 'UTC', ${received})`;
}
