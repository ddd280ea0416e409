import { GatewayError } from '../errors.ts';

/**
 * An RFC 3339 date-time from a request, already matched by its schema pattern. The pattern admits
 * "2026-02-30T…", which Date rolls over: refused, naming the member.
 */
export function instantOf(text: string, member: string): Date {
  const at = new Date(text);
  const day = text.slice(0, 10);
  const valid =
    !Number.isNaN(at.getTime()) &&
    new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day &&
    Number(text.slice(11, 13)) < 24 &&
    Number(text.slice(14, 16)) < 60 &&
    Number(text.slice(17, 19)) < 60;
  if (!valid)
    throw new GatewayError('BAD_REQUEST', `${member} ${text.slice(0, 40)} is not a valid date-time`);
  return at;
}
