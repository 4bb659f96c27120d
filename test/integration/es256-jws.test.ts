import { compactVerify, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify } from 'jose';
import { signCompactEs256 } from '../../services/token-issuer/app/es256-jws.js';

/**
 * Our in-place ES256 signing (services/token-issuer/app/es256-jws.ts) against jose, which
 * verifies every token we issue: what we sign verifies with the public key, and with nothing
 * else; any byte changed fails; a key that is not a private P-256 key is refused.
 */
describe('signCompactEs256', () => {
  it('signs a compact JWS that jose verifies (header and claims as given, R ‖ S signature), and only with its key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const claims = { iss: 'https://idp.example.test', sub: 'svc', aud: ['https://api.example.test'], iat: 1_700_000_000, exp: 4_000_000_000, jti: 'g.s', scope: 'a b', 'uni\u00e7ode': 'ü€𝄞' };
    const token = signCompactEs256({ kid: 'k1', typ: 'at+jwt' }, claims, privateKey);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' });
    const { payload } = await jwtVerify(token, publicKey, { algorithms: ['ES256'], typ: 'at+jwt', issuer: claims.iss });
    expect(payload).toEqual(claims);
    expect(Buffer.from(token.split('.')[2]!, 'base64url')).toHaveLength(64);
    // Through the JWK form too, as resource servers get it from /jwks.
    const viaJwk = await importJWK(await exportJWK(publicKey), 'ES256');
    await expect(compactVerify(token, viaJwk)).resolves.toBeDefined();

    const other = await generateKeyPair('ES256');
    await expect(compactVerify(token, other.publicKey)).rejects.toThrow();
    const [h, p, s] = token.split('.');
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'a b c' })).toString('base64url');
    await expect(compactVerify(`${h}.${widened}.${s}`, publicKey)).rejects.toThrow();
    const flipped = Buffer.from(s!, 'base64url');
    flipped[10] = flipped[10]! ^ 1;
    await expect(compactVerify(`${h}.${p}.${flipped.toString('base64url')}`, publicKey)).rejects.toThrow();
  });

  it('refuses what is not a private P-256 key', async () => {
    const ec = await generateKeyPair('ES256');
    const rsa = await generateKeyPair('RS256');
    const p384 = await generateKeyPair('ES384');
    expect(() => signCompactEs256({}, {}, ec.publicKey)).toThrow('private P-256');
    expect(() => signCompactEs256({}, {}, rsa.privateKey)).toThrow('private P-256');
    expect(() => signCompactEs256({}, {}, p384.privateKey)).toThrow('private P-256');
  });
});
