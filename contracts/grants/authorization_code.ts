import { z } from 'zod';
import { OAuthError } from '../oauth-error.js';
import { defineGrant } from './define.js';

/** The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export const AuthorizationCodeGrant = defineGrant({
  grantType: 'authorization_code',
  request: z.object({
    grantType: z.literal('authorization_code'),
    code: z.string().max(512),
    redirectUri: z.string().optional(),
    codeVerifier: z.string().optional(),
  }),
  fromForm(form, repeated) {
    // The authorization request names no resource, so there is nothing to narrow (RFC 8707 §2.2).
    if (repeated.resource.length > 0) throw new OAuthError('invalid_target', 'resource is not supported with this grant');
    if (!form.code) throw new OAuthError('invalid_request', 'code is required');
    return {
      grantType: 'authorization_code',
      code: form.code,
      ...(form.redirect_uri ? { redirectUri: form.redirect_uri } : {}),
      ...(form.code_verifier ? { codeVerifier: form.code_verifier } : {}),
    };
  },
});
