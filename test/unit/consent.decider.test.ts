import { randomUUID } from 'node:crypto';
import type { ConsentEvent } from '../../contracts/events/consent.js';
import { consentDecider, coversScopes, type ConsentCommand } from '../../services/authn/domain/consent/consent.js';
import { spec } from '../support/decider-spec.js';

const { given } = spec(consentDecider);

function consentOf() {
  const sub = randomUUID();
  const clientId = randomUUID();
  const grant = (scopes: string[]): ConsentCommand => ({ type: 'grant_consent', sub, clientId, scopes });
  const granted = (scopes: string[]): ConsentEvent => ({
    type: 'consent.granted',
    schemaVersion: 1,
    data: { sub, clientId, scopes },
  });
  return { grant, granted };
}

describe('consent decider (OIDC Core §3.1.2.4)', () => {
  test('OIDC Core §3.1.2.4: a first consent records consent.granted with the scopes', () => {
    const c = consentOf();
    given([]).when(c.grant(['openid', 'profile'])).then([c.granted(['openid', 'profile'])]);
  });

  test('OIDC Core §3.1.2.4: consent that already covers every requested scope writes nothing', () => {
    const c = consentOf();
    given([c.granted(['openid', 'profile', 'email'])]).when(c.grant(['openid', 'email'])).thenNothing();
    given([c.granted(['openid']), c.granted(['openid', 'profile'])]).when(c.grant(['profile', 'openid'])).thenNothing();
  });

  test('OIDC Core §3.1.2.4: a request adding a scope records a new consent.granted', () => {
    const c = consentOf();
    given([c.granted(['openid', 'profile'])])
      .when(c.grant(['openid', 'profile', 'email']))
      .then([c.granted(['openid', 'profile', 'email'])]);
  });

  test('OIDC Core §3.1.2.4: a new consent.granted carries every scope granted so far, not only the new one', () => {
    const c = consentOf();
    given([c.granted(['openid', 'profile'])]).when(c.grant(['email'])).then([c.granted(['openid', 'profile', 'email'])]);
  });

  test('a scope requested twice is recorded once', () => {
    const c = consentOf();
    given([]).when(c.grant(['openid', 'email', 'openid'])).then([c.granted(['openid', 'email'])]);
  });

  test('a request for no scope at all writes nothing', () => {
    const c = consentOf();
    given([]).when(c.grant([])).thenNothing();
  });

  test('coversScopes answers from the folded consent', () => {
    const c = consentOf();
    const state = [c.granted(['openid']), c.granted(['openid', 'email'])].reduce(
      consentDecider.evolve,
      consentDecider.initialState(),
    );
    expect(coversScopes(state, ['openid', 'email'])).toBe(true);
    expect(coversScopes(state, ['openid', 'profile'])).toBe(false);
    expect(coversScopes(consentDecider.initialState(), ['openid'])).toBe(false);
  });
});
