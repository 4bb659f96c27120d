import { AsOfFold } from '../../services/cli/audit/as-of.js';
import type { LogEvent } from '../../services/cli/audit/log-event.js';

/**
 * The as-of fold on the events that land with the users and keys parts (their names are fixed in
 * advance): a user watermark, and a revoked signing key ending the access tokens it signed. The
 * fold reads them by type name, so these rows work as soon as the events exist; the controlled
 * clock test over real handlers is test/cli/as-of.test.ts.
 */
const T = (hhmm: string) => Date.parse(`2026-11-30T${hhmm}:00.000Z`);
let position = 0;
const event = (type: string, hhmm: string, data: Record<string, unknown>, schemaVersion = 1): LogEvent => ({
  position: ++position,
  streamName: `x-default-${position}`,
  type,
  schemaVersion,
  time: T(hhmm),
  eventId: `e${position}`,
  actor: 'admin:alice',
  correlationId: `c${position}`,
  causationId: null,
  data,
  published: {},
});
const grantId = '0b7c8c5e-2f0b-4d39-9d3a-6a8f4a1e0001';
const hash = 'a'.repeat(64);

function foldOf(events: LogEvent[], question: ConstructorParameters<typeof AsOfFold>[0]): AsOfFold {
  const fold = new AsOfFold(question);
  for (const e of events) fold.apply(e);
  return fold;
}

const passwordGrant = (hhmm: string, id = grantId) =>
  event('password.granted', hhmm, {
    grantId: id,
    clientId: 'app',
    sub: 'u1',
    scope: 'openid',
    accessTokenIdHash: hash,
    accessTokenExpiresAt: new Date(T(hhmm) + 3_600_000).toISOString(),
    refreshToken: null,
  });

describe('as-of fold: user watermark and signing key revocation', () => {
  it('user.disabled ends the tokens of the user from then on, while it lasts (even one that slipped through after it)', () => {
    const fold = foldOf(
      [passwordGrant('14:00'), event('user.disabled', '14:03', { sub: 'u1', disabledAt: new Date(T('14:03')).toISOString() }), passwordGrant('14:04', '0b7c8c5e-2f0b-4d39-9d3a-6a8f4a1e0002')],
      { kind: 'user', sub: 'u1' },
    );
    expect(fold.validAt(T('14:02')).map((v) => v.valid)).toEqual([true]);
    const after = fold.validAt(T('14:05'));
    expect(after.map((v) => v.valid)).toEqual([false, false]);
    expect(after[0]!.invalidBecause).toEqual([expect.objectContaining({ kind: 'watermark', type: 'user.disabled', actor: 'admin:alice' })]);
  });

  it('user.enabled lifts the disablement for later tokens only; user.forgotten refuses every token for good', () => {
    const second = '0b7c8c5e-2f0b-4d39-9d3a-6a8f4a1e0003';
    const fold = foldOf(
      [
        passwordGrant('14:00'),
        event('user.disabled', '14:03', { sub: 'u1', disabledAt: new Date(T('14:03')).toISOString() }),
        event('user.enabled', '14:05', { sub: 'u1', enabledAt: new Date(T('14:05')).toISOString() }),
        passwordGrant('14:06', second),
      ],
      { kind: 'user', sub: 'u1' },
    );
    const at = fold.validAt(T('14:07'));
    expect(at.map((v) => v.valid)).toEqual([false, true]);
    expect(at[0]!.invalidBecause.map((c) => (c.kind === 'watermark' ? c.type : c.kind))).toEqual(['user.disabled', 'user.enabled']);
    const forgotten = foldOf(
      [passwordGrant('14:00'), event('user.forgotten', '14:03', { sub: 'u1', forgottenAt: new Date(T('14:03')).toISOString() }), passwordGrant('14:04', second)],
      { kind: 'user', sub: 'u1' },
    );
    expect(forgotten.validAt(T('14:05')).map((v) => v.valid)).toEqual([false, false]);
  });

  it('signing_key.revoked ends the access tokens signed while that ES256 key was active, not those of the next key', () => {
    const fold = foldOf(
      [
        event('signing_key.generated', '13:00', { kid: 'k1', alg: 'ES256' }),
        event('signing_key.generated', '13:00', { kid: 'r1', alg: 'RS256' }),
        passwordGrant('14:00'),
        event('signing_key.generated', '14:01', { kid: 'k2', alg: 'ES256', activatesAt: new Date(T('14:02')).toISOString() }, 2),
        passwordGrant('14:03', '0b7c8c5e-2f0b-4d39-9d3a-6a8f4a1e0002'),
        event('signing_key.revoked', '14:04', { kid: 'k1', revokedAt: new Date(T('14:04')).toISOString(), reason: 'compromised' }),
      ],
      { kind: 'client', clientId: 'app' },
    );
    expect(fold.validAt(T('14:03')).map((v) => [v.signedBy, v.valid])).toEqual([
      ['k1', true],
      ['k2', true],
    ]);
    const after = fold.validAt(T('14:05'));
    expect(after.map((v) => [v.signedBy, v.valid])).toEqual([
      ['k1', false],
      ['k2', true],
    ]);
    expect(after[0]!.invalidBecause).toEqual([expect.objectContaining({ kind: 'signing_key_revoked', kid: 'k1', at: T('14:04') })]);
  });

  it('a next key revoked before it activated never signed: the active key still signs after its activation time', () => {
    const fold = foldOf(
      [
        event('signing_key.generated', '13:00', { kid: 'k1', alg: 'ES256' }),
        event('signing_key.generated', '14:00', { kid: 'k2', alg: 'ES256', activatesAt: new Date(T('14:02')).toISOString() }, 2),
        event('signing_key.revoked', '14:01', { kid: 'k2', revokedAt: new Date(T('14:01')).toISOString(), reason: 'compromised' }),
        passwordGrant('14:03'),
      ],
      { kind: 'user', sub: 'u1' },
    );
    expect(fold.validAt(T('14:04')).map((v) => [v.signedBy, v.valid])).toEqual([['k1', true]]);
  });
});
