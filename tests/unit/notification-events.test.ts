import { describe, expect, it } from 'vitest';
import type { Mra, Partner } from '../../src/mra/types.ts';
import {
  benefitEventOf,
  mraEventOf,
  recognitionOf,
  type VersionFacts,
} from '../../src/notifications/events.ts';
import { signatureOf, webhookHeaders } from '../../src/notifications/signature.ts';

const mra: Mra = {
  id: 'CL-PE',
  inForceFrom: new Date('2020-01-01T00:00:00Z'),
  inForceUntil: undefined,
  status: 'in-force',
  programmes: new Set(['AEO-F']),
  roles: new Set(['exporter', 'manufacturer']),
  benefits: [
    { id: 'fewer-checks', description: 'fewer checks', roles: undefined },
    { id: 'priority', description: 'priority', roles: ['exporter'] },
  ],
};
const partner = { adminId: 'CL', mra } as unknown as Partner;
const at = new Date('2026-03-01T00:00:00Z');
const certified: VersionFacts = {
  version: 1,
  status: 'certified',
  statusSince: '2025-01-01',
  programme: 'AEO-F',
  roles: ['manufacturer', 'exporter'],
};

describe('Standard Webhooks signature', () => {
  it('matches the specification libraries test vector', () => {
    expect(
      signatureOf(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('puts the id, the Unix timestamp in seconds and the signature in headers', () => {
    const h = webhookHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'e1', '{}', new Date(1614265330_999));
    expect(h).toMatchObject({ 'webhook-id': 'e1', 'webhook-timestamp': '1614265330' });
    expect(h['webhook-signature']).toBe(
      signatureOf('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'e1', 1614265330, '{}'),
    );
  });
});

describe('benefit events', () => {
  const before = recognitionOf(partner, certified, at);

  it('judges recognition as the lookup answer does', () => {
    expect(before).toEqual({
      recognised: true,
      benefits: [
        { id: 'fewer-checks', description: 'fewer checks', roles: ['manufacturer', 'exporter'] },
        { id: 'priority', description: 'priority', roles: ['exporter'] },
      ],
    });
    expect(recognitionOf(partner, undefined, at)).toEqual({ recognised: false, reason: 'unknown' });
    expect(recognitionOf(undefined, certified, at)).toEqual({
      recognised: false,
      reason: 'mra-not-in-force',
    });
    expect(recognitionOf(partner, { ...certified, programme: 'AEO-S' }, at)).toMatchObject({
      reason: 'out-of-scope',
    });
  });

  it('start, stop, change, or nothing', () => {
    const unknown = recognitionOf(partner, undefined, at);
    const suspended = recognitionOf(partner, { ...certified, version: 2, status: 'suspended' }, at);
    const narrower = recognitionOf(partner, { ...certified, version: 3, roles: ['manufacturer'] }, at);
    expect(benefitEventOf(unknown, before)).toBe('benefits.started');
    expect(benefitEventOf(before, suspended)).toBe('benefits.stopped');
    expect(benefitEventOf(before, narrower)).toBe('benefits.changed');
    expect(benefitEventOf(before, recognitionOf(partner, { ...certified, version: 4 }, at))).toBeUndefined();
    expect(benefitEventOf(suspended, unknown)).toBeUndefined();
  });

  it('MRA status moves', () => {
    expect(mraEventOf('in-force', 'suspended')).toBe('mra.suspended');
    expect(mraEventOf('suspended', 'in-force')).toBe('mra.resumed');
    expect(mraEventOf('in-force', 'in-force')).toBeUndefined();
    expect(mraEventOf('suspended', 'terminated')).toBeUndefined();
  });
});
