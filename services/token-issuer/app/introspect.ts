import { SignJWT } from 'jose';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ClientView } from '../../../contracts/messages/client-registry.js';
import type { IntrospectionResponse } from '../../../contracts/messages/token-issuer.js';
import { verifyAccessToken } from './access-token.js';
import { refusalOf } from './revocation-checks.js';
import { loadRefreshEpoch } from './grant-stream.js';
import { findRefreshToken, lineageBegan } from './refresh-token-lookup.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

/**
 * Token introspection (RFC 7662 §2) of an access token or a refresh token; `token_type_hint`
 * (§2.1) says which to try first. An expired, revoked, rotated, foreign or garbage token is
 * `{ active: false }`, and so is a token the caller may not learn about (§4: "the authorization
 * server MAY respond differently to different protected resources"): only the client it was
 * issued to, or a resource server named in an access token's audience, sees it as active.
 */
export async function introspectToken(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  caller: ClientView,
  token: string,
  format: 'json' | 'jwt' = 'json',
  tokenTypeHint?: string,
): Promise<{ response: IntrospectionResponse; jwt?: string }> {
  const response = await answerFor(deps, ctx, caller, token, tokenTypeHint);
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

async function answerFor(
  deps: TokenIssuerDeps,
  ctx: RequestContext,
  caller: ClientView,
  token: string,
  hint: string | undefined,
): Promise<IntrospectionResponse> {
  // §2.1: the hint orders the lookups; a token not found as hinted is still looked up otherwise.
  const lookups = hint === 'refresh_token' ? [asRefreshToken, asAccessToken] : [asAccessToken, asRefreshToken];
  for (const lookup of lookups) {
    const answer = await lookup(deps, ctx, caller, token);
    if (answer) return answer;
  }
  return { active: false };
}

type Lookup = (deps: TokenIssuerDeps, ctx: RequestContext, caller: ClientView, token: string) => Promise<IntrospectionResponse | undefined>;

const asAccessToken: Lookup = async (deps, ctx, caller, token) => {
  const verified = await verifyAccessToken(deps, ctx, token);
  if (!verified) return undefined;
  const audience = Array.isArray(verified.aud) ? verified.aud : [verified.aud];
  // The token's own client, or a resource server it is for (RFC 7662 §4, IDP_RESOURCE_SERVERS).
  const mayLearn = verified.clientId === caller.clientId || audience.includes(caller.clientId) || deps.resourceServers.serves(caller.clientId, audience);
  if (!mayLearn) return { active: false };
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
};

/**
 * A refresh token is active while it is its lineage's current generation (not yet rotated), within
 * its idle and absolute lifetimes, its grant not revoked and not under its client's or its user's watermark.
 * Only the client it was issued to may learn about it: no resource server ever holds one.
 */
const asRefreshToken: Lookup = async (deps, ctx, caller, token) => {
  const found = await findRefreshToken(deps, ctx, token);
  if (!found) return undefined;
  const { grant, presented, issued } = found;
  const now = deps.clock().getTime();
  const absolute = grant.lineage.refreshToken?.absoluteExpiresAt;
  const exp = Math.min(Date.parse(issued.idleExpiresAt), absolute === undefined ? 0 : Date.parse(absolute));
  const iat = Math.floor(Date.parse(issued.issuedAt) / 1000);
  if (grant.subject.clientId !== caller.clientId || grant.revocation !== null || now >= exp) return { active: false };
  if ((await loadRefreshEpoch(deps, ctx, grant.grantId, presented.generation)).status !== 'unused') return { active: false };
  if (await refusalOf(deps, ctx, { clientId: caller.clientId, user: grant.subject, began: lineageBegan(grant) })) return { active: false };
  const audience = grant.subject.audience.length > 0 ? grant.subject.audience : [deps.issuer];
  return {
    active: true,
    scope: grant.subject.scope,
    client_id: grant.subject.clientId,
    sub: grant.subject.sub,
    aud: audience.length === 1 ? audience[0]! : audience,
    iss: deps.issuer,
    exp: Math.floor(exp / 1000),
    iat,
    token_type: 'refresh_token',
    jti: `${grant.grantId}.${presented.generation}`,
  };
};
