import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SessionEvent } from '../../contracts/events/session.js';
import {
  isSessionUsable,
  sessionDecider,
  type StartSessionCommand,
} from '../../services/authn/domain/session/session.js';
import { spec } from '../support/decider-spec.js';

const sha256Hex = (input: string | Buffer) => createHash('sha256').update(input).digest('hex');

const { given } = spec(sessionDecider);

const SESSION_LIFETIME_MS = 8 * 3_600_000;

function login() {
  const startedAt = Date.parse('2025-03-14T09:26:23.000Z');
  const cookieSecret = randomBytes(32).toString('base64url');
  const start: StartSessionCommand = {
    type: 'start_session',
    sessionId: randomUUID(),
    sub: randomUUID(),
    secretHash: sha256Hex(cookieSecret),
    authTime: Math.floor(startedAt / 1000),
    acr: '0',
    amr: ['pwd'],
    expiresAt: new Date(startedAt + SESSION_LIFETIME_MS).toISOString(),
  };
  const started: SessionEvent = {
    type: 'session.started',
    schemaVersion: 1,
    data: {
      sessionId: start.sessionId,
      sub: start.sub,
      secretHash: start.secretHash,
      authTime: start.authTime,
      acr: '0',
      amr: ['pwd'],
      expiresAt: start.expiresAt,
    },
  };
  return { startedAt, cookieSecret, start, started };
}

describe('session decider', () => {
  test('OIDC Core §2: starting a session records session.started with auth_time, acr, amr and the SHA-256 of the cookie secret', () => {
    const s = login();
    given([]).when(s.start).then([s.started]);
  });

  test('a session id is started once: starting it again is a programming error', () => {
    const s = login();
    given([s.started]).when(s.start).thenThrows(/already exists/);
  });

  test('a session is usable until its absolute expiry, judged by the time the caller passes', () => {
    const s = login();
    const state = sessionDecider.evolve(sessionDecider.initialState(), s.started);
    const expiresAt = s.startedAt + SESSION_LIFETIME_MS;
    expect(isSessionUsable(state, new Date(s.startedAt + 60_000))).toBe(true);
    expect(isSessionUsable(state, new Date(expiresAt - 1))).toBe(true);
    expect(isSessionUsable(state, new Date(expiresAt))).toBe(false);
    expect(isSessionUsable(sessionDecider.initialState(), new Date(s.startedAt))).toBe(false);
  });

  test('logging out: the holder of the cookie ends the session (session.ended), once; it is no longer usable', () => {
    const s = login();
    const end = { type: 'end_session' as const, sessionId: s.start.sessionId, presentedSecretHash: s.start.secretHash, reason: 'rp_initiated_logout' as const, clientId: 'rp' };
    const ended: SessionEvent = {
      type: 'session.ended',
      schemaVersion: 1,
      data: { sessionId: s.start.sessionId, sub: s.start.sub, reason: 'rp_initiated_logout', clientId: 'rp' },
    };
    given([s.started]).when(end).then([ended]);
    // A second logout (another tab, a double submit) records nothing more.
    given([s.started, ended]).when(end).thenNothing();
    const state = [s.started, ended].reduce(sessionDecider.evolve, sessionDecider.initialState());
    expect(isSessionUsable(state, new Date(s.startedAt + 60_000))).toBe(false);
  });

  test('a session is ended only with its own cookie secret; an unknown session ends nothing', () => {
    const s = login();
    const end = { type: 'end_session' as const, sessionId: s.start.sessionId, presentedSecretHash: sha256Hex('guessed'), reason: 'user_logout' as const, clientId: null };
    given([s.started]).when(end).then([], { error: 'invalid_request' });
    given([]).when({ ...end, presentedSecretHash: s.start.secretHash }).then([], { error: 'invalid_request' });
  });
});
