/**
 * The error of a configuration that cannot be used: CONFIG_INVALID, its message "configuration: " and then
 * the field at fault, as in "configuration: /partners/0/endpoint: ...".
 */
import { GatewayError } from '../errors.ts';

/** CONFIG_INVALID with "configuration: " before `message`. */
export function invalid(message: string): GatewayError {
  return new GatewayError('CONFIG_INVALID', `configuration: ${message}`);
}
