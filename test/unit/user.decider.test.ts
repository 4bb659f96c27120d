import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { UserEvent, UserProfile } from '../../contracts/events/user.js';
import { sealJson } from '../../infra/crypto/envelope.js';
import { userDecider, type UserCommand } from '../../services/authn/domain/user/user.js';
import { spec } from '../support/decider-spec.js';

const sha256Hex = (input: string | Buffer) => createHash('sha256').update(input).digest('hex');

const { given } = spec(userDecider);

/** A user as authn would register them: opaque sub, digest of the username, argon2id PHC, sealed profile. */
function person(username = 'alice') {
  const sub = randomUUID();
  const dataKey = randomBytes(32);
  const profile: UserProfile = {
    preferred_username: username,
    name: 'Alice Liddell',
    email: `${username}@example.com`,
    email_verified: true,
  };
  const salt = randomBytes(16).toString('base64').replace(/=+$/, '');
  const hash = randomBytes(32).toString('base64').replace(/=+$/, '');
  const register: Extract<UserCommand, { type: 'register_user' }> = {
    type: 'register_user',
    sub,
    usernameDigest: sha256Hex(`default:${username.toLowerCase()}`),
    passwordHash: `$argon2id$v=19$m=65536,t=3,p=4$${salt}$${hash}`,
    profile: sealJson(dataKey, profile, sub),
  };
  const { type: _type, ...data } = register;
  const registered: UserEvent = { type: 'user.registered', schemaVersion: 1, data };
  const login = (passwordMatched: boolean, clientId: string | null): UserCommand => ({
    type: 'record_authentication',
    passwordMatched,
    clientId,
  });
  const failed = (clientId: string | null): UserEvent => ({
    type: 'authentication.failed',
    schemaVersion: 1,
    data: { sub, reason: 'invalid_password', clientId },
  });
  const succeeded = (clientId: string | null): UserEvent => ({
    type: 'authentication.succeeded',
    schemaVersion: 1,
    data: { sub, method: 'pwd', clientId },
  });
  return { sub, register, registered, login, failed, succeeded };
}

describe('user decider: registration', () => {
  test('OIDC Core §2: registering records user.registered with an opaque sub, the username only as a digest', () => {
    const alice = person();
    given([]).when(alice.register).then([alice.registered]);
  });

  test('registering an already registered user writes nothing (seeding is idempotent)', () => {
    const alice = person();
    given([alice.registered]).when(alice.register).thenNothing();
  });

  test('OIDC Core §5.7: sub is immutable: re-registering with other data writes nothing', () => {
    const alice = person();
    const other = person('mallory');
    given([alice.registered]).when({ ...other.register, sub: alice.sub }).thenNothing();
  });
});

describe('user decider: password login', () => {
  test('a failed login records authentication.failed AND refuses with access_denied, never redirected', () => {
    const alice = person();
    const clientId = randomUUID();
    given([alice.registered])
      .when(alice.login(false, clientId))
      .then([alice.failed(clientId)], { error: 'access_denied', mayRedirect: false });
  });

  test('a failed login outside any client (clientId null) is recorded too', () => {
    const alice = person();
    given([alice.registered])
      .when(alice.login(false, null))
      .then([alice.failed(null)], { error: 'access_denied', mayRedirect: false });
  });

  test('a successful login records authentication.succeeded with method pwd and no refusal', () => {
    const alice = person();
    const clientId = randomUUID();
    given([alice.registered]).when(alice.login(true, clientId)).then([alice.succeeded(clientId)]);
  });

  test('a successful login after failed ones still succeeds (failures are recorded, not a lockout)', () => {
    const alice = person();
    const clientId = randomUUID();
    given([alice.registered, alice.failed(clientId), alice.failed(clientId)])
      .when(alice.login(true, clientId))
      .then([alice.succeeded(clientId)]);
  });

  test('a login for an unregistered user records nothing and refuses with access_denied', () => {
    const alice = person();
    given([]).when(alice.login(true, randomUUID())).then([], { error: 'access_denied', mayRedirect: false });
  });
});
