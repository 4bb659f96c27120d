import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as client from 'openid-client';
import type { SigningKeyView } from '../../../contracts/messages/token-issuer.js';
import { EXIT } from '../../../services/cli/exit-codes.js';
import { Browser } from '../../support/browser.js';
import type { IdpRun } from '../../support/cli.js';

/**
 * Signing key rotation end to end (DESIGN §7, `idp keys`): the real bin against a running
 * deployment, relying parties with openid-client. The next key is in JWKS before any token
 * carries its kid; after its activation every token does, on every replica; the old key still
 * verifies its tokens; a compromised key leaves JWKS and its tokens are refused by introspection
 * and userinfo within about a second. Runners: key-rotation.<topology>.e2e.test.ts.
 */

export interface KeyRotationDeployment {
  issuer: string;
  user: { username: string; password: string };
  /** `idp …` as an operator runs it against this deployment (the SQLite file, or NATS as admin). */
  idp(argv: string[]): Promise<IdpRun>;
  stop(): Promise<void>;
}

/** What the runners start the deployment (and the bin) with: a short propagation delay. */
export const TEST_ACTIVATION_DELAY_SECONDS = 6;
/** How many requests, spread over the token-issuer replicas by the queue group, must all agree. */
const REQUESTS_PER_CHECK = 12;

const REDIRECT_URI = 'https://rp.example.test/keys-cb';
const SCOPE = 'openid profile';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;

