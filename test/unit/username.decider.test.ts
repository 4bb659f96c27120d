import { createHash, randomUUID } from 'node:crypto';
import type { UsernameEvent } from '../../contracts/events/username.js';
import { usernameDecider } from '../../services/authn/domain/username/username.js';
import { spec } from '../support/decider-spec.js';

const { given } = spec(usernameDecider);
const usernameDigest = createHash('sha256').update('default:alice').digest('hex');
const claimed = (sub: string): UsernameEvent => ({ type: 'username.claimed', schemaVersion: 1, data: { usernameDigest, sub } });

describe('username decider: one account per name and tenant', () => {
  test('a free name is claimed for the registering subject', () => {
    const sub = randomUUID();
    given([]).when({ type: 'claim_username', usernameDigest, sub }).then([claimed(sub)]);
  });

  test('a claimed name writes nothing for a second subject, and stays with the first', () => {
    const first = randomUUID();
    given([claimed(first)]).when({ type: 'claim_username', usernameDigest, sub: randomUUID() }).thenNothing();
    expect(usernameDecider.evolve(usernameDecider.initialState(), claimed(first))).toEqual({ claimedBy: first });
  });
});
