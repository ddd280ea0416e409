/**
 * Bar charts as inline SVG, drawn on the server: the page needs no script and no request to show them, and
 * prints as drawn. Each chart is a `<figure>` whose SVG has an accessible name and description, followed by
 * the same figures as a table (its text alternative). Values that are not known draw no bar and read "not
 * known" in the table, never 0.
 */
import { h, type Markup } from './escape.ts';
import type { Formatter } from './format.ts';
import { STRINGS } from './strings.ts';

export interface Series {
  name: string;
  values: readonly (number | null)[];
}

export interface ChartInput {
  /** Unique on the page: the ids of the title and description derive from it. */
  id: string;
  title: string;
  /** The category each value of a series belongs to (a day, a benefit and size, a measure). */
  categories: readonly string[];
  /** The header of the categories' column in the table. */
  categoryHeading: string;
  series: readonly Series[];
}

/** Colour-blind-safe, and dark enough on white for the 3:1 contrast of graphical objects. */
const COLOURS = ['#1f5fa8', '#c2570a', '#2e7d32', '#7b3294'];
const WIDTH = 640;
const FONT = 11;

/** A round upper bound for the value axis, with gridlines at quarters of it. */
function axisMax(values: readonly (number | null)[]): number {
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  if (max === 0) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const top = step * magnitude;
    if (top >= max && Number.isInteger(top / 4)) return top;
  }
  return Math.ceil(max / 4) * 4;
}

/** The legend, wrapped onto as many lines as the names need; returns where the plot may start. */
function legend(series: readonly Series[]): { items: Markup[]; bottom: number } {
  const items: Markup[] = [];
  let x = 60;
  let y = 14;
  series.forEach((s, i) => {
    // An estimate of the text's width at the chart's font size: enough to keep names apart.
    const width = 24 + s.name.length * FONT * 0.6;
    if (x > 60 && x + width > WIDTH) {
      x = 60;
      y += 16;
    }
    items.push(
      h`<g><rect x="${x}" y="${y - 9}" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/><text x="${x + 14}" y="${y}" font-size="${FONT}">${s.name}</text></g>`,
    );
    x += width;
  });
  return { items, bottom: y + 14 };
}

/** The chart's description: per series, its highest value and its total, in words of the locale. */
function describe(input: ChartInput, f: Formatter): string {
  const l = f.locale;
  const parts = input.series.map((s) => {
    const known = s.values.filter((v): v is number => v !== null);
    if (known.length === 0) return `${s.name}: ${f.notKnown}`;
    const total = known.reduce((a, b) => a + b, 0);
    return `${s.name}: ${STRINGS.maximum[l]} ${f.number(Math.max(...known))}, ${STRINGS.total[l].toLowerCase()} ${f.number(total)}`;
  });
  return `${parts.join('; ')}.`;
}

function dataTable(input: ChartInput, f: Formatter): Markup {
  const rows = input.categories.map(
    (category, row) =>
      h`<tr><th scope="row">${category}</th>${input.series.map((s) => h`<td class="num">${f.number(s.values[row])}</td>`)}</tr>`,
  );
  return h`<details class="chart-data"><summary>${STRINGS.chartTable[f.locale]}</summary><table><thead><tr><th scope="col">${input.categoryHeading}</th>${input.series.map((s) => h`<th scope="col">${s.name}</th>`)}</tr></thead><tbody>${rows}</tbody></table></details>`;
}

function frame(input: ChartInput, f: Formatter, height: number, body: Markup[]): Markup {
  const titleId = `${input.id}-title`;
  const descId = `${input.id}-desc`;
  const empty = input.series.every((s) => s.values.every((v) => v === null || v === 0));
  return h`<figure class="chart" id="${input.id}"><figcaption>${input.title}</figcaption>${
    empty
      ? h`<p class="no-data">${STRINGS.chartNoData[f.locale]}</p>`
      : h`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="${titleId} ${descId}" font-family="sans-serif"><title id="${titleId}">${input.title}</title><desc id="${descId}">${describe(input, f)}</desc>${body}</svg>`
  }${dataTable(input, f)}</figure>`;
}

