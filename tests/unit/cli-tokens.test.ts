/** Tokens and the apiClients entry `tokens new` prints: the entry's digest is what the API listener compares. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { table } from '../../src/cli/ops/common.ts';
import { apiClientEntry, newToken, tokenSha256 } from '../../src/cli/tokens.ts';
import { findApiClient } from '../../src/http/api-auth.ts';

describe('tokens', () => {
  it('makes tokens the API listener accepts, by the digest of the printed entry', () => {
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(token);
    const [entry] = parse(apiClientEntry('border-system', token, ['border'])) as {
      id: string;
      tokenSha256: string;
      scopes: ['border'];
    }[];
    expect(entry!.tokenSha256).toBe(tokenSha256(token));
    const client = { id: entry!.id, tokenSha256: entry!.tokenSha256, scopes: new Set(entry!.scopes) };
    expect(findApiClient([client], `Bearer ${token}`)).toBe(client);
    expect(findApiClient([client], `Bearer ${newToken()}`)).toBeUndefined();
  });

  it('prints tables with padded columns', () => {
    expect(
      table(
        ['id', 'state'],
        [
          ['1', 'dead'],
          ['100', 'dead'],
        ],
      ),
    ).toBe('id   state\n1    dead\n100  dead');
  });
});
