import type { CookieJar, HttpClient } from '../http.js';

/**
 * The servers under test: our embedded server, node oidc-provider, our distributed mode (the
 * four services as processes over NATS, Redis and JetStream, all on the server core), and the
 * floor (floor-main.ts: the least work a scenario takes with our guarantees, nothing else).
 */
export type TargetName = 'ours' | 'oidc-provider' | 'ours-distributed' | 'floor';

export interface BenchUser {
  username: string;
  password: string;
}

export interface BenchClient {
  clientId: string;
  /** Absent for the public (PKCE) client. */
  clientSecret?: string;
}

export interface AuthorizationParams {
  client: BenchClient;
  scope: string;
  state: string;
  codeChallenge: string;
  prompt?: string;
}

export interface Target {
  name: TargetName;
  issuer: string;
  /** The server's processes (one, or a deployment's several): their CPU time is reported per request. */
  pids(): number[];
  tokenEndpoint: string;
  introspectionEndpoint: string;
  /** The grant types its discovery document advertises. */
  grantTypes: ReadonlySet<string>;
  redirectUri: string;
  clients: {
    /** client_credentials, client_secret_basic; undefined when the grant is not available. */
    machine: BenchClient | undefined;
    /** Confidential web client: authorization_code (+ refresh_token when available). */
    web: BenchClient;
    /** Public client (token_endpoint_auth_method none, PKCE). */
    spa: BenchClient;
  };
  /** Why a scenario cannot run against this target, or undefined when it can. */
  unavailable(grantType: string): string | undefined;
  /**
   * The browser part of a code flow in `jar` (a fresh one is a fresh browser): from the
   * authorization request through the login form (and consent, where asked) to the redirect;
   * returns the code.
   */
  authorize(http: HttpClient, jar: CookieJar, user: BenchUser, params: AuthorizationParams): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

export const REDIRECT_URI = 'https://rp.example.test/cb';

/** Discovery's grant_types_supported (RFC 8414 §2: absent means authorization_code and implicit). */
export function advertisedGrantTypes(discovery: { grant_types_supported?: string[] }): Set<string> {
  return new Set(discovery.grant_types_supported ?? ['authorization_code', 'implicit']);
}

/** The code (and the state it came back with) from a redirect to the client. */
export function codeFromRedirect(location: string | undefined, state: string): string {
  if (!location) throw new Error('no Location in the final redirect');
  const url = new URL(location, 'https://invalid.invalid');
  if (!location.startsWith(REDIRECT_URI)) throw new Error(`redirected to ${location.slice(0, 200)}, not the client`);
  const error = url.searchParams.get('error');
  if (error) throw new Error(`authorization error ${error}: ${url.searchParams.get('error_description') ?? ''}`);
  if (url.searchParams.get('state') !== state) throw new Error('state did not round-trip');
  const code = url.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location.slice(0, 200)}`);
  return code;
}
