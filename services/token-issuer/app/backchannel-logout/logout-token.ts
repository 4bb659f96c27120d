import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { RequestContext } from '../../../../contracts/events/metadata.js';
import type { Keyring } from '../keyring.js';

/** Back-Channel Logout 1.0 §2.4: the event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token is for immediate delivery: short-lived (§2.4 recommends a few minutes at most). */
export const LOGOUT_TOKEN_SECONDS = 120;

/**
 * Back-Channel Logout 1.0 §2.4: a JWT signed like our ID tokens (RS256, the ID token key), typed
 * `logout+jwt` (§2.4, RFC 8725 §3.11), with iss, aud (the client), iat, exp, a fresh jti, sub and
 * sid (we always know the session, so sid is always there, which covers
 * backchannel_logout_session_required), the back-channel logout event, and never a nonce.
 * Never logged, never recorded.
 */
export async function signLogoutToken(
  deps: { keyring: Keyring; issuer: string },
  ctx: RequestContext,
  claims: { clientId: string; sub: string; sessionId: string; now: Date },
): Promise<string> {
  const signer = await deps.keyring.signer(ctx, 'RS256');
  const iat = Math.floor(claims.now.getTime() / 1000);
  return new SignJWT({ sid: claims.sessionId, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'logout+jwt' })
    .setIssuer(deps.issuer)
    .setAudience(claims.clientId)
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOGOUT_TOKEN_SECONDS)
    .setJti(randomUUID())
    .sign(signer.key);
}
