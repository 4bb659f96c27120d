import { basicAuth, expectStatus, jsonOf, type HttpClient } from '../http.js';
import { closedLoop } from '../load.js';
import type { BenchUser, Target } from '../targets/target.js';
import { codeFlow, requestLoad, type Scenario, type TokenResponse } from './scenario.js';

/**
 * A refresh token lineage: the latest refresh token of one authorization. Each refresh rotates
 * it (oidc-provider with rotateRefreshToken; ours always), so the next request must use the new one.
 */
export class Lineage {
  private constructor(
    private readonly target: Target,
    private readonly authorization: string,
    private latest: string,
  ) {}

  /** A new lineage: a code flow of the web client with offline_access (OIDC Core §11: prompt=consent). */
  static async start(target: Target, http: HttpClient, user: BenchUser): Promise<Lineage> {
    const client = target.clients.web;
    const tokens = await codeFlow(target, http, user, client, { scope: 'openid offline_access', prompt: 'consent' });
    if (!tokens.refresh_token) throw new Error('the code flow with offline_access gave no refresh_token');
    return new Lineage(target, basicAuth(client.clientId, client.clientSecret!), tokens.refresh_token);
  }

  /** One refresh (RFC 6749 §6) with the latest refresh token; keeps the rotated one. */
  async refresh(http: HttpClient): Promise<void> {
    const response = await http.request(this.target.tokenEndpoint, {
      form: { grant_type: 'refresh_token', refresh_token: this.latest },
      headers: { authorization: this.authorization },
    });
    expectStatus(response, 200, 'refresh');
    const tokens = jsonOf<TokenResponse>(response);
    if (!tokens.access_token) throw new Error('no access_token');
    if (tokens.refresh_token) this.latest = tokens.refresh_token;
  }
}

export const refresh: Scenario = {
  id: 'refresh',
  title: 'refresh with rotation (one worker per lineage)',
  unit: 'request',
  needsGrant: 'refresh_token',
  async run(target, { http, options, users }) {
    const lineages: Lineage[] = [];
    for (let i = 0; i < options.lineages; i++) lineages.push(await Lineage.start(target, http, users[i % users.length]!));
    return closedLoop({ ...requestLoad(options, options.lineages), serverPids: target.pids() }, ({ worker }) => lineages[worker]!.refresh(http));
  },
};
