import { z } from 'zod';
import { OAuthError } from '../oauth-error.js';
import { defineGrant } from './define.js';
import { scopeParameter, ScopeParameter } from './scope-parameter.js';
import { resourceIndicators, Resources } from './resource.js';

/**
 * The resource owner password credentials grant (RFC 6749 §4.3.2), for clients registered for it
 * with the initial access token only (RFC 9700 §2.4 advises against it: it exists for migrations).
 */
export const PasswordGrant = defineGrant({
  grantType: 'password',
  request: z.object({
    grantType: z.literal('password'),
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
    scope: ScopeParameter,
    resources: Resources,
  }),
  fromForm(form, repeated) {
    if (!form.username) throw new OAuthError('invalid_request', 'username is required');
    if (!form.password) throw new OAuthError('invalid_request', 'password is required');
    if (form.username.length > 256 || form.password.length > 1024) {
      throw new OAuthError('invalid_request', 'username or password is too long');
    }
    return {
      grantType: 'password',
      username: form.username,
      password: form.password,
      ...scopeParameter(form),
      resources: resourceIndicators(repeated.resource),
    };
  },
});
