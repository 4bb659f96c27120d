import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { GrantEvent } from '../../contracts/events/grant.js';
import type { RefreshTokenEvent } from '../../contracts/events/refresh-token.js';
import { grantDecider } from '../../services/token-issuer/domain/grant/decider.js';
import type { GrantWithTokens } from '../../services/token-issuer/domain/grant/state.js';
import {
  refreshedScope,
  refreshTokenDecider,
  RefreshTokenReused,
  type UseRefreshTokenCommand,
} from '../../services/token-issuer/domain/refresh-token/refresh-token.js';
import { spec } from '../support/decider-spec.js';

const sha256Hex = (input: string | Buffer) => createHash('sha256').update(input).digest('hex');
const hash = () => sha256Hex(randomBytes(32));
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

/**
 * A password grant with a refresh token, folded from its one event, and a use of generation 0.
 * Times are fixed in the past: a decider reading the wall clock would see everything expired.
 */
function lineage({ graceSeconds = 0 } = {}) {
  const grantId = randomUUID();
  const clientId = randomUUID();
  const secretHash = hash();
  const granted: GrantEvent = {
    type: 'password.granted',
    schemaVersion: 1,
    data: {
      grantId,
      clientId,
      sub: randomUUID(),
      scope: 'openid offline_access profile',
      audience: ['https://idp.example.test'],
      authTime: Math.floor(T0 / 1000),
      acr: '0',
      amr: ['pwd'],
      accessTokenIdHash: hash(),
      accessTokenExpiresAt: at(3_600_000).toISOString(),
      idTokenIssued: true,
      refreshToken: { tokenHash: secretHash, issuedAt: at(0).toISOString(), idleExpiresAt: at(86_400_000).toISOString(), absoluteExpiresAt: at(7 * 86_400_000).toISOString() },
    },
  };
  const grant = (events: GrantEvent[] = [granted]) =>
    events.reduce((s, e) => grantDecider.evolve(s, e), grantDecider.initialState()) as GrantWithTokens;
  const use = (overrides: Partial<UseRefreshTokenCommand> = {}): UseRefreshTokenCommand => ({
    type: 'use_refresh_token',
    grant: grant(),
    generation: 0,
    issued: { tokenHash: secretHash, idleExpiresAt: at(86_400_000).toISOString() },
    presentedHash: secretHash,
    clientId,
    scope: 'openid offline_access profile',
    now: at(60_000),
    graceSeconds,
    successorUsed: false,
    tokens: {
      accessTokenIdHash: hash(),
      accessTokenExpiresAt: at(3_660_000).toISOString(),
      idTokenIssued: true,
      successor: { tokenHash: hash(), idleExpiresAt: at(86_460_000).toISOString() },
    },
    ...overrides,
  });
  const rotated = (command: UseRefreshTokenCommand): RefreshTokenEvent => ({
    type: 'refresh_token.rotated',
    schemaVersion: 1,
    data: {
      grantId,
      generation: command.generation,
      clientId,
      rotatedAt: command.now.toISOString(),
      scope: command.scope,
      accessTokenIdHash: command.tokens.accessTokenIdHash,
      accessTokenExpiresAt: command.tokens.accessTokenExpiresAt,
      idTokenIssued: true,
      successor: { generation: command.generation + 1, ...command.tokens.successor },
    },
  });
  return { grantId, clientId, granted, grant, use, rotated };
}

const { given } = spec(refreshTokenDecider);

describe('refresh token epoch: one use per generation (RFC 9700 §4.14.2)', () => {
  test('the first use of an unused generation rotates it, naming generation g+1', () => {
    const l = lineage();
    const command = l.use();
    given([]).when(command).then([l.rotated(command)]);
  });

  test('a rotated generation presented again outside any grace window is reuse: invalid_grant, nothing recorded here', () => {
    const l = lineage();
    const first = l.use();
    const decision = refreshTokenDecider.decide(l.use({ now: at(61_000) }), refreshTokenDecider.evolve(refreshTokenDecider.initialState(), l.rotated(first)));
    expect(decision.events).toEqual([]);
    expect(decision.rejection).toBeInstanceOf(RefreshTokenReused);
    expect(decision.rejection).toMatchObject({ code: 'invalid_grant' });
  });

  test('without a grace window, a use timed before the rotation it lost to is reuse all the same (no window opens backwards)', () => {
    const l = lineage();
    const winner = l.use({ now: at(60_000) });
    const decision = refreshTokenDecider.decide(
      l.use({ now: at(59_990) }),
      refreshTokenDecider.evolve(refreshTokenDecider.initialState(), l.rotated(winner)),
    );
    expect(decision.rejection).toBeInstanceOf(RefreshTokenReused);
  });

  test('inside the grace window the same client gets the rotation repeated (same successor), unless the successor was used', () => {
    const l = lineage({ graceSeconds: 10 });
    const first = l.use();
    const again = l.use({ now: at(65_000) });
    given([l.rotated(first)])
      .when(again)
      .then([
        {
          type: 'refresh_token.rotation_repeated',
          schemaVersion: 1,
          data: {
            grantId: l.grantId,
            generation: 0,
            clientId: l.clientId,
            scope: again.scope,
            accessTokenIdHash: again.tokens.accessTokenIdHash,
            accessTokenExpiresAt: again.tokens.accessTokenExpiresAt,
            idTokenIssued: true,
          },
        },
      ]);
    given([l.rotated(first)]).when(l.use({ now: at(65_000), successorUsed: true })).then([], { error: 'invalid_grant' });
    given([l.rotated(first)]).when(l.use({ now: at(70_001) })).then([], { error: 'invalid_grant' });
  });

  test('a wrong secret, a revoked grant, another client, an expired token: invalid_grant and no event', () => {
    const l = lineage();
    given([]).when(l.use({ presentedHash: hash() })).then([], { error: 'invalid_grant' });
    const revoked = l.grant([l.granted, { type: 'grant.revoked', schemaVersion: 2, data: { grantId: l.grantId, reason: 'admin' } }]);
    given([]).when(l.use({ grant: revoked })).then([], { error: 'invalid_grant' });
    given([]).when(l.use({ clientId: randomUUID() })).then([], { error: 'invalid_grant' });
    // Idle lifetime: unused for a day.
    given([]).when(l.use({ now: at(86_400_000) })).then([], { error: 'invalid_grant' });
    // Absolute lifetime: whatever the idle expiry says.
    given([]).when(l.use({ now: at(7 * 86_400_000), issued: { tokenHash: l.use().issued.tokenHash, idleExpiresAt: at(8 * 86_400_000).toISOString() } })).then([], {
      error: 'invalid_grant',
    });
  });
});

