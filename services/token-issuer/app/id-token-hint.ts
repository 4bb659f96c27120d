import { compactVerify, decodeProtectedHeader } from 'jose';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { ReplyOf } from '../../../contracts/messages/define.js';
import type { VerifyIdTokenHint } from '../../../contracts/messages/token-issuer.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';

type HintReply = ReplyOf<typeof VerifyIdTokenHint>;
const INVALID: HintReply = { valid: false };

/**
 * RP-Initiated Logout 1.0 §2 `id_token_hint`: an ID token this OP issued, "previously issued by
 * the OP to the RP": its signature must verify against our own keys (RS256, or ES256 for a client
 * that registered it), its issuer must be us. Its expiry is not enforced: an RP logs a user out with the ID token it
 * holds, expired or not (§4). The client it was issued to is `azp`, else its single audience.
 * Anything else signed by us (access tokens: ES256 `at+jwt`; logout tokens: `logout+jwt` with
 * `events`) is no hint.
 */
export async function verifyIdTokenHint(deps: Pick<TokenIssuerDeps, 'keyring' | 'issuer'>, ctx: RequestContext, hint: string): Promise<HintReply> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(hint);
  } catch {
    return INVALID;
  }
  const alg = header.alg;
  if ((alg !== 'RS256' && alg !== 'ES256') || typeof header.kid !== 'string' || (header.typ !== undefined && header.typ !== 'JWT')) return INVALID;
  const key = await deps.keyring.publicKey(ctx, header.kid);
  if (!key || key.alg !== alg) return INVALID;
  let payload: Record<string, unknown>;
  try {
    const verified = await compactVerify(hint, key.key, { algorithms: [alg] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch {
    return INVALID;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return INVALID;
  if (payload.iss !== deps.issuer || typeof payload.sub !== 'string' || 'events' in payload) return INVALID;
  const audience = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  if (audience.length === 0 || !audience.every((a): a is string => typeof a === 'string')) return INVALID;
  // OIDC Core §2: with several audiences, azp names the party the token was issued to.
  const azp = payload.azp;
  if (azp !== undefined && (typeof azp !== 'string' || !audience.includes(azp))) return INVALID;
  if (azp === undefined && audience.length !== 1) return INVALID;
  const clientId = (azp as string | undefined) ?? audience[0]!;
  const sid = typeof payload.sid === 'string' ? payload.sid : null;
  return { valid: true, sub: payload.sub, clientId, sid };
}
