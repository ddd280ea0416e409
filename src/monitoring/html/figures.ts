/**
 * Figures as table rows, each label linked to its definition at the end of the page (definitions.ts), and
 * that list of definitions. A figure left out or null reads "not known"; a count map reads as its total with
 * one row per key.
 */
import { FIGURES, figureDefinition } from '../definitions.ts';
import { h, type Markup } from './escape.ts';
import type { Formatter } from './format.ts';
import { STRINGS } from './strings.ts';

/** The anchor of a figure's definition: ids are JSON paths, made into a valid fragment. */
export function anchorOf(id: string): string {
  return `def-${id.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

/** The figure's label, linked to its definition; the id itself when the table has none. */
export function labelOf(id: string, f: Formatter): Markup {
  const definition = figureDefinition(id);
  if (definition === undefined) return h`${id}`;
  return h`<a href="#${anchorOf(id)}">${definition.label[f.locale]}</a>`;
}

export function valueCell(text: string, known: boolean): Markup {
  return known ? h`<td class="num">${text}</td>` : h`<td class="num unknown">${text}</td>`;
}

export function countRow(id: string, value: number | null | undefined, f: Formatter): Markup {
  const known = value !== null && value !== undefined;
  return h`<tr><th scope="row">${labelOf(id, f)}</th>${valueCell(f.number(value), known)}</tr>`;
}

export function textRow(id: string, text: string | null | undefined, f: Formatter): Markup {
  const known = text !== null && text !== undefined;
  const cell = known ? h`<td>${text}</td>` : h`<td class="unknown">${f.notKnown}</td>`;
  return h`<tr><th scope="row">${labelOf(id, f)}</th>${cell}</tr>`;
}

/**
 * A count map: its total on the figure's row, then one row per key in the order given (known keys first,
 * then any other key the data has, sorted). `names` gives a key its words in the locale.
 */
export function countsRows(
  id: string,
  counts: object | null | undefined,
  f: Formatter,
  options: { order?: readonly string[]; names?: (key: string) => string } = {},
): Markup[] {
  if (counts === null || counts === undefined) return [countRow(id, undefined, f)];
  // Only numbers count: a map from the report or a signed summary holds nothing else once validated.
  const values = new Map<string, number>();
  for (const [key, value] of Object.entries(counts)) {
    if (typeof value === 'number') values.set(key, value);
  }
  const order = options.order ?? [];
  const keys = [
    ...order.filter((k) => values.has(k)),
    ...[...values.keys()].filter((k) => !order.includes(k)).sort(),
  ];
  const total = keys.reduce((sum, k) => sum + (values.get(k) ?? 0), 0);
  const rows = [countRow(id, total, f)];
  for (const key of keys) {
    rows.push(
      h`<tr class="sub"><th scope="row">${options.names?.(key) ?? h`<code>${key}</code>`}</th>${valueCell(f.number(values.get(key)), true)}</tr>`,
    );
  }
  return rows;
}

export function figureTable(caption: string, rows: readonly Markup[], f: Formatter): Markup {
  return h`<table><caption class="visually-hidden">${caption}</caption><thead><tr><th scope="col">${STRINGS.figure[f.locale]}</th><th scope="col">${STRINGS.value[f.locale]}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Every figure of the report with its definition, in the report's order. */
export function definitionsSection(f: Formatter): Markup {
  const items = FIGURES.map(
    (figure) =>
      h`<dt id="${anchorOf(figure.id)}"><dfn>${figure.label[f.locale]}</dfn> <code>${figure.id}</code></dt><dd>${figure.definition[f.locale]}</dd>`,
  );
  return h`<section class="major" aria-labelledby="definitions"><h2 id="definitions">${STRINGS.definitions[f.locale]}</h2><p>${STRINGS.definitionsIntro[f.locale]}</p><dl class="definitions">${items}</dl></section>`;
}

/** Size classes in the order the report reads them, with their words. */
export const SIZE_ORDER = ['micro', 'small', 'medium', 'large', 'unknown'] as const;

export function sizeName(key: string, f: Formatter): string {
  switch (key) {
    case 'micro':
    case 'small':
    case 'medium':
    case 'large':
    case 'unknown':
      return STRINGS[key][f.locale];
    case 'sme':
      return STRINGS.sme[f.locale];
    default:
      return key;
  }
}

export const STATUS_ORDER = ['certified', 'suspended', 'revoked', 'withdrawn'] as const;

export function statusName(key: string, f: Formatter): string {
  return (STATUS_ORDER as readonly string[]).includes(key)
    ? STRINGS[key as (typeof STATUS_ORDER)[number]][f.locale]
    : key;
}

/** An MRA's status (in-force, suspended, terminated) in words of the locale; another value as it is. */
export function mraStatusName(status: string, f: Formatter): string {
  switch (status) {
    case 'in-force':
      return STRINGS.mraInForce[f.locale];
    case 'suspended':
      return STRINGS.mraSuspended[f.locale];
    case 'terminated':
      return STRINGS.mraTerminated[f.locale];
    default:
      return status;
  }
}
