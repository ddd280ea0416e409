/**
 * Numbers, dates and times as each locale writes them: `en-GB` (1,234; 30/11/2026) and `es-ES` (1.234;
 * 30/11/2026). Times are shown in UTC, the time zone of the report's periods, with the zone named. A figure
 * that is not known is written as such, never as 0.
 */
import type { Locale } from '../figure-types.ts';
import { STRINGS } from './strings.ts';

const TAGS: Readonly<Record<Locale, string>> = { en: 'en-GB', es: 'es-ES' };

export interface Formatter {
  locale: Locale;
  /** The BCP 47 tag used for Intl and for `<html lang>`. */
  tag: string;
  /** A count or a duration in milliseconds; null or undefined is "not known". */
  number(value: number | null | undefined): string;
  /** YYYY-MM-DD as the locale writes a date. */
  date(value: string): string;
  /** An RFC 3339 timestamp as date and time in UTC; null or undefined is "not known". */
  dateTime(value: string | null | undefined): string;
  /** A text of STRINGS. */
  notKnown: string;
}

const cache = new Map<Locale, Formatter>();

export function formatterFor(locale: Locale): Formatter {
  const cached = cache.get(locale);
  if (cached !== undefined) return cached;
  const tag = TAGS[locale];
  // Spanish style omits the separator in four-digit numbers by default; the report groups every number alike
  // so that columns read the same in both languages.
  const numbers = new Intl.NumberFormat(tag, { useGrouping: 'always', maximumFractionDigits: 0 });
  const dates = new Intl.DateTimeFormat(tag, {
    timeZone: 'UTC',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  });
  const times = new Intl.DateTimeFormat(tag, {
    timeZone: 'UTC',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  const notKnown = STRINGS.notKnown[locale];
  const formatter: Formatter = {
    locale,
    tag,
    notKnown,
    number: (value) =>
      value === null || value === undefined || !Number.isFinite(value) ? notKnown : numbers.format(value),
    date: (value) => {
      const time = Date.parse(`${value}T00:00:00Z`);
      return Number.isNaN(time) ? value : dates.format(time);
    },
    dateTime: (value) => {
      if (value === null || value === undefined) return notKnown;
      const time = Date.parse(value);
      if (Number.isNaN(time)) return value;
      return `${dates.format(time)} ${times.format(time)} UTC`;
    },
  };
  cache.set(locale, formatter);
  return formatter;
}
