import { expectStatus, jsonOf, type HttpClient } from '../http.js';
import { authorizationUrl, hiddenInput, runBrowserFlow, type PageAnswer } from './browser-flow.js';
import { advertisedGrantTypes, REDIRECT_URI, type BenchClient, type Target, type TargetName } from './target.js';

const LOGIN_FORM = /<form\b[^>]*\baction="\/authorize\/login"/i;
const CONSENT_FORM = /<form\b[^>]*\baction="\/authorize\/consent"/i;

/** A running deployment of ours (embedded or distributed), before its clients are registered. */
export interface OursDeployment {
  name: Extract<TargetName, 'ours' | 'ours-distributed'>;
  issuer: string;
  /** The bearer token dynamic registration takes (IDP_INITIAL_ACCESS_TOKEN). */
  initialAccessToken: string;
  pids(): number[];
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Our server as a bench target, whichever the mode: the bench's clients registered through
 * dynamic registration behind the initial access token, as an operator would, and the browser
 * part of a code flow through our login and consent forms. Stops the deployment if that fails.
 */
export async function oursTarget(deployment: OursDeployment, http: HttpClient): Promise<Target> {
  const { issuer, initialAccessToken } = deployment;
  try {
    const discovery = await http.request(`${issuer}/.well-known/openid-configuration`);
    expectStatus(discovery, 200, 'discovery');
    const grantTypes = advertisedGrantTypes(jsonOf(discovery));
    const algs = jsonOf<{ id_token_signing_alg_values_supported?: string[] }>(discovery).id_token_signing_alg_values_supported ?? [];
    const register = async (metadata: Record<string, unknown>): Promise<BenchClient> => {
      const response = await http.request(`${issuer}/register`, { json: metadata, headers: { authorization: `Bearer ${initialAccessToken}` } });
      expectStatus(response, 201, `registration of ${JSON.stringify(metadata)}`);
      const client = jsonOf<{ client_id: string; client_secret?: string }>(response);
      return { clientId: client.client_id, ...(client.client_secret !== undefined ? { clientSecret: client.client_secret } : {}) };
    };
    const refresh = grantTypes.has('refresh_token');
    // Both clients have their ID tokens signed ES256 where the discovery offers it (issue 12:
    // "ES256 rather than RS256 where the client allows"); RS256 stays every client's default.
    const es256IdTokens = algs.includes('ES256') ? { id_token_signed_response_alg: 'ES256' } : {};
    const web = await register({
      client_name: 'bench web',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
      scope: refresh ? 'openid offline_access' : 'openid',
      ...es256IdTokens,
    });
    const spa = await register({ client_name: 'bench spa', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', ...es256IdTokens });
    const machine = grantTypes.has('client_credentials')
      ? await register({ client_name: 'bench machine', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' })
      : undefined;

    return {
      name: deployment.name,
      issuer,
      pids: deployment.pids,
      tokenEndpoint: `${issuer}/token`,
      introspectionEndpoint: `${issuer}/introspect`,
      grantTypes,
      redirectUri: REDIRECT_URI,
      clients: { machine, web, spa },
      unavailable: (grantType) =>
        grantTypes.has(grantType) ? undefined : `${grantType} is not in our discovery's grant_types_supported yet`,
      authorize(http, jar, user, params) {
        const url = authorizationUrl(`${issuer}/authorize`, params);
        return runBrowserFlow(http, jar, url, params.state, (page, at): ReturnType<PageAnswer> => {
          const rid = hiddenInput(page.body, 'rid');
          if (rid === undefined) return undefined;
          if (LOGIN_FORM.test(page.body)) {
            return { url: new URL('/authorize/login', at), form: { rid, username: user.username, password: user.password } };
          }
          if (CONSENT_FORM.test(page.body)) return { url: new URL('/authorize/consent', at), form: { rid, decision: 'allow' } };
          return undefined;
        });
      },
      logs: deployment.logs,
      stop: deployment.stop,
    };
  } catch (error) {
    await deployment.stop();
    throw error;
  }
}
