import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { describeProjectionStoreContract } from './projection-store.contract.js';

describeProjectionStoreContract('in-memory', async () => {
  const store = new InMemoryProjectionStore();
  return { store, cleanup: () => store.close() };
});
