/**
 * A complete monitoring report with every figure present, for the HTML page's unit tests. Counts are chosen
 * so that each one is distinct and findable on the page.
 */
import type { MonitoringReport } from '../../src/monitoring/report-types.ts';

export function sampleReport(overrides: Partial<MonitoringReport> = {}): MonitoringReport {
  const daily = Array.from({ length: 30 }, (_, i) => ({
    date: `2026-04-${String(i + 1).padStart(2, '0')}`,
    recordsReceived: i % 3,
    recordsPublished: (i * 7) % 5,
    lookups: 1000 + i * 11,
    lookupsRecognised: 900 + i * 10,
    benefitsApplied: i % 4,
    benefitsRefused: i % 2,
  }));
  return {
    schema: 'mra-report/1',
    generatedAt: '2026-05-02T08:15:30.000Z',
    home: 'PE',
    partner: 'CL',
    mraId: 'PE-CL-2026',
    period: { from: '2026-04-01', to: '2026-04-30' },
    mraTerms: [
      {
        since: '2026-01-10T09:00:00.000Z',
        until: null,
        termsSha256: 'a'.repeat(64),
        terms: {
          mraId: 'PE-CL-2026',
          status: 'in-force',
          inForceFrom: '2026-01-01',
          inForceUntil: null,
          programmes: ['AEO-S', 'AEO-F'],
          roles: ['exporter', 'importer'],
          benefits: [
            { id: 'fewer-checks', description: 'Fewer physical and documentary checks', roles: null },
            { id: 'priority', description: 'Priority <treatment> & "queues"', roles: ['importer'] },
          ],
        },
      },
    ],
    outbound: {
      register: {
        operators: 12345,
        consenting: 12001,
        byStatus: { certified: 12000, suspended: 300, revoked: 45 },
        byProgramme: { 'AEO-S': 7000, 'AEO-F': 5345 },
        byRole: { exporter: 9000, importer: 8000 },
        bySize: { micro: 100, small: 2000, medium: 4000, large: 6000, unknown: 245 },
        publishedToPartner: 11876,
      },
      records: { published: 4321, byStatus: { certified: 4000, suspended: 321 } },
      deliveries: {
        delivered: 4300,
        retried: 17,
        dead: 3,
        backlog: 18,
        outcomes: { accepted: 4290, duplicate: 6, superseded: 2, rejected: { SIGNATURE_INVALID: 2 } },
      },
      latency: { toReceiptMs: { count: 4300, p50: 840, p95: 2100, p99: 5300 } },
      partnerSummary: null,
    },
    inbound: {
      figures: {
        records: { accepted: 2222, duplicate: 11, superseded: 4, rejected: { CERT_UNTRUSTED: 1 } },
        operators: {
          recognised: 1987,
          byProgramme: { 'AEO-S': 1500, 'AEO-F': 487 },
          byRole: { exporter: 1200, importer: 1100 },
          bySize: { micro: 10, small: 200, medium: 700, large: 1000, unknown: 77 },
        },
        lookups: { total: 31965, recognised: 28935, notRecognised: { suspended: 3000, unknown: 30 } },
        benefits: [
          {
            benefitId: 'fewer-checks',
            applied: { sme: 410, large: 620, unknown: 5 },
            refused: { sme: 12, large: 9, unknown: 1 },
            refusalReasons: { 'risk-alert': 22 },
          },
          { benefitId: 'priority', applied: { sme: 33, large: 44 } },
        ],
        latency: { toReceiptMs: { p50: 900, p95: 2500, p99: 6100 } },
      },
      operators: { held: 2101, byStatus: { certified: 1990, suspended: 111 } },
      statusChanges: { certified: 40, suspended: 7 },
      freshness: {
        lastReceiptAt: '2026-05-02T07:59:01.000Z',
        lastPulledAt: null,
        lastReconciliation: { at: '2026-05-01T23:00:00.000Z', inSync: true },
      },
      summaryIssued: null,
    },
    daily,
    ...overrides,
  };
}
