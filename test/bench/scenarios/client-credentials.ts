import { basicAuth, expectStatus, jsonOf } from '../http.js';
import { closedLoop } from '../load.js';
import { requestLoad, type Scenario, type TokenResponse } from './scenario.js';

/** RFC 6749 §4.4: POST /token grant_type=client_credentials, client_secret_basic. */
export const clientCredentials: Scenario = {
  id: 'client-credentials',
  title: 'client credentials (POST /token, client_secret_basic)',
  unit: 'request',
  needsGrant: 'client_credentials',
  async run(target, { http, options }) {
    const client = target.clients.machine;
    if (!client?.clientSecret) throw new Error('no client_credentials client was registered');
    const authorization = basicAuth(client.clientId, client.clientSecret);
    return closedLoop({ ...requestLoad(options), serverPids: target.pids() }, async () => {
      const response = await http.request(target.tokenEndpoint, { form: { grant_type: 'client_credentials' }, headers: { authorization } });
      expectStatus(response, 200, 'client credentials');
      if (!jsonOf<TokenResponse>(response).access_token) throw new Error('no access_token');
    });
  },
};
