import type { ClientEvent } from '../../../../contracts/events/client.js';
import type { Decider } from '../../../shared/domain/decider.js';
import { decideClient, type ClientCommand } from './decide.js';
import { evolveClient } from './evolve.js';
import { initialClientState, type ClientState } from './state.js';

export const clientDecider: Decider<ClientState, ClientCommand, ClientEvent> = {
  initialState: initialClientState,
  evolve: evolveClient,
  decide: decideClient,
};
