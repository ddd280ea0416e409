/**
 * docs/threats.md 75 at delivery time, over real sockets on loopback: a session's connections serve the next
 * session only where its own check found the same addresses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createReceiverPolicy, type Resolver } from '../../src/notifications/receiver-policy.ts';
import { createWebhookSessions } from '../../src/notifications/webhook-post.ts';
import { closeServers, counting, LOOPBACK, noContent, resolverOf } from '../support/webhook-servers.ts';

afterEach(closeServers);

describe('sessions one after another', () => {
  const sessionsOf = (resolve: Resolver) =>
    createWebhookSessions({
      policy: createReceiverPolicy({ allowHosts: [], ...LOOPBACK }, resolve),
      timeoutMs: 20_000,
    });
  const postOnce = async (open: ReturnType<typeof sessionsOf>, url: string) => {
    const opened = await open(url, 4);
    if (!opened.ok) return opened;
    try {
      return await opened.session.post({ 'content-type': 'application/json' }, '{}');
    } finally {
      opened.session.close();
      // undici frees a connection on the turn after its answer was read; a next job is never as quick.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('go over the same connection to the same checked address, and a new one after a failure', async () => {
    const statuses = [204, 204, 503, 204];
    const receiver = await counting((res) => res.writeHead(statuses.shift() ?? 204).end());
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const open = sessionsOf(resolve);
    const url = `http://hooks.example:${receiver.port}/h`;
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(receiver.connections).toBe(1);
    expect(await postOnce(open, url)).toMatchObject({ ok: false, failure: 'http-5xx' });
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(receiver.connections).toBe(2);
    // Each session checked the name again.
    expect(resolve.asked).toHaveLength(4);
  });

  it('do not share connections when the name resolves to other addresses, nor past a refusal', async () => {
    const receiver = await counting(noContent);
    const answers: Record<string, string[]> = { 'hooks.example': ['127.0.0.1'] };
    const open = sessionsOf(async (host) => answers[host] ?? []);
    const url = `http://hooks.example:${receiver.port}/h`;
    expect(await postOnce(open, url)).toEqual({ ok: true });
    answers['hooks.example'] = ['127.0.0.1', '127.0.0.3'];
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(receiver.connections).toBe(2);
    answers['hooks.example'] = ['10.0.0.1'];
    expect(await postOnce(open, url)).toMatchObject({ ok: false, failure: 'refused-address' });
    expect(receiver.requests).toHaveLength(2);
  });
});
