import type { GrantEvent } from '../../../../contracts/events/grant.js';
import type { GrantState } from './state.js';

export function evolveGrant(state: GrantState, event: GrantEvent): GrantState {
  switch (event.type) {
    case 'authorization_code.issued': {
      const { grantId, ...code } = event.data;
      return { status: 'code_issued', grantId, code };
    }
    case 'authorization_code.redeemed':
      return state.status === 'code_issued' ? { ...state, status: 'active', accessTokenIdHashes: [] } : state;
    case 'tokens.issued':
      return state.status === 'active'
        ? { ...state, accessTokenIdHashes: [...state.accessTokenIdHashes, event.data.accessTokenIdHash] }
        : state;
    case 'authorization_code.replay_detected':
      return state;
    case 'grant.revoked':
      return state.status === 'none' ? state : { status: 'revoked', grantId: state.grantId, code: state.code, reason: event.data.reason };
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}
