import { z } from 'zod';
import { OAuthError } from '../oauth-error.js';
import { defineGrant } from './define.js';
import { resourceIndicators, Resources } from './resource.js';
import { scopeParameter, ScopeParameter } from './scope-parameter.js';

/** Refreshing an access token (RFC 6749 §6): the refresh token is rotated on every use. */
export const RefreshTokenGrant = defineGrant({
  grantType: 'refresh_token',
  request: z.object({
    grantType: z.literal('refresh_token'),
    refreshToken: z.string().max(512),
    scope: ScopeParameter,
    /** RFC 8707 §2.2: a subset of the grant's resources for this access token. */
    resources: Resources,
  }),
  fromForm(form, repeated) {
    if (!form.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
    if (form.refresh_token.length > 512) throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked');
    return {
      grantType: 'refresh_token',
      refreshToken: form.refresh_token,
      ...scopeParameter(form),
      resources: resourceIndicators(repeated.resource),
    };
  },
});
