import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { GrantEvent } from '../../contracts/events/grant.js';
import type { IssueCodeCommand, RedeemCodeCommand } from '../../services/token-issuer/domain/grant/decide.js';
import { grantDecider } from '../../services/token-issuer/domain/grant/decider.js';
import { spec } from '../support/decider-spec.js';

const sha256Hex = (input: string | Buffer) => createHash('sha256').update(input).digest('hex');
/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

type CodeIssued = Extract<GrantEvent, { type: 'authorization_code.issued' }>;
type Tokens = RedeemCodeCommand['tokens'];

const { given } = spec(grantDecider);

const CODE_LIFETIME_MS = 60_000;

/**
 * One authorization: a code `<grant id>.<secret>` issued to a client for a user's session, with
 * everything a token request would send. All fresh per test; times are fixed in the past, so a
 * decider that read the wall clock instead of `command.now` would see every code as expired.
 */
function authorization({ pkce = false, scope = 'openid profile email' } = {}) {
  const grantId = randomUUID();
  const clientId = randomUUID();
  const sub = randomUUID();
  const codeSecret = randomBytes(32).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const issuedAt = Date.parse('2025-03-14T09:26:53.000Z');
  const expiresAt = new Date(issuedAt + CODE_LIFETIME_MS);
  const redirectUri = 'https://app.example.com/oauth/callback';

  const issued: CodeIssued['data'] = {
    grantId,
    clientId,
    sub,
    sessionId: randomUUID(),
    redirectUri,
    scope,
    nonce: randomBytes(16).toString('base64url'),
    ...(pkce ? { codeChallenge: s256(codeVerifier), codeChallengeMethod: 'S256' as const } : {}),
    codeHash: sha256Hex(codeSecret),
    expiresAt: expiresAt.toISOString(),
    authTime: Math.floor(issuedAt / 1000) - 30,
    acr: '0',
    amr: ['pwd'],
    responseType: 'code' as const,
    frontChannel: { idTokenIssued: false, accessToken: null },
  };

  const tokens = (): Tokens => ({
    accessTokenIdHash: sha256Hex(randomBytes(32)),
    accessTokenExpiresAt: new Date(issuedAt + 5_000 + 3_600_000).toISOString(),
    refreshToken: null,
  });

  const issueCommand: IssueCodeCommand = { type: 'issue_code', ...issued };

  const redeem = (overrides: Partial<RedeemCodeCommand> = {}): RedeemCodeCommand => ({
    type: 'redeem_code',
    codeHash: sha256Hex(codeSecret),
    clientId,
    redirectUri,
    codeVerifierS256: pkce ? s256(codeVerifier) : undefined,
    now: new Date(issuedAt + 5_000),
    tokens: tokens(),
    ...overrides,
  });

  const codeIssued: GrantEvent = { type: 'authorization_code.issued', schemaVersion: 2, data: issued };
  const codeRedeemed = (byClient = clientId): GrantEvent => ({
    type: 'authorization_code.redeemed',
    schemaVersion: 1,
    data: { grantId, clientId: byClient },
  });
  /** OIDC Core §3.1.3.3: an ID token comes with the tokens exactly when openid was granted. */
  const tokensIssued = (t: Tokens, idTokenIssued = true): GrantEvent => ({
    type: 'tokens.issued',
    schemaVersion: 2,
    data: { grantId, clientId, sub, scope, ...t, idTokenIssued },
  });
  const replayDetected = (byClient = clientId): GrantEvent => ({
    type: 'authorization_code.replay_detected',
    schemaVersion: 1,
    data: { grantId, clientId: byClient },
  });
  const grantRevoked: GrantEvent = {
    type: 'grant.revoked',
    schemaVersion: 1,
    data: { grantId, reason: 'authorization_code_replay' },
  };
  /** The stream after one successful redemption. */
  const redeemedHistory = (): GrantEvent[] => [codeIssued, codeRedeemed(), tokensIssued(tokens())];

  return {
    grantId,
    clientId,
    codeSecret,
    codeVerifier,
    expiresAt,
    redirectUri,
    issueCommand,
    redeem,
    codeIssued,
    codeRedeemed,
    tokensIssued,
    replayDetected,
    grantRevoked,
    redeemedHistory,
  };
}

