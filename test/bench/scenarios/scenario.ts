import { createHash, randomBytes } from 'node:crypto';
import { basicAuth, CookieJar, expectStatus, jsonOf, type HttpClient } from '../http.js';
import type { LoadResult } from '../load.js';
import type { BenchOptions } from '../options.js';
import type { BenchClient, BenchUser, Target } from '../targets/target.js';

/** One scenario of the bench, run against each server in turn. */
export interface Scenario {
  id: string;
  title: string;
  /** What one measured unit is (a request, a whole browser flow). */
  unit: 'request' | 'flow';
  /** The grant type the scenario needs; a server that does not advertise it is "not available". */
  needsGrant?: string;
  run(target: Target, context: ScenarioContext): Promise<LoadResult>;
}

export interface ScenarioContext {
  http: HttpClient;
  options: BenchOptions;
  users: BenchUser[];
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  id_token?: string;
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * A whole code + PKCE flow in a fresh browser (its own cookie jar): login through the token
 * response. A confidential client authenticates with client_secret_basic, a public one sends
 * its client_id.
 */
export async function codeFlow(
  target: Target,
  http: HttpClient,
  user: BenchUser,
  client: BenchClient,
  options: { scope: string; prompt?: string } = { scope: 'openid' },
): Promise<TokenResponse> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('base64url');
  const code = await target.authorize(http, new CookieJar(), user, {
    client,
    scope: options.scope,
    state,
    codeChallenge: challenge,
    ...(options.prompt ? { prompt: options.prompt } : {}),
  });
  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: target.redirectUri, code_verifier: verifier };
  const headers: Record<string, string> = {};
  if (client.clientSecret !== undefined) headers.authorization = basicAuth(client.clientId, client.clientSecret);
  else form.client_id = client.clientId;
  const response = await http.request(target.tokenEndpoint, { form, headers });
  expectStatus(response, 200, 'code redemption');
  const tokens = jsonOf<TokenResponse>(response);
  if (options.scope.split(' ').includes('openid') && !tokens.id_token) throw new Error('no id_token in the token response');
  return tokens;
}

/**
 * Requests for request scenarios, after a warm-up of half as many (at least 1,000, on both
 * servers alike): a server's steady state, not its JIT's first seconds (with 200, the first
 * scenario of a run measured our server at two thirds of its steady rate).
 */
export function requestLoad(options: BenchOptions, concurrency = options.concurrency) {
  return {
    count: options.n,
    concurrency,
    warmup: Math.max(1000, Math.ceil(options.n / 2)),
    deadlineMs: options.deadlineSeconds * 1000,
  };
}