/** Vertical bars, one group per category (a day): for series over time. */
export function columnChart(input: ChartInput, f: Formatter): Markup {
  const { items, bottom: top } = legend(input.series);
  const height = top + 212;
  const left = 56;
  const right = 12;
  const bottom = 40;
  const plotW = WIDTH - left - right;
  const plotH = height - top - bottom;
  const max = axisMax(input.series.flatMap((s) => s.values));
  const n = Math.max(1, input.categories.length);
  const groupW = plotW / n;
  const barW = Math.max(0.5, (groupW * 0.8) / input.series.length);
  const body: Markup[] = [...items];
  for (let q = 0; q <= 4; q++) {
    const y = top + plotH - (plotH * q) / 4;
    body.push(
      h`<line x1="${left}" x2="${WIDTH - right}" y1="${y}" y2="${y}" stroke="#ccc" stroke-width="0.5"/><text x="${left - 4}" y="${y + 4}" font-size="${FONT}" text-anchor="end">${f.number((max * q) / 4)}</text>`,
    );
  }
  input.series.forEach((s, si) => {
    s.values.forEach((value, ci) => {
      if (value === null || value <= 0) return;
      const barH = (plotH * value) / max;
      const x = left + ci * groupW + groupW * 0.1 + si * barW;
      body.push(
        h`<rect class="bar" x="${x.toFixed(2)}" y="${(top + plotH - barH).toFixed(2)}" width="${barW.toFixed(2)}" height="${barH.toFixed(2)}" fill="${COLOURS[si % COLOURS.length]}"><title>${input.categories[ci] ?? ''} · ${s.name}: ${f.number(value)}</title></rect>`,
      );
    });
  });
  // At most six labels on the axis, evenly spaced, so that dates never overlap.
  const every = Math.max(1, Math.ceil(n / 6));
  input.categories.forEach((category, ci) => {
    if (ci % every !== 0) return;
    const x = left + ci * groupW + groupW / 2;
    body.push(
      h`<text x="${x.toFixed(2)}" y="${height - bottom + 16}" font-size="${FONT}" text-anchor="middle">${category}</text>`,
    );
  });
  body.push(
    h`<line x1="${left}" x2="${WIDTH - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#555"/>`,
  );
  return frame(input, f, height, body);
}

/** Horizontal bars, one group per category (a benefit and size, a measure): for long category names. */
export function barChart(input: ChartInput, f: Formatter): Markup {
  const left = 250;
  const right = 50;
  const { items, bottom: top } = legend(input.series);
  const barH = 12;
  const groupH = barH * input.series.length + 10;
  const height = top + groupH * Math.max(1, input.categories.length) + 10;
  const plotW = WIDTH - left - right;
  const max = axisMax(input.series.flatMap((s) => s.values));
  const body: Markup[] = [...items];
  input.categories.forEach((category, ci) => {
    const y0 = top + ci * groupH;
    body.push(
      h`<text x="${left - 6}" y="${y0 + groupH / 2 + 2}" font-size="${FONT}" text-anchor="end">${truncate(category, 42)}</text>`,
    );
    input.series.forEach((s, si) => {
      const value = s.values[ci] ?? null;
      const y = y0 + si * barH + 4;
      if (value === null) {
        body.push(
          h`<text x="${left + 4}" y="${y + barH - 3}" font-size="${FONT - 1}" fill="#555">${f.notKnown}</text>`,
        );
        return;
      }
      const w = (plotW * value) / max;
      body.push(
        h`<rect class="bar" x="${left}" y="${y}" width="${w.toFixed(2)}" height="${barH - 2}" fill="${COLOURS[si % COLOURS.length]}"><title>${category} · ${s.name}: ${f.number(value)}</title></rect><text x="${(left + w + 4).toFixed(2)}" y="${y + barH - 3}" font-size="${FONT - 1}">${f.number(value)}</text>`,
      );
    });
  });
  body.push(h`<line x1="${left}" x2="${left}" y1="${top - 4}" y2="${height - 6}" stroke="#555"/>`);
  return frame(input, f, height, body);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