describe('grant decider: issuing a code', () => {
  test('RFC 6749 §4.1.2: issuing a code records authorization_code.issued with the SHA-256 of the code, never the code', () => {
    const a = authorization();
    given([]).when(a.issueCommand).then([a.codeIssued]);
  });

  test('RFC 7636 §4.3: a code issued with an S256 challenge records the challenge and its method', () => {
    const a = authorization({ pkce: true });
    given([]).when(a.issueCommand).then([a.codeIssued]);
  });

  test('a pending authorization request completes once: a second issue on its grant id is invalid_request and records nothing', () => {
    const a = authorization();
    given([a.codeIssued]).when(a.issueCommand).then([], { error: 'invalid_request' });
  });
});

describe('grant decider: redeeming a code (RFC 6749 §4.1.3)', () => {
  test('RFC 6749 §4.1.3: the right code, client and redirect_uri records authorization_code.redeemed and tokens.issued', () => {
    const a = authorization();
    const command = a.redeem();
    given([a.codeIssued]).when(command).then([a.codeRedeemed(), a.tokensIssued(command.tokens)]);
  });

  test('OIDC Core §3.1.3.3: a code granted without the openid scope issues tokens but no ID token', () => {
    const a = authorization({ scope: 'profile email' });
    const command = a.redeem();
    given([a.codeIssued]).when(command).then([a.codeRedeemed(), a.tokensIssued(command.tokens, false)]);
  });

  test('OIDC Core §3.1.3.3: openid must be a whole scope token, not a substring of another', () => {
    const a = authorization({ scope: 'profile openidx' });
    const command = a.redeem();
    given([a.codeIssued]).when(command).then([a.codeRedeemed(), a.tokensIssued(command.tokens, false)]);
  });

  test('RFC 6749 §4.1.3: a code for an unknown grant answers invalid_grant and records nothing', () => {
    const a = authorization();
    given([]).when(a.redeem()).then([], { error: 'invalid_grant', status: 400 });
  });

  test('RFC 6749 §5.2: a wrong code secret is a guess, not a replay: invalid_grant, nothing recorded', () => {
    const a = authorization();
    const guess = sha256Hex(randomBytes(32).toString('base64url'));
    given([a.codeIssued]).when(a.redeem({ codeHash: guess })).then([], { error: 'invalid_grant', status: 400 });
  });

  test('RFC 6749 §10.5: a wrong secret for an already redeemed code is no replay and does not revoke the grant', () => {
    const a = authorization();
    const guess = sha256Hex(randomBytes(32).toString('base64url'));
    given(a.redeemedHistory()).when(a.redeem({ codeHash: guess })).then([], { error: 'invalid_grant' });
  });

  test('RFC 6749 §4.1.2: a code redeemed twice records replay_detected and grant.revoked, then answers invalid_grant', () => {
    const a = authorization();
    given(a.redeemedHistory())
      .when(a.redeem())
      .then([a.replayDetected(), a.grantRevoked], { error: 'invalid_grant', status: 400 });
  });

  test('RFC 6749 §10.5: a replay is detected even when it comes after the code expired', () => {
    const a = authorization();
    const late = new Date(a.expiresAt.getTime() + 3_600_000);
    given(a.redeemedHistory())
      .when(a.redeem({ now: late }))
      .then([a.replayDetected(), a.grantRevoked], { error: 'invalid_grant' });
  });

  test('a used code presented by another client is no replay by its client: invalid_grant, and the grant is not revoked', () => {
    const a = authorization();
    given(a.redeemedHistory())
      .when(a.redeem({ clientId: randomUUID() }))
      .then([], { error: 'invalid_grant' });
  });

  test('RFC 6749 §4.1.2: after the grant was revoked, the code answers invalid_grant and records nothing more', () => {
    const a = authorization();
    given([...a.redeemedHistory(), a.replayDetected(), a.grantRevoked])
      .when(a.redeem())
      .then([], { error: 'invalid_grant' });
  });

  test('RFC 6749 §4.1.3: a code issued to another client answers invalid_grant and records nothing', () => {
    const a = authorization();
    given([a.codeIssued]).when(a.redeem({ clientId: randomUUID() })).then([], { error: 'invalid_grant' });
  });

  test('RFC 6749 §4.1.2: an expired code answers invalid_grant; the time is the one in the command', () => {
    const a = authorization();
    given([a.codeIssued]).when(a.redeem({ now: new Date(a.expiresAt.getTime() + 1_000) })).then([], {
      error: 'invalid_grant',
    });
  });

  test('RFC 6749 §4.1.2: a code is expired at its expiresAt instant, and still valid one millisecond before', () => {
    const a = authorization();
    given([a.codeIssued]).when(a.redeem({ now: a.expiresAt })).then([], { error: 'invalid_grant' });
    const command = a.redeem({ now: new Date(a.expiresAt.getTime() - 1) });
    given([a.codeIssued]).when(command).then([a.codeRedeemed(), a.tokensIssued(command.tokens)]);
  });

  test('RFC 6749 §4.1.3: a token request without redirect_uri answers invalid_request and records nothing', () => {
    const a = authorization();
    given([a.codeIssued]).when(a.redeem({ redirectUri: undefined })).then([], { error: 'invalid_request', status: 400 });
  });

  test.each([
    ['another path', 'https://app.example.com/oauth/other'],
    ['a trailing slash', 'https://app.example.com/oauth/callback/'],
    ['another host', 'https://evil.example.com/oauth/callback'],
    ['an added query', 'https://app.example.com/oauth/callback?next=/admin'],
    ['http instead of https', 'http://app.example.com/oauth/callback'],
  ])('RFC 6749 §4.1.3: a redirect_uri differing by %s answers invalid_grant (exact match)', (_label, redirectUri) => {
    const a = authorization();
    given([a.codeIssued]).when(a.redeem({ redirectUri })).then([], { error: 'invalid_grant' });
  });
});

