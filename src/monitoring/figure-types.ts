/** The shapes of figure definitions and locales (definitions.ts), apart so the definition tables can share them. */

export const LOCALES = ['en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** A text in every locale: a missing translation is a type error, not a blank on the page. */
export type Localised = Readonly<Record<Locale, string>>;

export interface FigureDefinition {
  /** The figure's JSON path in the report: `inbound.figures.lookups.total`; `[]` marks one per array item. */
  id: string;
  label: Localised;
  definition: Localised;
}
