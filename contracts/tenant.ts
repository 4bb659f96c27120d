import { z } from 'zod';

/**
 * A tenant id is part of every stream name, projection key, subject and event (DESIGN §4).
 * Lower-case letters, digits and underscores only, so that `<aggregate>-<tenant>-<id>` stream
 * names and `idp.events.<tenant>.…` subjects parse without ambiguity.
 */
export const TenantId = z.string().regex(/^[a-z0-9_]{1,32}$/, 'tenant id: 1-32 of [a-z0-9_]');
export type TenantId = z.infer<typeof TenantId>;

export const DEFAULT_TENANT: TenantId = 'default';
