import { z } from 'zod';
import { defineGrant } from './define.js';
import { scopeParameter, ScopeParameter } from './scope-parameter.js';
import { resourceIndicators, Resources } from './resource.js';

/** The client credentials grant (RFC 6749 §4.4.2), with resource indicators (RFC 8707 §2.1). */
export const ClientCredentialsGrant = defineGrant({
  grantType: 'client_credentials',
  request: z.object({
    grantType: z.literal('client_credentials'),
    scope: ScopeParameter,
    resources: Resources,
  }),
  fromForm(form, repeated) {
    return {
      grantType: 'client_credentials',
      ...scopeParameter(form),
      resources: resourceIndicators(repeated.resource),
    };
  },
});
