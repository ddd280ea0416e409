/**
 * What every figure of the monitoring report means, in the two languages the report is read in. Two
 * administrations review an MRA together from each other's reports: a number is only comparable when both read
 * the same definition (what is counted, over which days, for which size class, what "unknown" means). The ids
 * are the figures' JSON paths in the report (report-types.ts); the HTML page, the CSV and the docs take their
 * labels and definitions from here.
 */
import { DAILY_FIGURES, MRA_FIGURES } from './definitions-common.ts';
import { INBOUND_FIGURES } from './definitions-inbound.ts';
import { OUTBOUND_FIGURES } from './definitions-outbound.ts';
import { summaryFigureDefinitions } from './definitions-summary.ts';

import { DEFAULT_LOCALE, type FigureDefinition, LOCALES, type Locale } from './figure-types.ts';

export {
  DEFAULT_LOCALE,
  type FigureDefinition,
  LOCALES,
  type Locale,
  type Localised,
} from './figure-types.ts';

function isLocale(value: string): value is Locale {
  return (LOCALES as readonly string[]).includes(value);
}

/**
 * The locale for a `lang` query value or an Accept-Language header (`es-ES,es;q=0.9,en;q=0.8`): the supported
 * language with the highest weight, the first listed on a tie; English when nothing fits. A region is ignored
 * (`es-CL` reads Spanish); `q=0` refuses a language.
 */
export function localeOf(value: string | undefined): Locale {
  if (value === undefined) return DEFAULT_LOCALE;
  let best: { locale: Locale; q: number } | undefined;
  // A header is at most a few dozen ranges; the cap keeps a hostile one from costing more.
  for (const range of value.split(',').slice(0, 32)) {
    const [tag = '', ...params] = range.split(';');
    const language = tag.trim().toLowerCase().split('-')[0] ?? '';
    if (!isLocale(language)) continue;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(param);
      if (match?.[1] !== undefined) q = Number(match[1]);
    }
    if (q > 0 && (best === undefined || q > best.q)) best = { locale: language, q };
  }
  return best?.locale ?? DEFAULT_LOCALE;
}

/** Every figure of the report, in the report's order. */
export const FIGURES: readonly FigureDefinition[] = [
  ...MRA_FIGURES,
  ...OUTBOUND_FIGURES,
  ...summaryFigureDefinitions('outbound.partnerSummary.figures', 'partner'),
  ...INBOUND_FIGURES,
  ...summaryFigureDefinitions('inbound.figures', 'home'),
  ...DAILY_FIGURES,
];

const BY_ID: ReadonlyMap<string, FigureDefinition> = new Map(FIGURES.map((figure) => [figure.id, figure]));

/** The definition of a figure by its id; undefined for an id the report does not have. */
export function figureDefinition(id: string): FigureDefinition | undefined {
  return BY_ID.get(id);
}
