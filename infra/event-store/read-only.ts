import type { EventStore } from './port.js';

/**
 * A view of a store that refuses every append: what the `idp` command line's reads get
 * (DESIGN §9, "reads go to the store, read-only"), whichever adapter is behind it. SQLite and
 * JetStream are also opened read-only underneath; for KurrentDB this view is the guard.
 */
export function readOnlyView(store: EventStore): EventStore {
  return {
    append: async () => {
      throw new Error('this event store was opened read-only');
    },
    readStream: (name) => store.readStream(name),
    readAll: (options) => store.readAll(options),
    subscribeToAll: (handler, options) => store.subscribeToAll(handler, options),
    ...(store.headPosition ? { headPosition: () => store.headPosition!() } : {}),
    ...(store.readAllOfTypes ? { readAllOfTypes: (types, options) => store.readAllOfTypes!(types, options) } : {}),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
