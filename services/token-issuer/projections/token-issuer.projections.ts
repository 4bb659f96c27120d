import { GrantEvent } from '../../../contracts/events/grant.js';
import { clientWatermarks } from '../../shared/projections/client-watermark.js';
import { combine, projection } from '../../shared/projections/project.js';
import { userWatermarks } from '../../shared/projections/user-watermark.js';

export const keys = {
  /** Present while the grant is revoked: every token of it is refused. */
  grantRevoked: (tenant: string, grantId: string) => `grant-revoked:${tenant}:${grantId}`,
};

export const grantRevocations = projection(GrantEvent, ['grant.revoked'], (event, meta) =>
  event.type === 'grant.revoked'
    ? [{ kind: 'put', key: keys.grantRevoked(meta.tenant, event.data.grantId), value: event.data.reason }]
    : [],
);

/** Grant revocations, the client watermarks (written through by the client-registry too) and the user watermarks (by authn too). */
export const tokenIssuerProjections = combine(grantRevocations, clientWatermarks, userWatermarks);

/** The checkpoint of these projections, shared by the projector and the write-through. */
export const TOKEN_ISSUER_CHECKPOINT = 'token-issuer';
