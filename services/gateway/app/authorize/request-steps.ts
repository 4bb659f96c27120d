import type { ClientView } from '../../../../contracts/messages/client-registry.js';
import { OAuthError } from '../../../../contracts/oauth-error.js';
import {
  canonicalResponseType,
  defaultResponseMode,
  issuesCode,
  issuesIdToken,
  RESPONSE_MODES,
  responseModeAllowed,
  type ResponseMode,
  type ResponseType,
} from '../../../../contracts/response-types.js';
import { parseClaimsParameter, requestedSubject } from '../../../../contracts/claims.js';
import { claimsWithinRegistration } from './claims-consent.js';
import { single, type AuthorizationRequest, type Display, type Prompt, type RawParams } from './authorization-request.js';

/**
 * The checks of an authorization request once its client and redirect URI are known, as a table
 * of named steps run in this order (RFC 6749 §4.1.1, OIDC Core §3.1.2.1-3.3.2.2). Every error
 * from here on goes back to the redirect URI, in the response mode of the request.
 *
 * A new request parameter is a new step here (and its field in AuthorizationRequest).
 */
export interface RequestStep {
  name: string;
  /** Where the rule comes from. */
  rule: string;
  run(input: StepInput, request: DraftRequest): void;
}

export interface StepInput {
  client: ClientView;
  /** A parameter's single value; a repeated or non-string one is `invalid_request`. */
  get(name: string): string | undefined;
}

export type DraftRequest = Partial<AuthorizationRequest>;

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** The pending request travels in a cookie: browsers drop cookies over 4 KB. */
const MAX_STATE_OR_NONCE = 512;
const MAX_HINT = 512;
const DISPLAYS: readonly Display[] = ['page', 'popup', 'touch', 'wap'];
/** A space-separated list of BCP 47 language tags (RFC 5646), loosely: letters, digits, hyphens. */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

