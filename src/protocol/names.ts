/**
 * The identifiers of docs/protocol.md as patterns, for every place outside schemas/ that checks one (route
 * parameters, queue payloads), built from their limits, which the read model sizes its columns by.
 * schemas/aeo-status-1.schema.json states the same patterns and limits for records.
 */

/** An administration: its ISO 3166-1 alpha-2 country code. */
export const ADMIN_ID_PATTERN = '^[A-Z]{2}$';

/** The most characters of an AEO identifier. */
export const MAX_AEO_ID = 35;
/** The most characters of an identifier's scheme. */
export const MAX_IDENTIFIER_SCHEME = 16;
/** The most characters of an identifier's value. */
export const MAX_IDENTIFIER_VALUE = 64;
/** The most identifiers an operator has in a record. */
export const MAX_IDENTIFIERS = 20;

/** An operator's AEO identifier within its issuing administration. */
export const AEO_ID_PATTERN = `^[A-Z0-9][A-Z0-9./-]{2,${MAX_AEO_ID - 1}}$`;
/** The scheme of an operator identifier (EORI, VAT, ...). */
export const IDENTIFIER_SCHEME_PATTERN = `^[A-Z][A-Z0-9_-]{1,${MAX_IDENTIFIER_SCHEME - 1}}$`;
/** The value of an operator identifier. */
export const IDENTIFIER_VALUE_PATTERN = `^[A-Z0-9][A-Z0-9./-]{0,${MAX_IDENTIFIER_VALUE - 1}}$`;
