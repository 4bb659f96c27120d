import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { ClientRegistryApp } from '../../services/client-registry/app/client-registry.app.js';

/** A registered client's id is 16 random bytes, base64url, and never begins with '-' or '_' (it would read as an option: `idp audit client -Xy…`). */
it('client ids are 22 base64url characters and never start with - or _', async () => {
  const registry = new ClientRegistryApp({ store: new InMemoryEventStore(), projections: new InMemoryProjectionStore() });
  const admin = { tenant: 'default', correlationId: 'client-ids', causationId: null, actor: { kind: 'admin' as const, id: 'alice' } };
  const ids: string[] = [];
  // With 2 of 64 first characters refused, 200 draws without the rule would start with one at least once 99.8 % of the time.
  for (let i = 0; i < 200; i++) {
    ids.push((await registry.register(admin, { redirect_uris: ['https://rp.example.test/cb'] }, { authorizedBy: 'initial_access_token' })).client.clientId);
  }
  expect(ids.every((id) => /^[A-Za-z0-9][A-Za-z0-9_-]{21}$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(200);
});
