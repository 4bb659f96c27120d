import { randomBytes } from 'node:crypto';
import { InMemoryDataKeyStore } from '../../infra/crypto/data-keys/memory.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { AuthnApp } from '../../services/authn/app/authn.app.js';

/**
 * authn's own application over a log the test holds, with in-memory projections and data keys,
 * fresh random keys and a cheap argon2id (the parameters are not what is tested here); its clock
 * pinned when the test gives one.
 */
export function authnOver(store: EventStore, options: { clock?: () => Date; sessionTtlSeconds?: number } = {}): AuthnApp {
  return new AuthnApp({
    store,
    projections: new InMemoryProjectionStore(),
    dataKeys: new InMemoryDataKeyStore(randomBytes(32)),
    usernameKey: randomBytes(32),
    loginSourceKey: randomBytes(32),
    sessionTtlSeconds: options.sessionTtlSeconds ?? 3600,
    argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
