/**
 * The one escape of the monitoring pages: every text that comes from data (operator names, reason codes, MRA
 * terms, a partner's signed figures) goes through it before it reaches HTML or SVG, in text or in a quoted
 * attribute. Data never builds markup, a tag name or an unquoted attribute.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A fragment of markup that is safe to place as it is: built by the page's own code from escaped parts. */
export interface Markup {
  readonly html: string;
}

export function markup(html: string): Markup {
  return { html };
}

/**
 * A template tag that escapes every interpolated value unless it is Markup (or an array of Markup), so that
 * a fragment cannot forget to escape a value.
 */
export function h(strings: TemplateStringsArray, ...values: readonly unknown[]): Markup {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += htmlOf(values[i]) + (strings[i + 1] ?? '');
  }
  return { html: out };
}

function htmlOf(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(htmlOf).join('');
  if (typeof value === 'object' && 'html' in value && typeof value.html === 'string') return value.html;
  return escapeHtml(String(value));
}
