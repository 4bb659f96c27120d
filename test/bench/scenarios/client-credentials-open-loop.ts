import { basicAuth, expectStatus, HttpClient, jsonOf } from '../http.js';
import { openLoop } from '../open-loop.js';
import type { Scenario, TokenResponse } from './scenario.js';

/** Issue 12: client credentials at a fixed 2,000 requests/s, open loop; the target is p99 ≤ 10 ms and no error. */
export const OPEN_LOOP_RATE = 2000;

export const clientCredentialsOpenLoop: Scenario = {
  id: 'client-credentials-open-loop',
  title: `client credentials at a fixed open-loop ${OPEN_LOOP_RATE} requests/s`,
  unit: 'request',
  needsGrant: 'client_credentials',
  async run(target) {
    const client = target.clients.machine;
    if (!client?.clientSecret) throw new Error('no client_credentials client was registered');
    const authorization = basicAuth(client.clientId, client.clientSecret);
    // Its own sockets: an open loop may have many requests open at once.
    const http = new HttpClient(256);
    try {
      return await openLoop({ rate: OPEN_LOOP_RATE, seconds: 5, warmupSeconds: 1, maxInFlight: 256 }, async () => {
        const response = await http.request(target.tokenEndpoint, { form: { grant_type: 'client_credentials' }, headers: { authorization } });
        expectStatus(response, 200, 'client credentials');
        if (!jsonOf<TokenResponse>(response).access_token) throw new Error('no access_token');
      });
    } finally {
      http.close();
    }
  },
};
