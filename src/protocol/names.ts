/**
 * The identifiers of docs/protocol.md as patterns, for every place outside schemas/ that checks one (route
 * parameters, queue payloads). schemas/aeo-status-1.schema.json states the same patterns for records.
 */

/** An administration: its ISO 3166-1 alpha-2 country code. */
export const ADMIN_ID_PATTERN = '^[A-Z]{2}$';
/** An operator's AEO identifier within its issuing administration. */
export const AEO_ID_PATTERN = '^[A-Z0-9][A-Z0-9./-]{2,34}$';
/** The scheme of an operator identifier (EORI, VAT, ...). */
export const IDENTIFIER_SCHEME_PATTERN = '^[A-Z][A-Z0-9_-]{1,15}$';
/** The value of an operator identifier. */
export const IDENTIFIER_VALUE_PATTERN = '^[A-Z0-9][A-Z0-9./-]{0,63}$';
