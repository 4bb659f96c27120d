import type { ClientEvent } from '../../../../contracts/events/client.js';
import type { ClientState } from './state.js';

export function evolveClient(state: ClientState, event: ClientEvent): ClientState {
  switch (event.type) {
    case 'client.registered': {
      const { clientName, ...rest } = event.data;
      return { status: 'registered', client: { ...rest, ...(clientName !== undefined ? { clientName } : {}) } };
    }
    default: {
      const exhaustive: never = event.type;
      return exhaustive;
    }
  }
}
