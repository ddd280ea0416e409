/**
 * The monitoring report of one MRA over one period (docs/monitoring.md), monitoring scope:
 *   GET /api/v1/monitoring/report?partner=CL&from=2026-10-01&to=2026-10-31&format=json|csv|html&lang=en|es
 * JSON by default; CSV and HTML in the language of `lang`, else of Accept-Language, else English.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../errors.ts';
import { LOCALES, localeOf } from '../../../monitoring/definitions.ts';
import { REPORT_CSP, renderReportHtml } from '../../../monitoring/html/report-html.ts';
import type { ReportService } from '../../../monitoring/report.ts';
import { renderReportCsv, reportFileName } from '../../../monitoring/report-csv.ts';
import { problems, text } from '../../openapi/problem-schema.ts';
import { REPORT_FORMATS, reportResponse } from './monitoring-schema.ts';

const reportQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['partner', 'from', 'to'],
  properties: {
    partner: { type: 'string', maxLength: 8 },
    from: { type: 'string', maxLength: 16 },
    to: { type: 'string', maxLength: 16 },
    format: { enum: REPORT_FORMATS },
    lang: { enum: LOCALES },
  },
} as const;

interface ReportQuerystring {
  partner: string;
  from: string;
  to: string;
  format?: (typeof REPORT_FORMATS)[number];
  lang?: string;
}

export function registerMonitoringReportRoute(app: FastifyInstance, reports: ReportService): void {
  app.get<{ Querystring: ReportQuerystring }>(
    '/monitoring/report',
    {
      attachValidation: true,
      schema: {
        summary: 'The monitoring report of one MRA over one period: JSON, CSV or HTML (`format`)',
        querystring: reportQuery,
        response: {
          200: {
            description: 'The report, in the format asked for.',
            content: {
              'application/json': { schema: reportResponse },
              'text/csv': { schema: text('The report as CSV, in the language of `lang`.') },
              'text/html': { schema: text('The report as a page, in the language of `lang`.') },
            },
          },
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError) {
        throw new GatewayError('BAD_REQUEST', `the ${request.validationError.message}`);
      }
      const { partner, from, to } = request.query;
      const report = await reports.report({ partner, from, to });
      const format = request.query.format ?? 'json';
      if (format === 'json') return report;
      const header = request.headers['accept-language'];
      const locale = localeOf(request.query.lang ?? (typeof header === 'string' ? header : undefined));
      void reply.header('content-language', locale).header('vary', 'Accept-Language');
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${reportFileName(report, 'csv')}"`)
          .serializer((text: string) => text)
          .send(renderReportCsv(report, locale));
      }
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', REPORT_CSP)
        .header('x-content-type-options', 'nosniff')
        .serializer((text: string) => text)
        .send(renderReportHtml(report, locale));
    },
  );
}
