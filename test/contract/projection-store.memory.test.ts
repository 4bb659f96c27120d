import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { describeProjectionStoreContract } from './projection-store.contract.js';

describeProjectionStoreContract('in-memory', async (options) => {
  const store = new InMemoryProjectionStore(options?.gcGraceMs === undefined ? {} : { gcGraceMs: options.gcGraceMs });
  return { store, cleanup: () => store.close() };
});
