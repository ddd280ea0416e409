/**
 * `openapi [--out dir]`: writes the OpenAPI 3.1 documents of both listeners, `api.json` and `partner.json`,
 * as the running gateway serves them at /openapi/*.json, without listening and without PostgreSQL or Redis:
 * the apps are composed on the embedded store in memory, under a throwaway development configuration (the
 * documents do not depend on the configuration). Exit codes: 0 written, 1 failed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { type ComposedGateway, composeGateway } from '../compose.ts';
import { loadConfig } from '../config/load.ts';
import { createDevAdministration } from '../crypto/dev-ca.ts';
import { type OpenApiDocument, openApiDocument } from '../http/openapi/document.ts';
import { createLogger } from '../log.ts';
import { openStore } from '../store/open.ts';
import { type DevAdministration, devConfig, writeConfig } from './setup.ts';

export interface OpenApiDocuments {
  api: OpenApiDocument;
  partner: OpenApiDocument;
}

/**
 * A gateway composed only to be looked at: a throwaway development configuration, the embedded store in
 * memory, no listener. `dispose` closes it and removes its files.
 */
export async function composeForDocuments(): Promise<{ gateway: ComposedGateway; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mra-openapi-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    const admins: DevAdministration[] = ['XA', 'XB'].map((adminId, i) => {
      const certDir = join(dir, adminId);
      createDevAdministration(adminId, certDir, { force: true });
      return { adminId, name: adminId, certDir, host: '127.0.0.1', port: 1 + i };
    });
    const [self, partner] = admins as [DevAdministration, DevAdministration];
    const raw = devConfig(self, [partner], { mtls: false });
    // Nothing listens on port 1: the job queues stay down, which the gateway tolerates (docs/threats.md 53).
    writeFileSync(join(dir, 'redis-url'), 'redis://127.0.0.1:1');
    raw.redis = { url: { file: join(dir, 'redis-url') }, commandTimeoutMs: 500 };
    const path = join(dir, 'gateway.yaml');
    writeConfig(path, raw);
    const config = loadConfig(path, { env: {} });
    const store = await openStore({ kind: 'embedded', dataDir: 'memory://' });
    const gateway = await composeGateway(config, { store, ownsStore: true, log: createLogger('silent') });
    return {
      gateway,
      dispose: async () => {
        await gateway.close();
        removeDir();
      },
    };
  } catch (error) {
    removeDir();
    throw error;
  }
}

/** The documents as generated from the routes, by composing both apps once. */
export async function generateOpenApiDocuments(): Promise<OpenApiDocuments> {
  const { gateway, dispose } = await composeForDocuments();
  try {
    return { api: await openApiDocument(gateway.apiApp), partner: await openApiDocument(gateway.app) };
  } finally {
    await dispose();
  }
}

/** A document as committed and written: two-space indentation, a final newline. */
export function documentText(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function registerOpenApiCommand(program: Command): void {
  program
    .command('openapi')
    .description(
      'write the OpenAPI 3.1 documents of both listeners (api.json, partner.json) without starting the gateway; exit 0 written, 1 failed',
    )
    .option('-o, --out <dir>', 'output folder', 'docs/openapi')
    .action(async (opts: { out: string }) => {
      const out = resolve(opts.out);
      const documents = await generateOpenApiDocuments();
      mkdirSync(out, { recursive: true });
      for (const [name, document] of Object.entries(documents)) {
        const file = join(out, `${name}.json`);
        writeFileSync(file, documentText(document));
        console.log(`${name.padEnd(8)} ${Object.keys(document.paths).length} paths  ${file}`);
      }
    });
}
