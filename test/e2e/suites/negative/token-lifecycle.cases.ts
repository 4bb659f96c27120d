import * as client from 'openid-client';
import { GRACE_SECONDS, clientIdOf, machineToken, passwordLineage } from './fixtures.js';
import { basicOf, postForm, refusedLibraryCall, sleep, userinfoStatus, type NegativeCase } from './negative-case.js';

/**
 * Tokens in the wrong hands: a rotated refresh token presented again, a refresh token or an
 * access token of another client, introspection by someone who does not prove who they are
 * (RFC 6749 §6 and §10.4, RFC 9700 §4.14, RFC 7009 §2.1, RFC 7662 §2.1 and §4).
 */
const CHALLENGE = { 'www-authenticate': /^Basic realm="idp"$/ };

export const tokenLifecycleCases: NegativeCase[] = [
  {
    name: 'a rotated refresh token reused outside the grace window: invalid_grant, and the whole lineage is dead',
    prepare: async (fx) => {
      const first = await passwordLineage(fx, fx.app);
      const second = await client.refreshTokenGrant(fx.app, first.refresh);
      // Past the client's grace window: the reuse can no longer be a lost response.
      await sleep(GRACE_SECONDS * 1000 + 500);
      return { reused: first.refresh, successorAccess: second.access_token, successorRefresh: second.refresh_token! };
    },
    send: (fx, p) => refusedLibraryCall(fx.app, () => client.refreshTokenGrant(fx.app, p.reused!)),
    expect: { status: 400, error: 'invalid_grant' },
    appends: ['refresh_token.reuse_detected', 'grant.revoked'],
    then: async (fx, p) => {
      expect(await client.tokenIntrospection(fx.app, p.successorAccess!)).toEqual({ active: false });
      expect(await userinfoStatus(fx, p.successorAccess!)).toBe(401);
      await expect(client.refreshTokenGrant(fx.app, p.successorRefresh!)).rejects.toMatchObject({ error: 'invalid_grant' });
    },
  },
  {
    name: "another client presenting a client's refresh token: invalid_grant, and the owner's lineage lives on",
    prepare: async (fx) => ({ refresh: (await passwordLineage(fx, fx.app)).refresh }),
    send: (fx, p) => refusedLibraryCall(fx.otherApp, () => client.refreshTokenGrant(fx.otherApp, p.refresh!)),
    expect: { status: 400, error: 'invalid_grant' },
    then: async (fx, p) => {
      const refreshed = await client.refreshTokenGrant(fx.app, p.refresh!);
      expect(await userinfoStatus(fx, refreshed.access_token)).toBe(200);
    },
  },
  {
    name: "another client presenting a refresh token at the same moment as its owner: the thief gets invalid_grant, the owner's rotation alone is recorded",
    prepare: async (fx) => ({ refresh: (await passwordLineage(fx, fx.app)).refresh }),
    send: async (fx, p) => {
      const [thief, owner] = await Promise.all([
        postForm(fx, '/token', { grant_type: 'refresh_token', refresh_token: p.refresh! }, basicOf(fx.otherApp)),
        client.refreshTokenGrant(fx.app, p.refresh!),
      ]);
      p.ownerAccess = owner.access_token;
      return thief;
    },
    expect: { status: 400, error: 'invalid_grant' },
    appends: ['refresh_token.rotated'],
    then: async (fx, p) => {
      expect(await userinfoStatus(fx, p.ownerAccess!)).toBe(200);
    },
  },
  {
    name: 'a refresh token presented by a client not registered for refresh_token: unauthorized_client, the lineage lives on',
    prepare: async (fx) => ({ refresh: (await passwordLineage(fx, fx.app)).refresh }),
    send: (fx, p) => postForm(fx, '/token', { grant_type: 'refresh_token', refresh_token: p.refresh! }, basicOf(fx.machine)),
    expect: { status: 400, error: 'unauthorized_client' },
    then: async (fx, p) => {
      await client.refreshTokenGrant(fx.app, p.refresh!);
    },
  },
  {
    name: 'introspection without any client authentication: 401, never an answer',
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/introspect', { token: p.token! }, 'anonymous'),
    expect: { status: 401, error: 'invalid_client', headers: CHALLENGE },
  },
  {
    name: 'introspection by a public client (client_id alone proves nothing): 401',
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/introspect', { token: p.token! }, { id: clientIdOf(fx.spa) }),
    expect: { status: 401, error: 'invalid_client', headers: CHALLENGE },
  },
  {
    name: "introspection by the token's own client naming itself without its secret: 401",
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/introspect', { token: p.token! }, { id: clientIdOf(fx.machine) }),
    expect: { status: 401, error: 'invalid_client', headers: CHALLENGE },
  },
  {
    name: 'introspection with a wrong secret: 401',
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/introspect', { token: p.token! }, { basic: { id: clientIdOf(fx.machine), secret: 'guess' } }),
    expect: { status: 401, error: 'invalid_client', headers: CHALLENGE },
  },
  {
    name: "introspection of another client's token: active false, nothing about it",
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/introspect', { token: p.token! }, basicOf(fx.codeOnly)),
    expect: { status: 200, body: { active: false } },
  },
  {
    name: "revocation of another client's access token: 200 and no effect",
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/revoke', { token: p.token!, token_type_hint: 'access_token' }, basicOf(fx.codeOnly)),
    expect: { status: 200, body: undefined },
    then: async (fx, p) => {
      expect(await client.tokenIntrospection(fx.machine, p.token!)).toMatchObject({ active: true });
    },
  },
  {
    name: "revocation of another client's refresh token by a public client: 200 and no effect",
    prepare: async (fx) => ({ refresh: (await passwordLineage(fx, fx.app)).refresh }),
    send: (fx, p) => postForm(fx, '/revoke', { token: p.refresh!, token_type_hint: 'refresh_token' }, { id: clientIdOf(fx.spa) }),
    expect: { status: 200, body: undefined },
    then: async (fx, p) => {
      const refreshed = await client.refreshTokenGrant(fx.app, p.refresh!);
      expect(await userinfoStatus(fx, refreshed.access_token)).toBe(200);
    },
  },
  {
    name: "revocation of another client's token with a wrong secret: 401, and no effect",
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/revoke', { token: p.token! }, { basic: { id: clientIdOf(fx.machine), secret: 'guess' } }),
    expect: { status: 401, error: 'invalid_client', headers: CHALLENGE },
    then: async (fx, p) => {
      expect(await client.tokenIntrospection(fx.machine, p.token!)).toMatchObject({ active: true });
    },
  },
  {
    name: 'revocation without any client authentication: 401',
    prepare: async (fx) => ({ token: await machineToken(fx) }),
    send: (fx, p) => postForm(fx, '/revoke', { token: p.token! }, 'anonymous'),
    expect: { status: 401, error: 'invalid_client', headers: CHALLENGE },
    then: async (fx, p) => {
      expect(await client.tokenIntrospection(fx.machine, p.token!)).toMatchObject({ active: true });
    },
  },
];
