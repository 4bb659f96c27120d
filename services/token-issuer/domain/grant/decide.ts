import type { ClaimsRequest } from '../../../../contracts/claims.js';
import type { GrantEvent } from '../../../../contracts/events/grant.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { accept, reject, type Decision } from '../../../shared/domain/decider.js';
import { grantClientId, type GrantState, type IssuedCode, type RefreshTokenIssue } from './state.js';

/** What the tokens of a grant will be, decided (and signed) by the caller before the append. */
export interface IssuedTokens {
  accessTokenIdHash: string;
  accessTokenExpiresAt: string;
  /** Generation 0 of the refresh tokens, when the refresh policy gives one. */
  refreshToken: RefreshTokenIssue | null;
}

/** What the authorization endpoint hands out besides a code (the hybrid flow, OIDC Core §3.3). */
export interface FrontChannelIssue {
  idTokenIssued: boolean;
  accessToken: { accessTokenIdHash: string; accessTokenExpiresAt: string } | null;
}

/**
 * RFC 6749 §4.1.2, OIDC Core §3.3.2.5: an authorization code, with the hybrid flow's
 * front-channel tokens if any. The grant id is the pending request's: issuing twice for one
 * request is refused (a pending request is single use).
 */
export interface IssueCodeCommand extends Omit<IssuedCode, 'frontChannelAccessTokenIdHash' | 'responseType'> {
  type: 'issue_code';
  grantId: string;
  responseType: 'code' | 'code id_token' | 'code token' | 'code id_token token';
  frontChannel: FrontChannelIssue;
}

/** OIDC Core §3.2.2.5: the implicit flow's tokens, the whole grant at once. */
export interface GrantImplicitCommand {
  type: 'grant_implicit';
  grantId: string;
  clientId: string;
  sub: string;
  sessionId: string;
  redirectUri: string;
  responseType: 'id_token' | 'id_token token';
  scope: string;
  authTime: number;
  acr: string;
  amr: string[];
  accessToken: FrontChannelIssue['accessToken'];
  claims?: ClaimsRequest;
  claimsLocales?: string[];
}

export interface RedeemCodeCommand {
  type: 'redeem_code';
  /** SHA-256 of the secret half of the presented code. */
  codeHash: string;
  clientId: string;
  redirectUri: string | undefined;
  /** BASE64URL(SHA-256(code_verifier)) when a verifier was sent (RFC 7636 §4.6). */
  codeVerifierS256: string | undefined;
  now: Date;
  tokens: IssuedTokens;
}

/** RFC 6749 §4.4: a new grant of its own to an authenticated confidential client. */
export interface GrantClientCredentialsCommand {
  type: 'grant_client_credentials';
  grantId: string;
  clientId: string;
  scope: string;
  audience: string[];
  tokens: Omit<IssuedTokens, 'refreshToken'>;
}

/** RFC 6749 §4.3: a new grant for a user whose password authn has just checked. */
export interface GrantPasswordCommand {
  type: 'grant_password';
  grantId: string;
  clientId: string;
  sub: string;
  scope: string;
  audience: string[];
  authentication: { authTime: number; acr: string; amr: string[] };
  tokens: IssuedTokens;
}

/** A revocation request of the client the grant belongs to (RFC 7009 §2.1). */
export interface RevokeCommand {
  type: 'revoke';
  clientId: string;
}

/** A rotated refresh token of this grant came back outside any grace window (RFC 9700 §4.14.2). */
export interface DetectRefreshReuseCommand {
  type: 'detect_refresh_reuse';
  clientId: string;
  generation: number;
}

export type GrantCommand =
  | IssueCodeCommand
  | GrantImplicitCommand
  | RedeemCodeCommand
  | GrantClientCredentialsCommand
  | GrantPasswordCommand
  | RevokeCommand
  | DetectRefreshReuseCommand;

/** The pending authorization request's grant exists: the request was completed already. */
const alreadyCompleted = () =>
  new OAuthError('invalid_request', 'this authorization request was already completed; start again', { mayRedirect: false });

const invalidGrant = (detail: string) =>
  new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used', { detail });

