/**
 * The report as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line end):
 * one row per value, `section,figure,key,value,label,definition`. `figure` is the figure's id
 * (definitions.ts), `key` what the value is within it (a map key, a benefit id, a day, a percentile; joined
 * with dots), `label` and `definition` the figure's in the requested locale. A value not known is empty.
 */
import { type FigureDefinition, figureDefinition, type Locale } from './definitions.ts';
import type { MonitoringReport } from './report-types.ts';

export const CSV_HEADER = ['section', 'figure', 'key', 'value', 'label', 'definition'] as const;

interface Row {
  section: string;
  figure: string;
  key: string;
  value: string;
}

/** Members that name an array item in a key: the benefit, the day, the terms' start; else its position. */
const ITEM_NAMES: readonly string[] = ['benefitId', 'date', 'since'];

function itemKey(item: unknown, index: number): string {
  if (typeof item === 'object' && item !== null) {
    const o = item as Record<string, unknown>;
    for (const name of ITEM_NAMES) {
      if (typeof o[name] === 'string') return o[name];
    }
  }
  return String(index);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(scalar).join(' ');
  return String(value);
}

function isScalarList(value: unknown[]): boolean {
  return value.every((v) => v === null || typeof v !== 'object');
}

/** Where a value sits below its figure: an array item's key, or a member's name. */
interface KeyPart {
  item: boolean;
  text: string;
}

/**
 * Walks the report; the deepest path that is a figure id names the rows under it. A value's key is what lies
 * between: the keys of the array items it is in (also above the figure: the benefit of
 * `benefits[].applied`), then the members below the figure.
 */
function walk(node: unknown, path: string[], figure: string, key: KeyPart[], rows: Row[]): void {
  const id = path.join('.');
  const [here, parts] = figureDefinition(id) === undefined ? [figure, key] : [id, key.filter((k) => k.item)];
  if (Array.isArray(node) && !isScalarList(node)) {
    const itemPath = [...path.slice(0, -1), `${path.at(-1) ?? ''}[]`];
    node.forEach((item, i) => {
      walk(item, itemPath, here, [...parts, { item: true, text: itemKey(item, i) }], rows);
    });
    return;
  }
  if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
    const named = parts.at(-1);
    for (const [name, value] of Object.entries(node)) {
      // The member that names an array item is in the key already.
      if (ITEM_NAMES.includes(name) && named?.item === true && value === named.text) continue;
      walk(value, [...path, name], here, [...parts, { item: false, text: name }], rows);
    }
    return;
  }
  const section = path[0]?.replace('[]', '') ?? '';
  rows.push({ section, figure: here, key: parts.map((k) => k.text).join('.'), value: scalar(node) });
}

function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function reportRows(report: MonitoringReport): Row[] {
  const rows: Row[] = [];
  const { schema: _schema, ...rest } = report;
  for (const [name, value] of Object.entries(rest)) walk(value, [name], name, [], rows);
  return rows;
}

export function renderReportCsv(report: MonitoringReport, locale: Locale): string {
  const lines = [CSV_HEADER.join(',')];
  for (const row of reportRows(report)) {
    const def: FigureDefinition | undefined = figureDefinition(row.figure);
    lines.push(
      [row.section, row.figure, row.key, row.value, def?.label[locale] ?? '', def?.definition[locale] ?? '']
        .map(field)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A file name for the report's download: `mra-report-PE-CL-2026-10-01-2026-10-31.csv`. */
export function reportFileName(report: MonitoringReport, extension: string): string {
  return `mra-report-${report.home}-${report.partner}-${report.period.from}-${report.period.to}.${extension}`;
}
