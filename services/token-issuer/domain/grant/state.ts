import type { ClaimsRequest } from '../../../../contracts/claims.js';

/**
 * The grant aggregate (DESIGN §3): one authorization and its token lineage. Its state is a union
 * by grant kind; every kind shares the lineage (the access tokens issued on the grant's own stream,
 * its first refresh token, its revocation). Rotations of the refresh token live on one short
 * stream per epoch (domain/refresh-token/), so the grant's own stream stays a few events long.
 *
 * The hybrid flow is an `authorization_code` grant whose code came with front-channel tokens
 * (`IssuedCode.frontChannelAccessTokenIdHash`); `implicit` grants have no code at all.
 */
export interface IssuedCode {
  clientId: string;
  sub: string;
  sessionId: string;
  redirectUri: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
  codeHash: string;
  expiresAt: string;
  authTime: number;
  acr: string;
  amr: string[];
  /** The response type the code came with (absent on codes recorded before hybrid existed: `code`). */
  responseType?: string;
  /** The access token the authorization endpoint handed out with the code (hybrid `... token`). */
  frontChannelAccessTokenIdHash?: string;
  /** OIDC Core §5.5: the `claims` request the redemption's ID token and userinfo honour. */
  claims?: ClaimsRequest;
  /** OIDC Core §5.2: the languages the claims were asked in. */
  claimsLocales?: string[];
}

/** Generation 0 of the grant's refresh tokens, as recorded when the grant first issued tokens. */
export interface RefreshTokenIssue {
  tokenHash: string;
  issuedAt: string;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
}

/** Who the grant is for, once tokens exist: what refreshing and ID tokens need. */
export interface GrantSubject {
  clientId: string;
  /** The user; for client credentials the client itself (RFC 9068 §2.2). */
  sub: string;
  /** Absent for client credentials: no user authenticated. */
  authentication?: { authTime: number; acr: string; amr: string[]; sessionId?: string };
  /** The scope granted: a refresh may ask for less, never more (RFC 6749 §6). */
  scope: string;
  audience: string[];
  /** OIDC Core §5.5, §5.2: the `claims` request of the authorization and its languages, for ID tokens and userinfo. */
  claims?: ClaimsRequest;
  claimsLocales?: string[];
}

/** Who a redeemed code's tokens are for: its user's authentication, for this issuer (no resource). */
export function codeSubject(code: IssuedCode): GrantSubject {
  return {
    clientId: code.clientId,
    sub: code.sub,
    authentication: { authTime: code.authTime, acr: code.acr, amr: code.amr, sessionId: code.sessionId },
    scope: code.scope,
    audience: [],
    ...(code.claims !== undefined ? { claims: code.claims } : {}),
    ...(code.claimsLocales !== undefined ? { claimsLocales: code.claimsLocales } : {}),
  };
}

export interface Lineage {
  /** SHA-256 of the secret half of each access token's `jti` issued on this stream. */
  accessTokenIdHashes: string[];
  refreshToken: RefreshTokenIssue | null;
}

export type Revocation = { reason: string } | null;

export type GrantState =
  | { status: 'none' }
  | { kind: 'authorization_code'; status: 'code_issued'; grantId: string; code: IssuedCode; revocation: Revocation }
  | {
      kind: 'authorization_code';
      status: 'active';
      grantId: string;
      code: IssuedCode;
      subject: GrantSubject;
      lineage: Lineage;
      revocation: Revocation;
    }
  | { kind: 'client_credentials' | 'password' | 'implicit'; status: 'active'; grantId: string; subject: GrantSubject; lineage: Lineage; revocation: Revocation };

export type ExistingGrant = Exclude<GrantState, { status: 'none' }>;
/** A grant that issued tokens: what a refresh, a revocation and an introspection look at. */
export type GrantWithTokens = Extract<GrantState, { status: 'active' }>;

export const initialGrantState = (): GrantState => ({ status: 'none' });

export function isRevoked(state: GrantState): boolean {
  return state.status !== 'none' && state.revocation !== null;
}

/** The client the grant belongs to, whatever its kind. */
export function grantClientId(state: ExistingGrant): string {
  return state.status === 'code_issued' ? state.code.clientId : state.subject.clientId;
}