describe('grant: kinds and reuse detection', () => {
  const grantSpec = spec(grantDecider);

  test('reuse detection records the detection and the revocation in one append; a second detection records nothing', () => {
    const l = lineage();
    const detect = { type: 'detect_refresh_reuse' as const, clientId: l.clientId, generation: 3 };
    const detected: GrantEvent[] = [
      { type: 'refresh_token.reuse_detected', schemaVersion: 1, data: { grantId: l.grantId, generation: 3, clientId: l.clientId } },
      { type: 'grant.revoked', schemaVersion: 2, data: { grantId: l.grantId, reason: 'refresh_token_reuse' } },
    ];
    grantSpec.given([l.granted]).when(detect).then(detected);
    grantSpec.given([l.granted, ...detected]).when(detect).then([]);
  });

  test('client credentials: one event per grant; revocable by its client only', () => {
    const grantId = randomUUID();
    const clientId = randomUUID();
    const tokens = { accessTokenIdHash: hash(), accessTokenExpiresAt: at(3_600_000).toISOString() };
    const granted: GrantEvent = {
      type: 'client_credentials.granted',
      schemaVersion: 1,
      data: { grantId, clientId, scope: 'orders:read', audience: ['https://api.example.test/'], ...tokens },
    };
    grantSpec
      .given([])
      .when({ type: 'grant_client_credentials', grantId, clientId, scope: 'orders:read', audience: ['https://api.example.test/'], tokens })
      .then([granted]);
    grantSpec.given([granted]).when({ type: 'revoke', clientId: randomUUID() }).then([]);
    grantSpec
      .given([granted])
      .when({ type: 'revoke', clientId })
      .then([{ type: 'grant.revoked', schemaVersion: 2, data: { grantId, reason: 'revocation_request' } }]);
  });

  test('a password grant holds the user, the authentication and generation 0 of its refresh tokens', () => {
    const l = lineage();
    const state = l.grant();
    expect(state).toMatchObject({
      kind: 'password',
      status: 'active',
      subject: { clientId: l.clientId, authentication: { acr: '0', amr: ['pwd'] } },
      lineage: { refreshToken: { absoluteExpiresAt: at(7 * 86_400_000).toISOString() } },
      revocation: null,
    });
  });

  test('a code cannot be redeemed on a grant of another kind', () => {
    const l = lineage();
    grantSpec
      .given([l.granted])
      .when({
        type: 'redeem_code',
        codeHash: hash(),
        clientId: l.clientId,
        redirectUri: 'https://rp.example.test/cb',
        codeVerifierS256: undefined,
        now: at(1000),
        tokens: { accessTokenIdHash: hash(), accessTokenExpiresAt: at(3_600_000).toISOString(), refreshToken: null },
      })
      .then([], { error: 'invalid_grant' });
  });
});

describe('refreshed scope (RFC 6749 §6)', () => {
  test('the grant\'s scope by default, narrower on request, never wider, never beyond the client\'s registration now', () => {
    const client = 'openid profile email offline_access';
    expect(refreshedScope('openid profile email', client, undefined)).toBe('openid profile email');
    expect(refreshedScope('openid profile email', client, 'email openid email')).toBe('email openid');
    expect(() => refreshedScope('openid profile', client, 'openid address')).toThrow(expect.objectContaining({ code: 'invalid_scope' }));
    expect(() => refreshedScope('openid profile', client, '   ')).toThrow(expect.objectContaining({ code: 'invalid_scope' }));
    // The operator took profile away from the client: the grant shrinks with it.
    expect(refreshedScope('openid profile', 'openid', undefined)).toBe('openid');
    expect(() => refreshedScope('openid profile', 'openid', 'profile')).toThrow(expect.objectContaining({ code: 'invalid_scope' }));
    // A malformed scope is refused without being echoed (RFC 6749 §5.2).
    expect(() => refreshedScope('openid', client, 'x"\\<script>')).toThrow(expect.objectContaining({ code: 'invalid_scope', description: 'the scope is malformed' }));
  });
});
