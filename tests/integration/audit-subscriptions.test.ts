/**
 * Webhook subscriptions in the audit trail: creating one, rotating its secret, ending the overlap and
 * deleting it are each chained with the border system that asked, and leave the chain intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.ts';
import { httpRequest, postTo } from '../support/gateway.ts';
import { bearer, type LookupSetup, makeLookupSetup, type Replica, TOKENS } from '../support/lookup.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

let setup: LookupSetup;
let replica: Replica;
let receiver: WebhookReceiver;

beforeAll(async () => {
  setup = await makeLookupSetup();
  replica = await setup.replica();
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.stop();
  await setup?.close();
});

const api = (path: string) => `${replica.gateway.apiUrl}/api/v1${path}`;

describe('subscriptions in the audit trail', () => {
  it('chains create, rotate, end of overlap and delete with the client that asked', async () => {
    const created = await postTo(
      api('/subscriptions'),
      { url: receiver.url('/audit') },
      { headers: bearer(TOKENS.border) },
    );
    expect(created.status, created.text).toBe(201);
    const { id, secret } = JSON.parse(created.text) as { id: string; secret: string };
    const rotated = await postTo(
      api(`/subscriptions/${id}/secret/rotate`),
      {},
      { headers: bearer(TOKENS.border) },
    );
    expect(rotated.status, rotated.text).toBe(200);
    const dropped = await httpRequest(api(`/subscriptions/${id}/secret/previous`), {
      method: 'DELETE',
      headers: bearer(TOKENS.border),
    });
    expect(dropped.status, dropped.text).toBe(204);
    const deleted = await httpRequest(api(`/subscriptions/${id}`), {
      method: 'DELETE',
      headers: bearer(TOKENS.border),
    });
    expect(deleted.status, deleted.text).toBe(204);

    const entries = await replica.store.query<{
      actor: string;
      subject: string;
      detail: Record<string, unknown>;
    }>("SELECT actor, subject, detail FROM audit_log WHERE kind = 'admin-action' ORDER BY audit_log.seq");
    expect(entries.map((e) => [e.actor, e.subject, e.detail.action])).toEqual([
      ['risk-engine', id, 'subscription-create'],
      ['risk-engine', id, 'subscription-rotate-secret'],
      ['risk-engine', id, 'subscription-drop-previous-secret'],
      ['risk-engine', id, 'subscription-delete'],
    ]);
    // What was chained never holds the secret or the address.
    expect(JSON.stringify(entries)).not.toContain(secret);
    expect(JSON.stringify(entries)).not.toContain('/audit');
    expect((await verifyAudit(replica.store, 3)).broken).toBeUndefined();
  });
});