describe('grant decider: PKCE (RFC 7636, RFC 9700)', () => {
  test('RFC 7636 §4.6: the verifier whose S256 matches the challenge redeems the code', () => {
    const a = authorization({ pkce: true });
    const command = a.redeem();
    expect(command.codeVerifierS256).toBe(s256(a.codeVerifier));
    given([a.codeIssued]).when(command).then([a.codeRedeemed(), a.tokensIssued(command.tokens)]);
  });

  test('RFC 7636 §4.6: a wrong code_verifier answers invalid_grant and records nothing', () => {
    const a = authorization({ pkce: true });
    const wrong = s256(randomBytes(32).toString('base64url'));
    given([a.codeIssued]).when(a.redeem({ codeVerifierS256: wrong })).then([], { error: 'invalid_grant' });
  });

  test('RFC 7636 §4.6: the plain verifier sent as if it were the S256 value does not match', () => {
    const a = authorization({ pkce: true });
    given([a.codeIssued]).when(a.redeem({ codeVerifierS256: a.codeVerifier })).then([], { error: 'invalid_grant' });
  });

  test('RFC 7636 §4.6: a code issued with a challenge, redeemed without code_verifier, answers invalid_grant', () => {
    const a = authorization({ pkce: true });
    given([a.codeIssued]).when(a.redeem({ codeVerifierS256: undefined })).then([], { error: 'invalid_grant' });
  });

  test('RFC 9700 §2.1.1, §4.8: a code_verifier for a code issued without a challenge is a PKCE downgrade: invalid_grant', () => {
    const a = authorization({ pkce: false });
    const verifier = randomBytes(32).toString('base64url');
    given([a.codeIssued]).when(a.redeem({ codeVerifierS256: s256(verifier) })).then([], { error: 'invalid_grant' });
  });
});

describe('grant decider: revocation requests (RFC 7009)', () => {
  const revokedByRequest = (grantId: string): GrantEvent => ({
    type: 'grant.revoked',
    schemaVersion: 2,
    data: { grantId, reason: 'revocation_request' },
  });

  test('RFC 7009 §2.1: the client revokes its own tokens: the grant is revoked, recording why', () => {
    const a = authorization({ pkce: false });
    given(a.redeemedHistory()).when({ type: 'revoke', clientId: a.clientId }).then([revokedByRequest(a.grantId)]);
  });

  test('RFC 7009 §2.1: a revocation request of another client has no effect', () => {
    const a = authorization({ pkce: false });
    given(a.redeemedHistory()).when({ type: 'revoke', clientId: randomUUID() }).then([]);
  });

  test('RFC 7009 §2.2: an unknown or already revoked grant is nothing to do, and no error', () => {
    const a = authorization({ pkce: false });
    given([]).when({ type: 'revoke', clientId: a.clientId }).then([]);
    given([...a.redeemedHistory(), revokedByRequest(a.grantId)]).when({ type: 'revoke', clientId: a.clientId }).then([]);
  });

  test('a grant revoked by request refuses its code like any revoked grant', () => {
    const a = authorization({ pkce: false });
    given([a.codeIssued, revokedByRequest(a.grantId)]).when(a.redeem()).then([], { error: 'invalid_grant' });
  });
});
