import { SignJWT } from 'jose';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import type { IntrospectionResponse } from '../../../contracts/messages/token-issuer.js';
import { verifyAccessToken } from './access-token.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Token introspection (RFC 7662 §2). Only access tokens exist today (refresh tokens come with
 * their grant), so `token_type_hint` (§2.1) changes nothing: the server looks the token up
 * whatever the hint says. An expired, revoked, foreign or garbage token is `{ active: false }`,
 * and so is a token the caller may not learn about (§4: "the authorization server MAY respond
 * differently to different protected resources"): only the client it was issued to, or a
 * resource server named in its audience, sees it as active.
 */
export async function introspectToken(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  caller: ClientView,
  token: string,
  format: 'json' | 'jwt' = 'json',
): Promise<{ response: IntrospectionResponse; jwt?: string }> {
  const response = await answerFor(deps, ctx, caller, token);
  return format === 'jwt' ? { response, jwt: await signedAnswer(deps, ctx, caller, response) } : { response };
}

/**
 * RFC 9701 §5: the answer as a JWT signed by the authorization server (RS256, its default when
 * the client registered no `introspection_signed_response_alg`), addressed to the caller.
 */
async function signedAnswer(deps: TokenIssuerDeps, ctx: RequestContext, caller: ClientView, response: IntrospectionResponse): Promise<string> {
  const signer = await deps.keyring.signer(ctx, 'RS256');
  return new SignJWT({ token_introspection: response })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'token-introspection+jwt' })
    .setIssuer(deps.issuer)
    .setAudience(caller.clientId)
    .setIssuedAt(Math.floor(deps.clock().getTime() / 1000))
    .sign(signer.key);
}

async function answerFor(deps: TokenIssuerDeps, ctx: RequestContext, caller: ClientView, token: string): Promise<IntrospectionResponse> {
  const verified = await verifyAccessToken(deps, ctx, token);
  if (!verified) return { active: false };
  const audience = Array.isArray(verified.aud) ? verified.aud : [verified.aud];
  if (verified.clientId !== caller.clientId && !audience.includes(caller.clientId)) return { active: false };
  return {
    active: true,
    scope: verified.scope,
    client_id: verified.clientId,
    sub: verified.sub,
    aud: verified.aud,
    iss: deps.issuer,
    exp: verified.exp,
    iat: verified.iat,
    token_type: 'Bearer',
    jti: verified.jti,
  };
}
