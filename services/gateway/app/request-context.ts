import type { RequestContext } from '../../../contracts/events/metadata.js';
import type { TenantId } from '../../../contracts/tenant.js';
import { newUuidV7 } from '../../../infra/crypto/secrets.js';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The context of one HTTP request: stamped on every event it causes (DESIGN §4). */
export function requestContext(
  tenant: TenantId,
  headers: Record<string, string | string[] | undefined>,
  actor: RequestContext['actor'] = { kind: 'system', id: 'gateway' },
): RequestContext {
  const traceparent = headers['traceparent'];
  return {
    tenant,
    correlationId: newUuidV7(),
    causationId: null,
    actor,
    ...(typeof traceparent === 'string' && TRACEPARENT.test(traceparent) ? { traceparent } : {}),
  };
}
