import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { RequestOf } from '../../../contracts/messages/define.js';
import type { IssueCode } from '../../../contracts/messages/token-issuer.js';
import { randomSecret, sha256Hex } from '../../../infra/crypto/secrets.js';
import type { TokenIssuerDeps } from './token-issuer.deps.js';
import { decideOnGrant } from './grant-stream.js';

/**
 * Starts a grant with its authorization code (RFC 6749 §4.1.2). The code is `<grant id>.<secret>`
 * and only the secret's SHA-256 is logged.
 */
export async function issueCode(deps: TokenIssuerDeps, ctx: RequestContext, request: RequestOf<typeof IssueCode>) {
  const grantId = randomUUID();
  const secret = randomSecret();
  const now = deps.clock();
  const { decision } = await decideOnGrant(deps, ctx, grantId, {
    type: 'issue_code',
    grantId,
    clientId: request.clientId,
    sub: request.session.sub,
    sessionId: request.session.sessionId,
    redirectUri: request.redirectUri,
    scope: request.scope,
    ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
    ...(request.codeChallenge !== undefined
      ? { codeChallenge: request.codeChallenge, codeChallengeMethod: 'S256' as const }
      : {}),
    codeHash: sha256Hex(secret),
    expiresAt: new Date(now.getTime() + deps.minter.lifetimes.codeSeconds * 1000).toISOString(),
    authTime: request.session.authTime,
    acr: request.session.acr,
    amr: request.session.amr,
  });
  if (decision.rejection) throw decision.rejection;
  return { code: `${grantId}.${secret}` };
}
