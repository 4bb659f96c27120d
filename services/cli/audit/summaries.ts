import type { LogEvent } from './log-event.js';

/**
 * A short human summary of one event for the audit timeline, written from the event's
 * allow-listed data only (contracts/events/published.ts), so that no hash of a secret, no sealed
 * blob and no key material can reach it. An event type without its own line gets its published
 * fields.
 */
type Data = Readonly<Record<string, unknown>>;
type Summary = (data: Data, event: LogEvent) => string;

const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '-' : JSON.stringify(value));
const quoted = (value: unknown) => `"${str(value)}"`;
const via = (data: Data) => (typeof data.clientId === 'string' ? ` via client ${data.clientId}` : '');
const obj = (value: unknown): Data => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : {});
const list = (value: unknown) => (Array.isArray(value) ? value.map(str).join(' ') : str(value));

const refreshPart = (data: Data) => {
  const refresh = obj(data.refreshToken);
  return data.refreshToken ? `, refresh token (idle until ${str(refresh.idleExpiresAt)}, at most until ${str(refresh.absoluteExpiresAt)})` : '';
};
const idTokenPart = (data: Data) => (data.idTokenIssued === true ? ', ID token' : '');

const SUMMARIES: Readonly<Record<string, Summary>> = {
  'user.registered': (d) => `user ${str(d.sub)} registered`,
  'username.claimed': (d) => `username claimed by user ${str(d.sub)}`,
  'user.password_rehashed': () => 'password rehashed with the current argon2id parameters',
  'user.password_set': () => 'password set by an administrator',
  'user.disabled': (d) => `user disabled at ${str(d.disabledAt)}${d.reason ? ` (${str(d.reason)})` : ''}: every token issued until then revoked`,
  'user.enabled': (d) => `user enabled at ${str(d.enabledAt)} (older tokens stay revoked)`,
  'user.forgotten': (d) => `user forgotten at ${str(d.forgottenAt)}: data key destroyed, every token revoked`,
  'authentication.succeeded': (d) => `login succeeded (${str(d.method)})${via(d)}`,
  'authentication.failed': (d) => `login failed: ${str(d.reason)}${via(d)}`,
  'session.started': (d) => `session ${str(d.sessionId)} started (acr ${str(d.acr)}, amr ${list(d.amr)}), expires ${str(d.expiresAt)}`,
  'session.ended': (d) => `session ${str(d.sessionId)} ended: ${str(d.reason)}${d.clientId ? ` (asked by client ${str(d.clientId)})` : ''}`,
  'consent.granted': (d) => `consent to client ${str(d.clientId)} for ${quoted(list(d.scopes))}`,
  'authorization_code.issued': (d) => {
    const front = obj(d.frontChannel);
    const extras = [front.idTokenIssued === true ? 'ID token' : '', front.accessToken ? `access token (expires ${str(obj(front.accessToken).accessTokenExpiresAt)})` : '']
      .filter(Boolean)
      .join(', ');
    return `code issued to client ${str(d.clientId)} for ${quoted(d.scope)} (${str(d.responseType ?? 'code')}, session ${str(d.sessionId)})${extras ? ` with ${extras}` : ''}`;
  },
  'implicit.granted': (d) =>
    `implicit grant to client ${str(d.clientId)} for ${quoted(d.scope)} (${str(d.responseType)})${d.accessToken ? `: access token expires ${str(obj(d.accessToken).accessTokenExpiresAt)}` : ''}`,
  'authorization_code.redeemed': (d) => `code redeemed by client ${str(d.clientId)}`,
  'authorization_code.replay_detected': (d) => `code presented again by client ${str(d.clientId)}: replay, the grant is revoked`,
  'tokens.issued': (d) =>
    `tokens to client ${str(d.clientId)} for ${quoted(d.scope)}: access token (expires ${str(d.accessTokenExpiresAt)})${refreshPart(d)}${idTokenPart(d)}`,
  'client_credentials.granted': (d) =>
    `client credentials: access token to client ${str(d.clientId)} for ${quoted(d.scope)}, audience ${list(d.audience)} (expires ${str(d.accessTokenExpiresAt)})`,
  'password.granted': (d) =>
    `password grant: tokens to client ${str(d.clientId)} for ${quoted(d.scope)}: access token (expires ${str(d.accessTokenExpiresAt)})${refreshPart(d)}${idTokenPart(d)}`,
  'refresh_token.rotated': (d) =>
    `refresh token generation ${str(d.generation)} used by client ${str(d.clientId)}: rotated to generation ${str(obj(d.successor).generation)}, access token for ${quoted(d.scope)} (expires ${str(d.accessTokenExpiresAt)})`,
  'refresh_token.rotation_repeated': (d) =>
    `refresh token generation ${str(d.generation)} presented again inside the grace window: same successor, new access token (expires ${str(d.accessTokenExpiresAt)})`,
  'refresh_token.reuse_detected': (d) => `refresh token generation ${str(d.generation)} reused by client ${str(d.clientId)}: the lineage is revoked`,
  'grant.revoked': (d) => `grant ${str(d.grantId)} revoked: ${str(d.reason)}`,
  'client.registered': (d) =>
    `client ${str(d.clientId)} registered${d.clientName ? ` (${quoted(d.clientName)})` : ''}: ${list(d.grantTypes)}, ${str(d.tokenEndpointAuthMethod)}, scope ${quoted(d.scope)}${d.authorizedBy ? `, by ${str(d.authorizedBy)}` : ''}`,
  'client.metadata_updated': (d) => `client ${str(d.clientId)} metadata replaced: ${list(d.grantTypes)}, scope ${quoted(d.scope)}`,
  'client.secret_rotated': (d) => `client ${str(d.clientId)} secret rotated (the old one stops working)`,
  'client.tokens_revoked': (d) => `every token of client ${str(d.clientId)} issued until ${str(d.revokedAt)} revoked (watermark)`,
  'client.deleted': (d) => `client ${str(d.clientId)} deleted at ${str(d.deletedAt)}: every token of it revoked`,
  'signing_key.generated': (d) => `signing key ${str(d.kid)} (${str(d.alg)}) generated${d.activatesAt ? `, signs from ${str(d.activatesAt)}` : ''}`,
  'signing_key.revoked': (d) => `signing key ${str(d.kid)} revoked (${str(d.reason)}): what it signed is refused`,
  'backchannel_logout.attempt_started': (d) => `back-channel logout of session ${str(d.sessionId)} to client ${str(d.clientId)}: attempt ${str(d.attempt)}`,
  'backchannel_logout.delivered': (d) => `back-channel logout delivered to client ${str(d.clientId)} (HTTP ${str(d.status)})`,
  'backchannel_logout.failed': (d) => `back-channel logout to client ${str(d.clientId)} failed: ${str(d.error ?? d.status)}`,
  'backchannel_logout.abandoned': (d) => `back-channel logout to client ${str(d.clientId)} abandoned after ${str(d.attempts)} attempts: ${str(d.reason)}`,
};

export function summarize(event: LogEvent): string {
  const summary = Object.hasOwn(SUMMARIES, event.type) ? SUMMARIES[event.type] : undefined;
  if (summary) return summary(event.published, event);
  const fields = Object.entries(event.published).map(([key, value]) => `${key}=${str(value)}`);
  return fields.length > 0 ? fields.join(' ') : event.type;
}
