import type { GrantEvent } from '../../../../contracts/events/grant.js';
import { codeSubject, type GrantState } from './state.js';

export function evolveGrant(state: GrantState, event: GrantEvent): GrantState {
  switch (event.type) {
    case 'authorization_code.issued': {
      if (event.schemaVersion === 1) {
        const { grantId, ...code } = event.data;
        return { kind: 'authorization_code', status: 'code_issued', grantId, code, revocation: null };
      }
      const { grantId, frontChannel, ...code } = event.data;
      const accessTokenIdHash = frontChannel.accessToken?.accessTokenIdHash;
      return {
        kind: 'authorization_code',
        status: 'code_issued',
        grantId,
        code: { ...code, ...(accessTokenIdHash !== undefined ? { frontChannelAccessTokenIdHash: accessTokenIdHash } : {}) },
        revocation: null,
      };
    }
    case 'implicit.granted': {
      const { grantId, clientId, sub, scope, sessionId, authTime, acr, amr, accessToken, claims, claimsLocales } = event.data;
      return {
        kind: 'implicit',
        status: 'active',
        grantId,
        subject: {
          clientId,
          sub,
          scope,
          audience: [],
          authentication: { authTime, acr, amr, sessionId },
          ...(claims !== undefined ? { claims } : {}),
          ...(claimsLocales !== undefined ? { claimsLocales } : {}),
        },
        lineage: { accessTokenIdHashes: accessToken ? [accessToken.accessTokenIdHash] : [], refreshToken: null },
        revocation: null,
      };
    }
    case 'authorization_code.redeemed': {
      if (state.status !== 'code_issued') return state;
      return {
        ...state,
        status: 'active',
        subject: codeSubject(state.code),
        // A hybrid flow's front-channel access token is the first of the lineage.
        lineage: {
          accessTokenIdHashes: state.code.frontChannelAccessTokenIdHash !== undefined ? [state.code.frontChannelAccessTokenIdHash] : [],
          refreshToken: null,
        },
      };
    }
    case 'tokens.issued':
      if (state.status !== 'active') return state;
      return {
        ...state,
        lineage: {
          accessTokenIdHashes: [...state.lineage.accessTokenIdHashes, event.data.accessTokenIdHash],
          refreshToken: event.schemaVersion === 2 ? event.data.refreshToken : state.lineage.refreshToken,
        },
      };
    case 'client_credentials.granted': {
      const { grantId, clientId, scope, audience, accessTokenIdHash } = event.data;
      return {
        kind: 'client_credentials',
        status: 'active',
        grantId,
        subject: { clientId, sub: clientId, scope, audience },
        lineage: { accessTokenIdHashes: [accessTokenIdHash], refreshToken: null },
        revocation: null,
      };
    }
    case 'password.granted': {
      const { grantId, clientId, sub, scope, audience, authTime, acr, amr, accessTokenIdHash, refreshToken } = event.data;
      return {
        kind: 'password',
        status: 'active',
        grantId,
        subject: { clientId, sub, scope, audience, authentication: { authTime, acr, amr } },
        lineage: { accessTokenIdHashes: [accessTokenIdHash], refreshToken },
        revocation: null,
      };
    }
    case 'authorization_code.replay_detected':
    case 'refresh_token.reuse_detected':
      return state;
    case 'grant.revoked':
      return state.status === 'none' || state.revocation !== null ? state : { ...state, revocation: { reason: event.data.reason } };
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}
