import { randomUUID } from 'node:crypto';
import type { AuthenticationEvent } from '../../contracts/events/authentication.js';
import { authenticationDecider, type RecordLoginCommand } from '../../services/authn/domain/authentication/authentication.js';
import { spec } from '../support/decider-spec.js';

const { given } = spec(authenticationDecider);

describe('authentication decider: one successful login, its own stream', () => {
  const record = (clientId: string | null): RecordLoginCommand => ({
    type: 'record_login',
    authenticationId: randomUUID(),
    sub: randomUUID(),
    clientId,
  });
  const succeeded = (command: RecordLoginCommand): AuthenticationEvent => ({
    type: 'authentication.succeeded',
    schemaVersion: 1,
    data: { sub: command.sub, method: 'pwd', clientId: command.clientId },
  });

  test('records who logged in through which client as authentication.succeeded', () => {
    const viaClient = record('web');
    given([]).when(viaClient).then([succeeded(viaClient)]);
    const viaLoginPage = record(null);
    given([]).when(viaLoginPage).then([succeeded(viaLoginPage)]);
  });

  test('a second record under one id is a bug, not a retry to absorb', () => {
    const command = record('web');
    expect(() => authenticationDecider.decide(command, authenticationDecider.evolve(authenticationDecider.initialState(), succeeded(command)))).toThrow(
      /already recorded/,
    );
  });
});
