import type { GrantEvent } from '../../../../contracts/events/grant.js';
import type { Decider } from '../../../shared/domain/decider.js';
import { decideGrant, type GrantCommand } from './decide.js';
import { evolveGrant } from './evolve.js';
import { initialGrantState, type GrantState } from './state.js';

export const grantDecider: Decider<GrantState, GrantCommand, GrantEvent> = {
  initialState: initialGrantState,
  evolve: evolveGrant,
  decide: decideGrant,
};
