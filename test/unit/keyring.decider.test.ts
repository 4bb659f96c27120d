import { createHash, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { KeyringEvent, SigningAlg } from '../../contracts/events/keyring.js';
import { sealJson } from '../../infra/crypto/envelope.js';
import { keyringDecider, type KeyringCommand, type KeyringState, type SigningKey } from '../../services/token-issuer/domain/keyring/keyring.js';
import { activeKey, keyStatuses, pendingKey, publishedKeys, verifyingKey } from '../../services/token-issuer/domain/keyring/lifecycle.js';
import { spec } from '../support/decider-spec.js';

const { given } = spec(keyringDecider);

/** The key-encryption key the log never sees (DESIGN §4). */
const kek = randomBytes(32);

/** RFC 7638 JWK thumbprint, used as kid. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A freshly generated key pair, as the caller of the keyring's commands generates it. */
function candidate(alg: SigningAlg): SigningKey {
  const { publicKey, privateKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(publicJwk);
  return { kid, alg, publicJwk: { ...publicJwk }, privateJwk: sealJson(kek, privateKey.export({ format: 'jwk' }), kid) };
}

const T0 = new Date('2026-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
/** Retention of a retired key: the longest token lifetime (1 h). */
const RETENTION = 3600;
const DELAY = 360;

const v1 = (key: SigningKey): KeyringEvent => ({ type: 'signing_key.generated', schemaVersion: 1, data: key });
const v2 = (key: SigningKey, activatesAt: Date): KeyringEvent => ({
  type: 'signing_key.generated',
  schemaVersion: 2,
  data: { ...key, activatesAt: activatesAt.toISOString() },
});
const revoked = (key: SigningKey, when: Date): KeyringEvent => ({
  type: 'signing_key.revoked',
  schemaVersion: 1,
  data: { kid: key.kid, revokedAt: when.toISOString(), reason: 'compromised' },
});

const ensure = (key: SigningKey, now = T0): KeyringCommand => ({ type: 'ensure_signing_key', candidate: key, now });
const rotate = (keys: SigningKey[], now: Date, activatesAt = new Date(now.getTime() + DELAY * 1000)): KeyringCommand => ({
  type: 'rotate_signing_keys',
  candidates: keys,
  now,
  activatesAt,
});
const revoke = (kid: string, now: Date, replacement?: SigningKey): KeyringCommand => ({ type: 'revoke_signing_key', kid, now, replacement });

const fold = (events: KeyringEvent[]): KeyringState => events.reduce(keyringDecider.evolve, keyringDecider.initialState());
const stateOf = (events: KeyringEvent[], now: Date) =>
  Object.fromEntries(keyStatuses(fold(events), now, RETENTION).map((s) => [s.key.kid, s]));

const es1 = candidate('ES256');
const es2 = candidate('ES256');
const es3 = candidate('ES256');
const rs1 = candidate('RS256');
const rs2 = candidate('RS256');

describe('keyring decider (DESIGN §7): ensure a first key', () => {
  test('RFC 7517: the first key of an algorithm signs at once, public JWK in clear, private JWK sealed', () => {
    given([]).when(ensure(es1)).then([v2(es1, T0)]);
  });

  test('an algorithm that has a key (v1 or v2) gets none', () => {
    given([v1(es1)]).when(ensure(es2)).thenNothing();
    given([v2(es1, T0)]).when(ensure(es2, at(10))).thenNothing();
  });

  test('another algorithm gets its own first key', () => {
    given([v2(es1, T0)]).when(ensure(rs1)).then([v2(rs1, T0)]);
  });
});

describe('keyring decider: rotate', () => {
  test('publishes a next key per algorithm that signs from now + the activation delay', () => {
    given([v1(es1), v1(rs1)]).when(rotate([es2, rs2], at(100))).then([v2(es2, at(100 + DELAY)), v2(rs2, at(100 + DELAY))]);
  });

  test('refused while a next key of the algorithm is pending: one next key at a time', () => {
    given([v1(es1), v2(es2, at(DELAY))]).when(rotate([es3], at(10))).then([], { error: 'invalid_request', status: 400 });
  });

  test('once the next key activated, the algorithm rotates again', () => {
    given([v1(es1), v2(es2, at(DELAY))]).when(rotate([es3], at(DELAY))).then([v2(es3, at(2 * DELAY))]);
  });

  test('a pending key of one algorithm does not hold back the other, asked alone', () => {
    given([v1(es1), v1(rs1), v2(es2, at(DELAY))]).when(rotate([rs2], at(10))).then([v2(rs2, at(10 + DELAY))]);
  });

  test('both algorithms at once are refused as a whole when one has a pending key (nothing appended)', () => {
    given([v1(es1), v1(rs1), v2(es2, at(DELAY))]).when(rotate([es3, rs2], at(10))).then([], { error: 'invalid_request' });
  });

  test('a revoked next key is not pending', () => {
    given([v1(es1), v2(es2, at(DELAY)), revoked(es2, at(5))]).when(rotate([es3], at(10))).then([v2(es3, at(10 + DELAY))]);
  });

  test('refuses an activation in the past, two keys of one algorithm, a kid that exists, nothing', () => {
    given([v1(es1)]).when(rotate([es2], at(10), at(5))).then([], { error: 'invalid_request' });
    given([v1(es1)]).when(rotate([es2, es3], at(10))).then([], { error: 'invalid_request' });
    given([v1(es1)]).when(rotate([es1], at(10))).then([], { error: 'invalid_request' });
    given([v1(es1)]).when(rotate([], at(10))).then([], { error: 'invalid_request' });
  });
});

describe('keyring decider: revoke a compromised key', () => {
  test('an unknown kid is refused, and nothing is appended', () => {
    given([v1(es1)]).when(revoke('no-such-kid', at(1))).then([], { error: 'invalid_request' });
  });

  test('a key revoked already is refused: revoking twice appends nothing', () => {
    given([v1(es1), v2(es2, at(0)), revoked(es1, at(1))]).when(revoke(es1.kid, at(2))).then([], { error: 'invalid_request' });
  });

  test('the active key: revoked, and its replacement signs at once (no propagation delay)', () => {
    given([v1(es1)]).when(revoke(es1.kid, at(30), es2)).then([revoked(es1, at(30)), v2(es2, at(30))]);
  });

  test('the active key without a replacement of its algorithm is refused', () => {
    given([v1(es1)]).when(revoke(es1.kid, at(30))).then([], { error: 'invalid_request' });
    given([v1(es1)]).when(revoke(es1.kid, at(30), rs1)).then([], { error: 'invalid_request' });
  });

  test('a next key or a retired key: revoked alone, the active key keeps signing', () => {
    given([v1(es1), v2(es2, at(DELAY))]).when(revoke(es2.kid, at(10), es3)).then([revoked(es2, at(10))]);
    given([v1(es1), v2(es2, at(DELAY))]).when(revoke(es1.kid, at(DELAY + 10), es3)).then([revoked(es1, at(DELAY + 10))]);
  });
});

describe('keyring lifecycle: next → active → retired → removed, or revoked', () => {
  test('a v1 key is active from its generation', () => {
    const state = fold([v1(es1), v1(rs1)]);
    expect(activeKey(state, 'ES256', T0)?.kid).toBe(es1.kid);
    expect(activeKey(state, 'RS256', T0)?.kid).toBe(rs1.kid);
    expect(activeKey(keyringDecider.initialState(), 'RS256', T0)).toBeUndefined();
  });

  test('a next key is in JWKS before it signs; at activatesAt it signs and the old key retires', () => {
    const log = [v1(es1), v2(es2, at(DELAY))];
    expect(stateOf(log, at(DELAY - 1))).toMatchObject({ [es1.kid]: { state: 'active' }, [es2.kid]: { state: 'next', retiredAt: null } });
    expect(publishedKeys(fold(log), at(DELAY - 1), RETENTION).map((k) => k.kid)).toEqual([es1.kid, es2.kid]);
    expect(pendingKey(fold(log), 'ES256', at(DELAY - 1))?.kid).toBe(es2.kid);
    expect(activeKey(fold(log), 'ES256', at(DELAY - 1))?.kid).toBe(es1.kid);

    expect(activeKey(fold(log), 'ES256', at(DELAY))?.kid).toBe(es2.kid);
    expect(stateOf(log, at(DELAY))).toMatchObject({
      [es1.kid]: { state: 'retired', retiredAt: at(DELAY).toISOString(), removesAt: at(DELAY + RETENTION).toISOString() },
      [es2.kid]: { state: 'active' },
    });
  });

  test('a retired key stays in JWKS and verifies until every token it signed expired, then is removed', () => {
    const log = [v1(es1), v2(es2, at(DELAY))];
    expect(publishedKeys(fold(log), at(DELAY + RETENTION - 1), RETENTION).map((k) => k.kid)).toEqual([es1.kid, es2.kid]);
    expect(stateOf(log, at(DELAY + RETENTION))[es1.kid]?.state).toBe('removed');
    expect(publishedKeys(fold(log), at(DELAY + RETENTION), RETENTION).map((k) => k.kid)).toEqual([es2.kid]);
  });

  test('a revoked key leaves JWKS at once and verifies nothing; its replacement signs', () => {
    const log = [v1(es1), v1(rs1), revoked(es1, at(30)), v2(es2, at(30))];
    expect(stateOf(log, at(30))).toMatchObject({ [es1.kid]: { state: 'revoked', revokedAt: at(30).toISOString() }, [es2.kid]: { state: 'active' } });
    expect(publishedKeys(fold(log), at(30), RETENTION).map((k) => k.kid)).toEqual([rs1.kid, es2.kid]);
    expect(verifyingKey(fold(log), es1.kid)).toBeUndefined();
    expect(verifyingKey(fold(log), es2.kid)?.kid).toBe(es2.kid);
    expect(activeKey(fold(log), 'ES256', at(30))?.kid).toBe(es2.kid);
  });

  test('the active key compromised while a next key is pending: the replacement signs until the next key activates', () => {
    const log = [v1(es1), v2(es2, at(DELAY)), revoked(es1, at(10)), v2(es3, at(10))];
    expect(activeKey(fold(log), 'ES256', at(11))?.kid).toBe(es3.kid);
    expect(activeKey(fold(log), 'ES256', at(DELAY))?.kid).toBe(es2.kid);
    expect(stateOf(log, at(DELAY))[es3.kid]).toMatchObject({ state: 'retired', retiredAt: at(DELAY).toISOString() });
  });

  test('a next key revoked before it activated never signs, and retires nobody', () => {
    const log = [v1(es1), v2(es2, at(DELAY)), revoked(es2, at(10))];
    expect(activeKey(fold(log), 'ES256', at(DELAY + 1))?.kid).toBe(es1.kid);
    expect(stateOf(log, at(DELAY + 1))[es1.kid]?.state).toBe('active');
  });
});
