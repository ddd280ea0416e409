/**
 * `evidence export` (from the store, as `audit verify` opens it) and `evidence verify` (offline: the document
 * and the trust anchors alone). verify exits 0 when everything verified, 1 when a check failed (each named on
 * stderr), 2 when it cannot run (an unreadable or malformed document, no usable anchors).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { configPathFrom, loadConfig } from '../config/load.ts';
import { parsePemCertificates } from '../crypto/certificate.ts';
import { GatewayError } from '../errors.ts';
import { type EvidenceRequest, exportEvidence } from '../evidence/export.ts';
import { parseEvidence } from '../evidence/format.ts';
import { type Anchors, verifyEvidence } from '../evidence/verify.ts';
import { openStore } from '../store/open.ts';

const ADMIN_ID = /^[A-Z]{2}$/;

export function registerEvidenceCommands(program: Command): void {
  const evidence = program
    .command('evidence')
    .description('the evidence of one record or receipt, exported to a file anyone can verify offline');
  evidence
    .command('export')
    .description(
      'write the evidence of a record or a receipt (signed texts, receipts, audit entries) to a file',
    )
    .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
    .option('--record <recordId>', 'a record this gateway published or received')
    .option('--receipt <receiptId>', 'a receipt this gateway signed or received')
    .option('--partner <adminId>', 'only the receipts of this partner')
    .requiredOption('-o, --out <file>', 'where to write the evidence (JSON)')
    .addHelpText(
      'after',
      '\nExit codes: 0 written, 2 cannot run (usage error, no such record or receipt, configuration, store unavailable or STORE_LOCKED).',
    )
    .action(
      async (opts: { config?: string; record?: string; receipt?: string; partner?: string; out: string }) => {
        process.exitCode = await evidenceExportCommand(opts);
      },
    );
  evidence
    .command('verify')
    .description(
      'verify an evidence file offline with the trust anchors alone; exit 0 verified, 1 not verified, 2 cannot run',
    )
    .argument('<file>', 'the evidence file (mra-evidence/1)')
    .requiredOption(
      '--anchors <pem...>',
      'trust anchors (root CA PEM) of the administrations involved; XX=<pem> binds the file to administration XX',
    )
    .option('--at <time>', 'check the certificates at this instant instead of each signing time (ISO 8601)')
    .action(async (file: string, opts: { anchors: string[]; at?: string }) => {
      process.exitCode = await evidenceVerifyCommand(file, opts);
    });
}

export async function evidenceExportCommand(opts: {
  config?: string;
  record?: string;
  receipt?: string;
  partner?: string;
  out: string;
}): Promise<number> {
  if ((opts.record === undefined) === (opts.receipt === undefined))
    throw new GatewayError('BAD_REQUEST', 'give one of --record <recordId> or --receipt <receiptId>');
  if (opts.partner !== undefined && !ADMIN_ID.test(opts.partner))
    throw new GatewayError('BAD_REQUEST', '--partner must be two capital letters');
  const partner = opts.partner === undefined ? {} : { partner: opts.partner };
  const request: EvidenceRequest =
    opts.record !== undefined
      ? { record: opts.record, ...partner }
      : { receipt: opts.receipt ?? '', ...partner };
  const config = loadConfig(configPathFrom(opts.config));
  const store = await openStore(config.storage);
  try {
    const doc = await exportEvidence(store, config.home.adminId, request);
    const out = resolve(opts.out);
    writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(
      `${out}: ${doc.records.length} record(s), ${doc.receipts.length} receipt(s), ${doc.audit.length} audit entr${doc.audit.length === 1 ? 'y' : 'ies'}`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

export function loadAnchors(specs: readonly string[]): Anchors[] {
  if (specs.length === 0) throw new GatewayError('BAD_REQUEST', 'give at least one --anchors <pem>');
  return specs.map((spec) => {
    const bound = /^([A-Z]{2})=(.+)$/.exec(spec);
    const path = resolve(bound?.[2] ?? spec);
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      throw new GatewayError('BAD_REQUEST', `cannot read anchors ${path}: ${(error as Error).message}`);
    }
    let anchors: ReturnType<typeof parsePemCertificates>;
    try {
      anchors = parsePemCertificates(pem);
    } catch (error) {
      throw new GatewayError('BAD_REQUEST', `anchors ${path}: ${(error as Error).message}`);
    }
    const adminId = bound?.[1] ?? null;
    const label = adminId === null ? basename(path) : `${adminId}'s anchors (${basename(path)})`;
    return {
      adminId,
      label,
      store: { adminId: `${label} ${path}`, anchors, revokedFingerprints: new Set() },
    };
  });
}

export async function evidenceVerifyCommand(
  file: string,
  opts: { anchors: string[]; at?: string },
): Promise<number> {
  const at = opts.at === undefined ? undefined : new Date(opts.at);
  if (at !== undefined && (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(opts.at ?? '')))
    throw new GatewayError('BAD_REQUEST', `--at ${opts.at} is not an ISO 8601 instant`);
  const anchors = loadAnchors(opts.anchors);
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(file));
  } catch (error) {
    throw new GatewayError('BAD_REQUEST', `cannot read ${file}: ${(error as Error).message}`);
  }
  const doc = parseEvidence(bytes);
  const result = await verifyEvidence(doc, anchors, at === undefined ? {} : { at });
  const title = `evidence of ${doc.subject.kind} ${doc.subject.id}, exported by ${doc.exporter} at ${doc.exportedAt}`;
  if (result.failed.length > 0) {
    console.error(`NOT VERIFIED: ${title}`);
    for (const f of result.failed) console.error(`  failed: ${f}`);
    for (const p of result.proven) console.error(`  verified: ${p}`);
    return 1;
  }
  console.log(`VERIFIED: ${title}`);
  for (const p of result.proven) console.log(`  ${p}`);
  return 0;
}
