/**
 * Names for the statements the gateway sends with parameters, so that each connection parses a statement once
 * and PostgreSQL may keep its plan (a named prepared statement of the extended protocol) instead of parsing and
 * planning it at every call. Each text has one name in a process; a connection prepares it the first time it
 * runs it, and forgets it when it closes. The gateway's statements are fixed texts, a few hundred at most; the
 * number of names is bounded all the same, and a text past the bound runs unnamed, as every statement did before.
 *
 * PostgreSQL decides per statement whether a plan for any parameters serves (plan_cache_mode auto): it keeps
 * planning for the parameters given when the generic plan would cost more, so a statement does not lose an index
 * it needed its values to choose. A prepared statement's result columns may not change under it: the gateway's
 * statements name their columns, never `*` of a table, so a migration by another replica that adds a column
 * leaves them valid.
 */

/** Distinct statement texts named at most, per pool. */
export const MAX_NAMED_STATEMENTS = 1_000;

/**
 * The name of one statement's `text` for this pool, or undefined past the bound. Only for one statement: a
 * script of several (migrations) cannot be prepared and runs unnamed.
 */
export type StatementNamer = (text: string) => string | undefined;

export function createStatementNamer(max = MAX_NAMED_STATEMENTS): StatementNamer {
  const names = new Map<string, string>();
  return (text) => {
    const known = names.get(text);
    if (known !== undefined || names.size >= max) return known;
    const name = `mra_${names.size + 1}`;
    names.set(text, name);
    return name;
  };
}
