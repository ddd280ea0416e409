/**
 * `tokens new` and `tokens hash`: bearer tokens of the API listener. The gateway keeps only a token's SHA-256
 * (`apiClients[].tokenSha256`), so a token is shown once, here, and never stored by the gateway.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { API_TOKEN } from '../config/api-token.ts';
import type { ApiScope } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { EXIT_OK, EXIT_PROBLEM, listOf } from './ops/common.ts';

export const API_SCOPES: readonly ApiScope[] = ['publish', 'border', 'admin', 'monitoring'];
const CLIENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const tokenSha256 = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/** 32 random bytes, base64url: 43 characters, 256 bits. */
export const newToken = (): string => randomBytes(32).toString('base64url');

export function apiClientEntry(id: string, token: string, scopes: readonly ApiScope[]): string {
  return stringify([{ id, tokenSha256: tokenSha256(token), scopes: [...scopes] }]);
}

export function registerTokens(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('bearer tokens of the API listener: the gateway keeps only their SHA-256');

  tokens
    .command('new')
    .description('print a new random token and the apiClients entry that admits it')
    .requiredOption('--id <clientId>', 'API client id, e.g. border-system (lowercase, digits, . _ -)')
    .requiredOption('--scopes <list>', `comma-separated scopes: ${API_SCOPES.join(', ')}`)
    .addHelpText(
      'after',
      '\nThe token is printed once: give it to the client, add the YAML entry under apiClients, restart.\nExit codes: 0 ok, 2 usage error (unknown scope, malformed id).',
    )
    .action((opts: { id: string; scopes: string }) => {
      if (!CLIENT_ID.test(opts.id)) {
        throw new GatewayError(
          'BAD_REQUEST',
          '--id must be 1 to 64 of a-z 0-9 . _ - starting with a letter or digit',
        );
      }
      const scopes = listOf(opts.scopes);
      const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
      if (scopes.length === 0 || unknown.length > 0) {
        throw new GatewayError(
          'BAD_REQUEST',
          `--scopes: ${unknown.length > 0 ? `unknown ${unknown.join(', ')}` : 'none given'}; known: ${API_SCOPES.join(', ')}`,
        );
      }
      const token = newToken();
      console.log(`token (give it to ${opts.id}; shown once, not stored): ${token}`);
      console.log('apiClients entry (add it to the configuration):');
      process.stdout.write(apiClientEntry(opts.id, token, [...new Set(scopes)] as ApiScope[]));
      process.exitCode = EXIT_OK;
    });

  tokens
    .command('hash')
    .description('read a token on standard input and print its SHA-256 (the tokenSha256 to configure)')
    .addHelpText(
      'after',
      '\nExample: printf %s "$TOKEN" | mra-gateway tokens hash\nExit codes: 0 ok, 1 not a token the API listener accepts, 2 cannot read standard input.',
    )
    .action(async () => {
      let text: string;
      try {
        text = await readStdin();
      } catch (error) {
        throw new GatewayError('BAD_REQUEST', `cannot read standard input: ${(error as Error).message}`);
      }
      const token = text.replace(/\r?\n$/, '');
      if (!API_TOKEN.test(token)) {
        console.error(
          'mra-gateway: not a token the API listener accepts (16 to 512 of A-Z a-z 0-9 . _ ~ + / - then = padding)',
        );
        process.exitCode = EXIT_PROBLEM;
        return;
      }
      console.log(tokenSha256(token));
      process.exitCode = EXIT_OK;
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    // A token is at most 512 characters: anything far longer is not one, and is not held.
    if (size > 64 * 1024) throw new Error('more than 64 KiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
