import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';

/**
 * A tiny relying party for real-browser tests: an HTTP server on 127.0.0.1 that registers itself
 * at the IdP (RFC 7591, a public client with PKCE), sends the browser to the authorization
 * endpoint from its login link, redeems the code it gets back with openid-client (code + PKCE,
 * state and nonce checked, ID token verified) and shows the ID token's `sub` on its page.
 * The callback answers GET (query) and POST (`response_mode=form_post`). Its signed-in page links
 * to RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at the IdP's
 * end_session_endpoint, with the ID token as hint or (to make the IdP ask the user) only the
 * client_id; with the hint the IdP sends the browser back to the registered
 * post_logout_redirect_uri with the RP's state.
 */

export type ResponseMode = 'query' | 'form_post';

export interface SignIn {
  /** How the authorization response arrived: GET with a query, or a POSTed form. */
  method: 'GET' | 'POST';
  responseMode: ResponseMode;
  sub: string;
  idToken: string;
  claims: client.IDToken;
  userinfo: client.UserInfoResponse;
}

export interface RelyingParty {
  /** http://127.0.0.1:<port> */
  origin: string;
  redirectUri: string;
  clientId: string;
  config: client.Configuration;
  /** Sign-ins completed at the callback, in order. */
  signIns: SignIn[];
  /** Callback errors (what openid-client refused), in order. */
  failures: string[];
  /** Returns to the post_logout_redirect_uri with a state this RP sent, in order. */
  signOuts: Array<{ state: string }>;
  postLogoutRedirectUri: string;
  stop(): Promise<void>;
}

interface Pending {
  codeVerifier: string;
  nonce: string;
  responseMode: ResponseMode;
}

const SCOPE = 'openid profile';
const MAX_BODY_BYTES = 64 * 1024;

export async function startRelyingParty(issuer: string, options: { clientName?: string } = {}): Promise<RelyingParty> {
  const pending = new Map<string, Pending>();
  const signIns: SignIn[] = [];
  const failures: string[] = [];
  const signOuts: Array<{ state: string }> = [];
  const pendingLogouts = new Set<string>();
  let config: client.Configuration | undefined;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      failures.push(String(error));
      if (!response.headersSent) send(response, 500, page('RP error', `<p>${escape(String(error))}</p>`));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', origin);
    if (request.method === 'GET' && url.pathname === '/') {
      return send(
        response,
        200,
        page(
          'Relying party',
          `<h1>Relying party</h1>
<p><a href="/login">Sign in</a></p>
<p><a href="/login?response_mode=form_post">Sign in with form_post</a></p>`,
        ),
      );
    }
    if (request.method === 'GET' && url.pathname === '/login') {
      const responseMode: ResponseMode = url.searchParams.get('response_mode') === 'form_post' ? 'form_post' : 'query';
      const state = client.randomState();
      const nonce = client.randomNonce();
      const codeVerifier = client.randomPKCECodeVerifier();
      pending.set(state, { codeVerifier, nonce, responseMode });
      const params: Record<string, string> = {
        redirect_uri: redirectUri,
        scope: SCOPE,
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      };
      if (responseMode === 'form_post') params.response_mode = 'form_post';
      response.writeHead(303, { location: client.buildAuthorizationUrl(config!, params).href }).end();
      return;
    }
    if (url.pathname === '/callback' && (request.method === 'GET' || request.method === 'POST')) {
      return callback(request, response, url);
    }
    if (request.method === 'GET' && url.pathname === '/logout') return logout(response, url);
    if (request.method === 'GET' && url.pathname === '/signed-out') {
      const state = url.searchParams.get('state') ?? '';
      if (!pendingLogouts.delete(state)) {
        failures.push(`post-logout return with an unknown state: ${url.search}`);
        return send(response, 400, page('RP error', '<p>Unknown or used logout state</p>'));
      }
      signOuts.push({ state });
      return send(response, 200, page('Signed out', '<h1>Signed out</h1><p><output id="signed-out">signed out</output></p>'));
    }
    send(response, 404, page('Not found', '<p>Not found</p>'));
  }

  async function callback(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method as 'GET' | 'POST';
    const body = method === 'POST' ? await readBody(request) : '';
    const params = method === 'POST' ? new URLSearchParams(body) : url.searchParams;
    const state = params.get('state') ?? '';
    const transaction = pending.get(state);
    if (!transaction) {
      failures.push(`callback with an unknown state: ${url.search || body}`);
      return send(response, 400, page('RP error', '<p>Unknown or used state</p>'));
    }
    pending.delete(state);
    // openid-client reads a form_post response from the POST request itself.
    const current =
      method === 'POST'
        ? new Request(url, { method: 'POST', headers: { 'content-type': String(request.headers['content-type'] ?? '') }, body })
        : url;
    try {
      const tokens = await client.authorizationCodeGrant(config!, current, {
        pkceCodeVerifier: transaction.codeVerifier,
        expectedState: state,
        expectedNonce: transaction.nonce,
      });
      const claims = tokens.claims()!;
      const userinfo = await client.fetchUserInfo(config!, tokens.access_token, claims.sub);
      signIns.push({ method, responseMode: transaction.responseMode, sub: claims.sub, idToken: tokens.id_token!, claims, userinfo });
      send(
        response,
        200,
        page(
          'Signed in',
          `<h1>Signed in</h1>
<p>sub: <output id="sub">${escape(claims.sub)}</output></p>
<p>user: <output id="user">${escape(String(userinfo.preferred_username ?? ''))}</output></p>
<p><a href="/logout?signin=${signIns.length - 1}">Sign out</a></p>
<p><a href="/logout?signin=${signIns.length - 1}&amp;hint=none">Sign out without a hint</a></p>`,
        ),
      );
    } catch (error) {
      failures.push(`${method} ${url.pathname}: ${String(error)}`);
      send(response, 400, page('RP error', `<p id="error">${escape(String(error))}</p>`));
    }
  }

  /** RP-Initiated Logout §2: to the end_session_endpoint, with the sign-in's ID token as hint unless `hint=none`. */
  function logout(response: ServerResponse, url: URL): void {
    const signIn = signIns[Number(url.searchParams.get('signin'))];
    if (!signIn) return send(response, 404, page('Not found', '<p>No such sign-in</p>'));
    const state = client.randomState();
    pendingLogouts.add(state);
    const params: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, state };
    if (url.searchParams.get('hint') === 'none') params.client_id = config!.clientMetadata().client_id;
    else params.id_token_hint = signIn.idToken;
    response.writeHead(303, { location: client.buildEndSessionUrl(config!, params).href }).end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const redirectUri = `${origin}/callback`;
  const postLogoutRedirectUri = `${origin}/signed-out`;
  config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: options.clientName ?? `Browser RP ${randomBytes(3).toString('hex')}`,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutRedirectUri],
      token_endpoint_auth_method: 'none',
      scope: SCOPE,
    },
    client.None(),
    { execute: [client.allowInsecureRequests] },
  );

  return {
    origin,
    redirectUri,
    clientId: config.clientMetadata().client_id,
    config,
    signIns,
    failures,
    signOuts,
    postLogoutRedirectUri,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('callback body too large'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;
}

function escape(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