export function decideGrant(command: GrantCommand, state: GrantState): Decision<GrantEvent> {
  switch (command.type) {
    case 'issue_code': {
      if (state.status !== 'none') return reject(alreadyCompleted());
      const { type: _type, ...data } = command;
      return accept({ type: 'authorization_code.issued', schemaVersion: 2, data });
    }
    case 'grant_implicit': {
      if (state.status !== 'none') return reject(alreadyCompleted());
      const { type: _type, ...data } = command;
      return accept({ type: 'implicit.granted', schemaVersion: 1, data });
    }
    case 'redeem_code':
      return redeem(command, state);
    case 'grant_client_credentials': {
      // Grant ids are fresh random UUIDs: an existing stream is a bug, never a client's doing.
      if (state.status !== 'none') throw new Error(`grant ${command.grantId} already exists`);
      const { type: _type, tokens, ...data } = command;
      return accept({ type: 'client_credentials.granted', schemaVersion: 1, data: { ...data, ...tokens } });
    }
    case 'grant_password': {
      if (state.status !== 'none') throw new Error(`grant ${command.grantId} already exists`);
      const { type: _type, tokens, authentication, ...data } = command;
      return accept({
        type: 'password.granted',
        schemaVersion: 1,
        data: {
          ...data,
          ...authentication,
          ...tokens,
          // OIDC Core §3.1.3.3 by analogy: an ID token when openid was granted.
          idTokenIssued: command.scope.split(' ').includes('openid'),
        },
      });
    }
    case 'revoke':
      return revoke(command, state);
    case 'detect_refresh_reuse':
      // Revoked already (by an earlier detection, say): nothing more to record.
      if (state.status === 'none' || state.revocation !== null) return accept();
      return accept(
        {
          type: 'refresh_token.reuse_detected',
          schemaVersion: 1,
          data: { grantId: state.grantId, generation: command.generation, clientId: command.clientId },
        },
        { type: 'grant.revoked', schemaVersion: 2, data: { grantId: state.grantId, reason: 'refresh_token_reuse' } },
      );
  }
}

/**
 * RFC 7009 §2.1-2.2: the client revokes a token of its own; the whole grant goes (access and
 * refresh tokens alike). An unknown or already revoked grant is nothing to do, and a request by
 * another client has no effect: both are a success without an event.
 */
function revoke(command: RevokeCommand, state: GrantState): Decision<GrantEvent> {
  if (state.status === 'none' || state.revocation !== null) return accept();
  if (grantClientId(state) !== command.clientId) return accept();
  return accept({ type: 'grant.revoked', schemaVersion: 2, data: { grantId: state.grantId, reason: 'revocation_request' } });
}

function redeem(command: RedeemCodeCommand, state: GrantState): Decision<GrantEvent> {
  if (state.status === 'none' || state.kind !== 'authorization_code') return reject(invalidGrant('unknown grant'));
  const { code, grantId } = state;
  // A wrong secret is a guess, not a replay: refuse without touching the grant.
  if (code.codeHash !== command.codeHash) return reject(invalidGrant('code secret does not match'));
  // RFC 6749 §4.1.3: the code was issued to this client. Checked before the replay rule: a code
  // in another client's hands is no replay by its client, and must not revoke that client's grant.
  if (code.clientId !== command.clientId) return reject(invalidGrant('code issued to another client'));
  if (state.revocation !== null) return reject(invalidGrant('grant revoked'));
  // RFC 6749 §4.1.2 and RFC 9700 §4.2.4: a code used twice revokes what it produced.
  if (state.status === 'active') {
    return reject(
      invalidGrant('authorization code replayed; grant revoked'),
      { type: 'authorization_code.replay_detected', schemaVersion: 1, data: { grantId, clientId: command.clientId } },
      { type: 'grant.revoked', schemaVersion: 1, data: { grantId, reason: 'authorization_code_replay' } },
    );
  }
  // RFC 6749 §4.1.3: for this redirect URI, in time.
  if (command.now.getTime() >= Date.parse(code.expiresAt)) return reject(invalidGrant('code expired'));
  if (command.redirectUri === undefined) {
    return reject(new OAuthError('invalid_request', 'redirect_uri is required'));
  }
  if (command.redirectUri !== code.redirectUri) return reject(invalidGrant('redirect_uri does not match'));
  // RFC 7636 §4.6; RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
  if (code.codeChallenge !== undefined) {
    if (command.codeVerifierS256 === undefined) return reject(invalidGrant('code_verifier missing'));
    if (command.codeVerifierS256 !== code.codeChallenge) return reject(invalidGrant('PKCE verification failed'));
  } else if (command.codeVerifierS256 !== undefined) {
    return reject(invalidGrant('code_verifier sent but no code_challenge was'));
  }
  return accept(
    { type: 'authorization_code.redeemed', schemaVersion: 1, data: { grantId, clientId: command.clientId } },
    {
      type: 'tokens.issued',
      schemaVersion: 2,
      data: {
        grantId,
        clientId: code.clientId,
        sub: code.sub,
        scope: code.scope,
        ...command.tokens,
        // OIDC Core §3.1.3.3: an ID token comes with the tokens when openid was granted.
        idTokenIssued: code.scope.split(' ').includes('openid'),
      },
    },
  );
}