export const REQUEST_STEPS: readonly RequestStep[] = [
  {
    name: 'request object',
    rule: 'OIDC Core §6: request and request_uri are not supported, and say so with their own errors',
    run({ get }) {
      if (get('request') !== undefined) throw new OAuthError('request_not_supported', 'request objects are not supported');
      if (get('request_uri') !== undefined) throw new OAuthError('request_uri_not_supported', 'request_uri is not supported');
    },
  },
  {
    name: 'response type',
    rule: 'RFC 6749 §3.1.1, Multiple Response Types §3-5: one of the supported sets, and registered by the client',
    run({ get, client }, request) {
      const raw = get('response_type');
      if (raw === undefined) throw new OAuthError('invalid_request', 'response_type is required');
      const type = canonicalResponseType(raw);
      if (type === undefined) throw new OAuthError('unsupported_response_type', `response_type ${raw} is not supported`);
      // Token-returning types are opt-in: a client gets only what it registered.
      if (!client.responseTypes.some((registered) => canonicalResponseType(registered) === type)) {
        throw new OAuthError('unauthorized_client', `the client may not use response_type ${type}`);
      }
      request.responseType = type;
    },
  },
  {
    name: 'response mode',
    rule: 'Multiple Response Types §2.1, Form Post Response Mode: query, fragment or form_post; never tokens in the query',
    run({ get }, request) {
      request.responseMode = responseModeOf(get('response_mode'), request.responseType!);
    },
  },
  {
    name: 'scope',
    rule: 'RFC 6749 §3.3: required, each scope registered by the client; OIDC Core §3.1.2.1: openid for ID tokens',
    run({ get, client }, request) {
      const scopes = [...new Set((get('scope') ?? '').split(' ').filter(Boolean))];
      if (scopes.length === 0) throw new OAuthError('invalid_scope', 'scope is required');
      const allowed = client.scope.split(' ');
      const notAllowed = scopes.find((s) => !allowed.includes(s));
      if (notAllowed !== undefined) throw new OAuthError('invalid_scope', `scope ${notAllowed} is not allowed for this client`);
      if (issuesIdToken(request.responseType!) && !scopes.includes('openid')) {
        throw new OAuthError('invalid_scope', `response_type ${request.responseType} needs the openid scope`);
      }
      request.scope = scopes.join(' ');
    },
  },
  {
    name: 'PKCE',
    rule: 'RFC 7636, RFC 9700 §2.1.1: S256 only; public clients must use it for a code',
    run({ get, client }, request) {
      const codeChallenge = get('code_challenge');
      const method = get('code_challenge_method');
      if (codeChallenge !== undefined) {
        if (!issuesCode(request.responseType!)) throw new OAuthError('invalid_request', 'code_challenge without a code in the response type');
        if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
        if (!CODE_CHALLENGE.test(codeChallenge)) throw new OAuthError('invalid_request', 'code_challenge is malformed');
        request.codeChallenge = codeChallenge;
      } else if (method !== undefined) {
        throw new OAuthError('invalid_request', 'code_challenge_method without code_challenge');
      } else if (client.tokenEndpointAuthMethod === 'none' && issuesCode(request.responseType!)) {
        throw new OAuthError('invalid_request', 'public clients must use PKCE (code_challenge with S256)');
      }
    },
  },
  {
    name: 'state and nonce',
    rule: 'OIDC Core §3.2.2.1, §3.3.2.11: nonce is required when the ID token comes from the authorization endpoint',
    run({ get }, request) {
      const state = get('state');
      const nonce = get('nonce');
      for (const [name, value] of [['state', state], ['nonce', nonce]] as const) {
        if (value !== undefined && value.length > MAX_STATE_OR_NONCE) {
          throw new OAuthError('invalid_request', `${name} is longer than ${MAX_STATE_OR_NONCE} characters`);
        }
      }
      if (nonce === undefined && issuesIdToken(request.responseType!)) {
        throw new OAuthError('invalid_request', `nonce is required for response_type ${request.responseType}`);
      }
      if (state !== undefined) request.state = state;
      if (nonce !== undefined) request.nonce = nonce;
    },
  },
  {
    name: 'prompt',
    rule: 'OIDC Core §3.1.2.1: none, login, consent (select_account is not offered); none only alone',
    run({ get }, request) {
      const prompt = parsePrompt(get('prompt'));
      if (prompt !== undefined) request.prompt = prompt;
    },
  },
  {
    name: 'max_age',
    rule: 'OIDC Core §3.1.2.1: a non-negative number of seconds',
    run({ get }, request) {
      const text = get('max_age');
      if (text === undefined) return;
      if (!/^\d{1,9}$/.test(text)) throw new OAuthError('invalid_request', 'max_age must be a non-negative integer');
      request.maxAge = Number(text);
    },
  },
  {
    name: 'display',
    rule: 'OIDC Core §3.1.2.1: page, popup, touch or wap; every page is responsive, so all are served alike',
    run({ get }, request) {
      const display = get('display');
      if (display === undefined) return;
      if (!(DISPLAYS as readonly string[]).includes(display)) throw new OAuthError('invalid_request', `display ${display} is not supported`);
      request.display = display as Display;
    },
  },
  {
    name: 'locales',
    rule: 'OIDC Core §3.1.2.1, §5.2: ui_locales and claims_locales are preferences: tags that are not BCP 47 are ignored',
    run({ get }, request) {
      const ui = languageTags(get('ui_locales'));
      const claims = languageTags(get('claims_locales'));
      if (ui !== undefined) request.uiLocales = ui;
      if (claims !== undefined) request.claimsLocales = claims;
    },
  },
  {
    name: 'hints',
    rule: 'OIDC Core §3.1.2.1: login_hint prefills the login form; id_token_hint is checked by the session step',
    run({ get }, request) {
      const loginHint = get('login_hint');
      if (loginHint !== undefined) {
        if (loginHint.length > MAX_HINT) throw new OAuthError('invalid_request', `login_hint is longer than ${MAX_HINT} characters`);
        request.loginHint = loginHint;
      }
      const idTokenHint = get('id_token_hint');
      if (idTokenHint !== undefined) {
        if (idTokenHint.length > 2048 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(idTokenHint)) {
          throw new OAuthError('invalid_request', 'id_token_hint is not an ID token');
        }
        request.idTokenHint = idTokenHint;
      }
    },
  },
  {
    name: 'claims',
    rule: 'OIDC Core §5.5: a JSON object with userinfo and id_token members; claims not understood are ignored',
    run({ get, client }, request) {
      const text = get('claims');
      if (text === undefined) return;
      const claims = claimsWithinRegistration(parseClaimsParameter(text), client.scope.split(' '));
      if (claims.userinfo !== undefined && !issuesAccessTokenEver(request.responseType!)) {
        throw new OAuthError('invalid_request', 'claims.userinfo needs a response type that issues an access token');
      }
      request.claims = claims;
      // OIDC Core §5.5.1: a `sub` asked for by value: only that user may be answered for.
      const sub = requestedSubject(claims);
      if (sub !== undefined) request.requiredSub = sub;
    },
  },
  {
    name: 'acr_values',
    rule: 'OIDC Core §3.1.2.1: requested authentication context classes, voluntary',
    run({ get }, request) {
      const text = get('acr_values');
      if (text === undefined) return;
      const values = [...new Set(text.split(' ').filter(Boolean))];
      if (text.length > 512 || values.length === 0) throw new OAuthError('invalid_request', 'acr_values is malformed');
      request.acrValues = values;
    },
  },
];

