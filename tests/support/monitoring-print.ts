/**
 * The report printed: laid out at print media on A4's printable width, no chart or table reaches past it, and
 * Chromium's PDF of it on A4 has a page per major section at least (each starts a page) and a bounded number.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import {
  A4_PRINTABLE_WIDTH_PX,
  artifactPath,
  outsidePrintableWidth,
  pdfDeclaredPageCount,
  pdfPageCount,
  printLayout,
} from './browser.ts';

/** More pages than this means a section no longer fits where it should (the report now prints on about 11). */
export const MAX_REPORT_PAGES = 30;

export async function expectPrintsOnA4(page: Page, pdfName: string): Promise<void> {
  const layout = await printLayout(page);
  expect(layout.charts).toBeGreaterThanOrEqual(1);
  expect(layout.boxes.filter((b) => b.what.startsWith('table')).length).toBeGreaterThan(0);
  expect(outsidePrintableWidth(layout)).toEqual([]);
  expect(layout.scrollWidth).toBeLessThanOrEqual(A4_PRINTABLE_WIDTH_PX);

  const sections = await page.locator('section.major').count();
  const pdf = await page.pdf({ format: 'A4', path: artifactPath(pdfName) });
  expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  const pages = pdfPageCount(pdf);
  expect(pages).toBe(pdfDeclaredPageCount(pdf));
  expect(pages).toBeGreaterThan(1);
  expect(pages).toBeGreaterThanOrEqual(sections);
  expect(pages).toBeLessThanOrEqual(MAX_REPORT_PAGES);
}
