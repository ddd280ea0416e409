import { GatewayError } from '../errors.ts';
import { isProtocolDateTime } from '../validation.ts';

/**
 * The instant of an RFC 3339 timestamp from a request. Route schemas check `format: date-time` with the same
 * rule already; this guards a handler reached without one, naming the member.
 */
export function instantOf(text: string, member: string): Date {
  if (!isProtocolDateTime(text)) {
    throw new GatewayError(
      'BAD_REQUEST',
      `${member} ${text.slice(0, 40)} is not a valid date-time in the years 1900 to 9999`,
    );
  }
  return new Date(text);
}