/** Runs every step on the parameters of a request whose client and redirect URI are known. */
export function validateAuthorizationRequest(
  params: RawParams,
  client: ClientView,
  redirectUri: string,
  rid: string,
): AuthorizationRequest {
  const draft: DraftRequest = { rid, clientId: client.clientId, redirectUri };
  const input: StepInput = { client, get: (name) => single(params, name, { mayRedirect: true }) };
  for (const step of REQUEST_STEPS) step.run(input, draft);
  return draft as AuthorizationRequest;
}

/** OIDC Core §5.5: a `code` leads to an access token at the token endpoint; `id_token` alone never does. */
const issuesAccessTokenEver = (type: ResponseType): boolean => type !== 'id_token';

function responseModeOf(requested: string | undefined, type: ResponseType): ResponseMode {
  if (requested === undefined) return defaultResponseMode(type);
  if (!(RESPONSE_MODES as readonly string[]).includes(requested)) {
    throw new OAuthError('invalid_request', `response_mode ${requested} is not supported`);
  }
  const mode = requested as ResponseMode;
  if (!responseModeAllowed(type, mode)) {
    throw new OAuthError('invalid_request', `response_mode query cannot carry the tokens of response_type ${type}`);
  }
  return mode;
}

/**
 * The response mode an error is sent in when the request itself failed validation: the
 * requested one if it is one we serve and safe for the requested type, else the type's default,
 * else the query (an error carries no token).
 */
export function errorResponseMode(params: RawParams): ResponseMode {
  const raw = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : undefined);
  const type = canonicalResponseType(raw('response_type') ?? '');
  const requested = raw('response_mode');
  if (requested !== undefined && (RESPONSE_MODES as readonly string[]).includes(requested)) {
    const mode = requested as ResponseMode;
    return type !== undefined && !responseModeAllowed(type, mode) ? defaultResponseMode(type) : mode;
  }
  return type !== undefined ? defaultResponseMode(type) : 'query';
}

function parsePrompt(value: string | undefined): Prompt[] | undefined {
  if (value === undefined) return undefined;
  const prompts = [...new Set(value.split(' ').filter(Boolean))];
  for (const p of prompts) {
    if (p !== 'none' && p !== 'login' && p !== 'consent') {
      throw new OAuthError('invalid_request', `prompt ${p} is not supported`);
    }
  }
  if (prompts.includes('none') && prompts.length > 1) {
    throw new OAuthError('invalid_request', 'prompt none cannot be combined with other values');
  }
  return prompts as Prompt[];
}

/** The well-formed tags of a preference list, at most 10 (a preference is no reason to fail). */
function languageTags(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const tags = value.split(' ').filter((t) => LANGUAGE_TAG.test(t)).slice(0, 10);
  return tags.length > 0 ? tags : undefined;
}
