import { createHash, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { KeyringEvent, SigningAlg } from '../../contracts/events/keyring.js';
import { sealJson } from '../../infra/crypto/envelope.js';
import {
  activeKey,
  keyringDecider,
  type KeyringCommand,
  type SigningKey,
} from '../../services/token-issuer/domain/keyring/keyring.js';
import { spec } from '../support/decider-spec.js';

const { given } = spec(keyringDecider);

/** The key-encryption key the log never sees (DESIGN §4). */
const kek = randomBytes(32);

/** RFC 7638 JWK thumbprint, used as kid. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A freshly generated key pair, as the caller of ensure_signing_key generates it. */
function candidate(alg: SigningAlg): SigningKey {
  const { publicKey, privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(publicJwk);
  return {
    kid,
    alg,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    privateJwk: sealJson(kek, privateKey.export({ format: 'jwk' }), kid),
  };
}

const ensure = (key: SigningKey): KeyringCommand => ({ type: 'ensure_signing_key', candidate: key });
const generated = (key: SigningKey): KeyringEvent => ({ type: 'signing_key.generated', schemaVersion: 1, data: key });

describe('keyring decider (DESIGN §7)', () => {
  test('RFC 7517: the first key of an algorithm is generated, public JWK in clear, private JWK sealed', () => {
    const key = candidate('ES256');
    given([]).when(ensure(key)).then([generated(key)]);
  });

  test('ensuring a key for an algorithm that already has one writes nothing', () => {
    const first = candidate('ES256');
    given([generated(first)]).when(ensure(candidate('ES256'))).thenNothing();
  });

  test('another algorithm gets its own first key', () => {
    const es256 = candidate('ES256');
    const rs256 = candidate('RS256');
    given([generated(es256)]).when(ensure(rs256)).then([generated(rs256)]);
  });

  test('the active key of an algorithm is the newest of that algorithm', () => {
    const es1 = candidate('ES256');
    const rs = candidate('RS256');
    const es2 = candidate('ES256');
    const state = [generated(es1), generated(rs), generated(es2)].reduce(
      keyringDecider.evolve,
      keyringDecider.initialState(),
    );
    expect(activeKey(state, 'ES256')?.kid).toBe(es2.kid);
    expect(activeKey(state, 'RS256')?.kid).toBe(rs.kid);
    expect(activeKey(keyringDecider.initialState(), 'RS256')).toBeUndefined();
  });
});
