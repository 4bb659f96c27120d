import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import { scopeTokens, USER_SCOPES } from '../../../../contracts/scopes.js';

/**
 * RFC 6749 §3.3: the scope of a token request, checked against the client's registered `scope`.
 * Absent: the registered scope (minus user scopes when no user takes part). A scope the client did
 * not register, or a user scope without a user, is `invalid_scope`.
 */
export function grantedScope(client: Pick<ClientView, 'scope'>, requested: string | undefined, options: { user: boolean }): string {
  const registered = client.scope.split(' ').filter(Boolean);
  const allowed = new Set(options.user ? registered : registered.filter((scope) => !USER_SCOPES.includes(scope)));
  if (requested === undefined) return [...allowed].join(' ');
  const asked = scopeTokens(requested);
  for (const scope of asked) {
    if (!options.user && USER_SCOPES.includes(scope)) throw new OAuthError('invalid_scope', `scope ${scope} needs a user`);
    if (!allowed.has(scope)) throw new OAuthError('invalid_scope', `the client may not request scope ${scope}`);
  }
  return asked.join(' ');
}
