import type { TenantId } from '../../../contracts/tenant.js';
import type { Bus } from '../../../infra/bus/port.js';
import type { SealedTokens } from '../../../infra/crypto/sealed-token.js';
import type { Logger } from 'pino';
import type { RegistrationRate } from './registration-rate-limit.js';
import type { TrustedProxies } from './trusted-proxies.js';

export interface GatewayOptions {
  bus: Bus;
  issuer: string;
  tenant: TenantId;
  /** Seals the pending authorization request into the `idp_authz` cookie. */
  authzCookies: SealedTokens;
  /** Seals the logout confirmation form's token (bound to the session cookie). */
  logoutForms: SealedTokens;
  /** RFC 7591 §3: when set, registration requires this bearer token. */
  initialAccessToken: string | undefined;
  /** `POST /register` per source address (a token bucket in this process): beyond it, 429. */
  registrationRate: RegistrationRate;
  /**
   * IDP_TRUST_PROXY: the proxies whose X-Forwarded-For is believed (none: the TCP peer is the
   * client). The registration rate limit and the login throttle count per the resulting address.
   */
  trustedProxies: TrustedProxies;
  /** Bus request timeout; a silent service becomes 503 temporarily_unavailable. */
  requestTimeoutMs: number;
  logger: Logger;
}

export const GATEWAY_OPTIONS = Symbol('GATEWAY_OPTIONS');
