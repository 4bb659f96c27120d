import { basicAuth, expectStatus, jsonOf } from '../http.js';
import { closedLoop } from '../load.js';
import { codeFlow, requestLoad, type Scenario } from './scenario.js';

/**
 * RFC 7662: POST /introspect of a live access token by the confidential client it was issued
 * to. The token comes from one code flow (available on both servers today; ours is an RFC 9068
 * JWT, oidc-provider's an opaque reference).
 */
export const introspection: Scenario = {
  id: 'introspection',
  title: 'introspection of a live access token (authenticated client)',
  unit: 'request',
  async run(target, { http, options, users }) {
    const client = target.clients.web;
    const tokens = await codeFlow(target, http, users[0]!, client, { scope: 'openid' });
    const authorization = basicAuth(client.clientId, client.clientSecret!);
    return closedLoop({ ...requestLoad(options), serverPids: target.pids() }, async () => {
      const response = await http.request(target.introspectionEndpoint, { form: { token: tokens.access_token }, headers: { authorization } });
      expectStatus(response, 200, 'introspection');
      if (jsonOf<{ active: boolean }>(response).active !== true) throw new Error('the token was not active');
    });
  },
};