export function describeKeyRotation(topology: string, start: () => Promise<KeyRotationDeployment>): void {
  let idp: KeyRotationDeployment;
  beforeAll(async () => {
    idp = await start();
  }, 180_000);
  afterAll(async () => idp?.stop(), 60_000);

  const issuer = () => idp.issuer;
  const options = () => ({ execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });

  /** A relying party (openid-client) that counts its JWKS downloads. */
  async function relyingParty(): Promise<{ config: client.Configuration; browser: Browser; jwksFetches: () => number }> {
    const config = await client.dynamicClientRegistration(
      new URL(issuer()),
      { client_name: `keys ${randomBytes(3).toString('hex')}`, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', scope: SCOPE },
      client.ClientSecretBasic(),
      options(),
    );
    let fetches = 0;
    config[client.customFetch] = (url, init) => {
      if (new URL(url).pathname === '/jwks') fetches++;
      return fetch(url, init as RequestInit);
    };
    return { config, browser: new Browser(), jwksFetches: () => fetches };
  }

  /** The code flow; openid-client verifies the ID token's signature against the JWKS (it throws otherwise). */
  async function signIn(rp: Awaited<ReturnType<typeof relyingParty>>) {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(rp.config, { redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce });
    const { callback } = await rp.browser.authorize(url, { ...idp.user, consent: 'allow' });
    const tokens = await client.authorizationCodeGrant(rp.config, callback, { expectedState: state, expectedNonce: nonce });
    return { accessToken: tokens.access_token, idToken: tokens.id_token!, claims: tokens.claims()! };
  }

  async function machine(): Promise<client.Configuration> {
    return client.dynamicClientRegistration(
      new URL(issuer()),
      { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'profile' },
      client.ClientSecretBasic(),
      { execute: [client.allowInsecureRequests] },
    );
  }

  async function jwks(): Promise<{ kids: string[]; set: JSONWebKeySet; cacheControl: string | null }> {
    const response = await fetch(`${issuer()}/jwks`);
    const set = (await response.json()) as JSONWebKeySet;
    return { kids: set.keys.map((k) => k.kid!), set, cacheControl: response.headers.get('cache-control') };
  }

  async function keys(): Promise<SigningKeyView[]> {
    const run = await idp.idp(['keys', 'list', '--json']);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    return JSON.parse(run.stdout) as SigningKeyView[];
  }

  const active = (list: SigningKeyView[], alg: 'RS256' | 'ES256') => list.find((k) => k.alg === alg && k.state === 'active')!;

  const introspect = (config: client.Configuration, token: string) => client.tokenIntrospection(config, token);
  const userinfoStatus = async (token: string) => (await fetch(`${issuer()}/userinfo`, { headers: { authorization: `Bearer ${token}` } })).status;

  // Shared by the steps below, in order.
  let first: SigningKeyView[];
  let next: SigningKeyView[];
  let oldRp: Awaited<ReturnType<typeof relyingParty>>;
  let oldTokens: Awaited<ReturnType<typeof signIn>>;
  let rp: Awaited<ReturnType<typeof relyingParty>>;
  let newTokens: Awaited<ReturnType<typeof signIn>>;
  let m2m: client.Configuration;

  describe(`signing key rotation (${topology}, idp keys through the real bin)`, () => {
    it('rotate: the next keys are in JWKS before any token carries them; from their activation every token does, on every replica', async () => {
      first = await keys();
      expect(first.map((k) => k.state)).toEqual(['active', 'active']);
      oldRp = await relyingParty();
      oldTokens = await signIn(oldRp);
      expect(kidOf(oldTokens.idToken)).toBe(active(first, 'RS256').kid);
      expect(kidOf(oldTokens.accessToken)).toBe(active(first, 'ES256').kid);
      m2m = await machine();

      const rotated = await idp.idp(['keys', 'rotate', '--json']);
      expect(rotated).toMatchObject({ code: EXIT.ok, stderr: '' });
      next = (JSON.parse(rotated.stdout) as { generated: SigningKeyView[] }).generated;
      expect(next.map((k) => [k.alg, k.state])).toEqual([
        ['RS256', 'next'],
        ['ES256', 'next'],
      ]);
      const activatesAt = Date.parse(next[0]!.activatesAt);

      // Every replica publishes the next keys (it follows the keyring: no restart).
      await until('the next keys in JWKS on every replica', async () => {
        for (let i = 0; i < REQUESTS_PER_CHECK; i++) {
          const { kids } = await jwks();
          if (!next.every((k) => kids.includes(k.kid))) return undefined;
        }
        return true;
      });
      expect((await jwks()).cacheControl).toBe('public, max-age=300');

      // Until the activation, tokens carry the old kid; after it, the new one: never earlier.
      rp = await relyingParty();
      const early = await signIn(rp);
      for (const [token, alg] of [[early.idToken, 'RS256'], [early.accessToken, 'ES256']] as const) {
        const kid = kidOf(token);
        if (kid === next.find((k) => k.alg === alg)!.kid) expect(Number(early.claims.iat) * 1000).toBeGreaterThanOrEqual(activatesAt - 999);
        else expect(kid).toBe(active(first, alg).kid);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, activatesAt - Date.now() + 200)));

      newTokens = await signIn(rp);
      expect(kidOf(newTokens.idToken)).toBe(next[0]!.kid);
      expect(kidOf(newTokens.accessToken)).toBe(next[1]!.kid);
      for (let i = 0; i < REQUESTS_PER_CHECK; i++) {
        expect(kidOf((await client.clientCredentialsGrant(m2m)).access_token)).toBe(next[1]!.kid);
      }
      // openid-client verified both ID tokens (old kid, then new kid) from the one JWKS it
      // downloaded after the rotation: publishing first is what makes the switch seamless.
      expect(rp.jwksFetches()).toBe(1);
    }, 120_000);

    it('the retired keys stay in JWKS and their tokens stay valid until they expire', async () => {
      const { kids } = await jwks();
      expect(kids).toEqual(expect.arrayContaining([...first.map((k) => k.kid), ...next.map((k) => k.kid)]));
      expect(await introspect(oldRp.config, oldTokens.accessToken)).toMatchObject({ active: true });
      expect(await userinfoStatus(oldTokens.accessToken)).toBe(200);
      const list = await keys();
      for (const old of first) {
        const successor = next.find((k) => k.alg === old.alg)!;
        expect(list.find((k) => k.kid === old.kid)).toMatchObject({
          state: 'retired',
          retiredAt: successor.activatesAt,
          removesAt: new Date(Date.parse(successor.activatesAt) + 3600_000).toISOString(),
        });
        expect(list.find((k) => k.kid === successor.kid)).toMatchObject({ state: 'active' });
      }
    }, 60_000);

    it('--compromised on a retired key: out of JWKS, its tokens refused by introspection and userinfo within about a second', async () => {
      const retiredEs = first.find((k) => k.alg === 'ES256')!;
      const run = await idp.idp(['keys', 'rotate', '--compromised', retiredEs.kid]);
      expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
      expect(run.stdout).toContain(`revoked ES256 key ${retiredEs.kid}`);
      expect(run.stdout).not.toMatch(/signs from now on/);

      await until('every replica refusing the revoked key', async () => {
        for (let i = 0; i < REQUESTS_PER_CHECK; i++) {
          if ((await introspect(oldRp.config, oldTokens.accessToken)).active !== false) return undefined;
        }
        return true;
      });
      expect(await userinfoStatus(oldTokens.accessToken)).toBe(401);
      expect((await jwks()).kids).not.toContain(retiredEs.kid);
      // The active key's tokens are untouched.
      expect(await introspect(rp.config, newTokens.accessToken)).toMatchObject({ active: true });

      const twice = await idp.idp(['keys', 'rotate', '--compromised', retiredEs.kid]);
      expect(twice.code).toBe(EXIT.refused);
      const unknown = await idp.idp(['keys', 'rotate', '--compromised', 'no-such-kid']);
      expect(unknown.code).toBe(EXIT.notFound);
    }, 120_000);

    it('--compromised on the active keys: replaced at once; their tokens refused, ID tokens no longer verify against JWKS', async () => {
      for (const compromised of next) {
        const run = await idp.idp(['keys', 'rotate', '--compromised', compromised.kid, '--json']);
        expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
        const reply = JSON.parse(run.stdout) as { replacement: SigningKeyView };
        expect(reply.replacement).toMatchObject({ alg: compromised.alg, state: 'active' });
      }
      const replacements = (await keys()).filter((k) => k.state === 'active');
      expect(replacements.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);

      await until('every replica refusing the compromised active key', async () => {
        for (let i = 0; i < REQUESTS_PER_CHECK; i++) {
          if ((await introspect(rp.config, newTokens.accessToken)).active !== false) return undefined;
        }
        return true;
      });
      expect(await userinfoStatus(newTokens.accessToken)).toBe(401);
      const { kids, set } = await jwks();
      for (const compromised of next) expect(kids).not.toContain(compromised.kid);
      // A relying party that downloads JWKS now cannot verify the compromised key's ID tokens.
      await expect(jwtVerify(newTokens.idToken, createLocalJWKSet(set))).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });

      // Every replica signs with the replacements; a relying party verifies their ID tokens.
      const es = replacements.find((k) => k.alg === 'ES256')!.kid;
      await until('every replica signing with the replacement', async () => {
        for (let i = 0; i < REQUESTS_PER_CHECK; i++) {
          if (kidOf((await client.clientCredentialsGrant(m2m)).access_token) !== es) return undefined;
        }
        return true;
      });
      const fresh = await relyingParty();
      const after = await signIn(fresh);
      expect(kidOf(after.idToken)).toBe(replacements.find((k) => k.alg === 'RS256')!.kid);
      expect(kidOf(after.accessToken)).toBe(es);
      expect(await introspect(fresh.config, after.accessToken)).toMatchObject({ active: true });
    }, 120_000);
  });
}
