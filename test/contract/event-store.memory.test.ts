import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { describeEventStoreContract } from './event-store.contract.js';

describeEventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore();
  return { store, cleanup: () => store.close() };
});
