import { randomUUID } from 'node:crypto';
import { createUser } from '@nats-io/nkeys';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, errors, type NatsConnection, type Status } from '@nats-io/transport-node';
import { natsConnectionOptions } from '../../infra/bus/nats-connection-options.js';
import { Login } from '../../contracts/messages/authn.js';
import { GrantTokens, IssueAuthorization, ListSigningKeys, RevokeSigningKey, RotateSigningKeys } from '../../contracts/messages/token-issuer.js';
import { NATS_IDENTITIES, type NatsIdentity } from '../../infra/bus/permissions.js';
import { createClient } from 'redis';
import { startDistributed, type DistributedTopology } from '../support/distributed-topology.js';

/**
 * The NATS trust boundary of a distributed deployment started with `npm run start:distributed`'s
 * configuration (infra/deploy/distributed-config.ts): each refusal below is the NATS server's,
 * from the permissions derived from the contracts, not a check in our code.
 */
let topology: DistributedTopology;
const open: NatsConnection[] = [];

beforeAll(async () => {
  topology = await startDistributed({ secured: true, user: { username: 'boundary-user', password: 'boundary-password-1' } });
}, 240_000);

afterAll(async () => {
  await Promise.all(open.splice(0).map((nc) => nc.close().catch(() => undefined)));
  await topology?.stop();
});

async function as(identity: NatsIdentity): Promise<NatsConnection> {
  const nc = await connect({ servers: topology.natsUrl, name: `test-${identity}`, ...topology.natsAs(identity) });
  open.push(nc);
  return nc;
}

/** A request the server refuses to let out: nats.js rejects it with the server's permission violation. */
async function requestRefused(nc: NatsConnection, subject: string, payload = '{}'): Promise<unknown> {
  return nc.request(subject, payload, { timeout: 10_000 }).then(
    () => new Error(`the request on ${subject} was answered`),
    (error: unknown) => error,
  );
}

/** Subscribes and waits for the server's verdict: the subscription's `closed` carries a refusal. */
async function subscriptionRefusal(nc: NatsConnection, subject: string, queue?: string): Promise<unknown> {
  const sub = nc.subscribe(subject, queue === undefined ? {} : { queue });
  await nc.flush();
  // A refused subscription is closed with the error; an accepted one would stay open, so close it
  // after a second round trip (the -ERR, if any, arrives before the PONG).
  await nc.flush();
  if (!sub.isClosed()) {
    sub.unsubscribe();
    return new Error(`subscription to ${subject}${queue ? ` in ${queue}` : ''} was accepted`);
  }
  return sub.closed;
}

/** The server's refusal, as nats.js reports it (a request's RequestError carries the server's text). */
const permissionViolation = (operation: 'publish' | 'subscription', subject: string) =>
  expect.objectContaining({
    message: expect.stringContaining(`Permissions Violation for ${operation === 'publish' ? 'Publish' : 'Subscription'} to "${subject}"`),
  });

/**
 * A plain publish (no reply inbox, which events-reader may not even subscribe to): the server's
 * refusal arrives as an error status of the connection.
 */
async function publishRefusal(nc: NatsConnection, subject: string, payload = '{}'): Promise<unknown> {
  const statuses = nc.status() as AsyncIterable<Status> & { stop(): void };
  const refusal = (async () => {
    for await (const status of statuses) {
      if (status.type === 'error' && String(status.error).includes(`"${subject}"`)) return status.error;
    }
    return undefined;
  })();
  nc.publish(subject, payload);
  await nc.flush();
  await nc.flush();
  const timer = setTimeout(() => statuses.stop(), 5_000);
  const error = await refusal;
  clearTimeout(timer);
  statuses.stop();
  return error ?? new Error(`the publish on ${subject} was accepted`);
}

async function logLastSequence(): Promise<number> {
  const jsm = await jetstreamManager(await as('admin'));
  return (await jsm.streams.info('IDP_LOG')).state.last_seq;
}

describe('NATS boundaries of a distributed deployment (generated NKeys, permissions from contracts)', () => {
  it('refuses a connection without credentials, and one with a key the server does not know', async () => {
    await expect(connect({ servers: topology.natsUrl, reconnect: false })).rejects.toBeInstanceOf(errors.AuthorizationError);
    const stranger = natsConnectionOptions(topology.natsUrl, { identity: 'admin', seed: new TextDecoder().decode(createUser().getSeed()) });
    await expect(connect({ servers: topology.natsUrl, reconnect: false, ...stranger })).rejects.toBeInstanceOf(errors.AuthorizationError);
  });

  it('the gateway cannot write to the log, nor touch JetStream at all', async () => {
    const gateway = await as('gateway');
    const before = await logLastSequence();
    const subject = `idp.log.grant.grant-default-${randomUUID()}`;
    await expect(jetstream(gateway).publish(subject, '[]')).rejects.toEqual(permissionViolation('publish', subject));
    expect(await requestRefused(gateway, '$JS.API.STREAM.INFO.IDP_LOG')).toEqual(permissionViolation('publish', '$JS.API.STREAM.INFO.IDP_LOG'));
    expect(await requestRefused(gateway, '$JS.API.STREAM.PURGE.IDP_LOG')).toEqual(permissionViolation('publish', '$JS.API.STREAM.PURGE.IDP_LOG'));
    expect(await logLastSequence()).toBe(before);
  });

  it('the gateway cannot listen to idp.authn.login, join a service queue group, or read another identity\'s inbox', async () => {
    const gateway = await as('gateway');
    expect(await subscriptionRefusal(gateway, Login.subject)).toEqual(permissionViolation('subscription', Login.subject));
    expect(await subscriptionRefusal(gateway, Login.subject, 'authn')).toEqual(permissionViolation('subscription', Login.subject));
    expect(await subscriptionRefusal(gateway, 'idp.token-issuer.grant_tokens', 'token-issuer')).toEqual(
      permissionViolation('subscription', 'idp.token-issuer.grant_tokens'),
    );
    expect(await subscriptionRefusal(gateway, '_INBOX_authn.>')).toEqual(permissionViolation('subscription', '_INBOX_authn.>'));
    expect(await subscriptionRefusal(gateway, '_INBOX.>')).toEqual(permissionViolation('subscription', '_INBOX.>'));
    expect(await subscriptionRefusal(gateway, '>')).toEqual(permissionViolation('subscription', '>'));
    // Its own inbox it may read: the refusals above are not a connection that can do nothing.
    expect(await subscriptionRefusal(gateway, '_INBOX_gateway.probe')).toEqual(new Error('subscription to _INBOX_gateway.probe was accepted'));
  });

  it('a service listens only to its own subjects, only in its own queue group', async () => {
    const authn = await as('authn');
    expect(await subscriptionRefusal(authn, Login.subject)).toEqual(permissionViolation('subscription', Login.subject));
    expect(await subscriptionRefusal(authn, Login.subject, 'eavesdroppers')).toEqual(permissionViolation('subscription', Login.subject));
    expect(await subscriptionRefusal(authn, GrantTokens.subject, 'token-issuer')).toEqual(permissionViolation('subscription', GrantTokens.subject));
    expect(await subscriptionRefusal(authn, Login.subject, 'authn')).toEqual(new Error(`subscription to ${Login.subject} in authn was accepted`));
  });

  it('events-reader may subscribe to idp.events.> and cannot publish anything', async () => {
    const reader = await as('events-reader');
    for (const subject of ['idp.events.default.grant.tokens.issued', Login.subject, 'idp.log.grant.grant-default-x', '$JS.API.INFO', '_INBOX_events-reader.x']) {
      expect(await publishRefusal(reader, subject)).toEqual(permissionViolation('publish', subject));
    }
    expect(await subscriptionRefusal(reader, 'idp.events.>')).toEqual(new Error('subscription to idp.events.> was accepted'));
    expect(await subscriptionRefusal(reader, 'idp.log.>')).toEqual(permissionViolation('subscription', 'idp.log.>'));
  });

  it('a forged issue_authorization or grant_tokens (authorization_code) from any identity but the gateway is refused, and nothing is appended', async () => {
    const ctx = { tenant: 'default', correlationId: 'forged', causationId: null, actor: { kind: 'system', id: 'forger' } };
    // A made-up session and client view, as a process on the bus could invent them.
    const client = {
      clientId: 'forged-client', applicationType: 'web', redirectUris: ['https://evil.example/cb'], grantTypes: ['authorization_code'],
      responseTypes: ['code'], tokenEndpointAuthMethod: 'none', scope: 'openid', idTokenSignedResponseAlg: 'RS256',
    };
    const forged = {
      [IssueAuthorization.subject]: {
        ctx, grantId: randomUUID(), clientId: client.clientId, redirectUri: client.redirectUris[0], responseType: 'code', scope: 'openid',
        session: { sessionId: randomUUID(), sub: 'victim', authTime: Math.floor(Date.now() / 1000), acr: '0', amr: ['pwd'] },
      },
      [GrantTokens.subject]: {
        ctx, client,
        grant: { grantType: 'authorization_code', code: `${randomUUID()}.forged`, redirectUri: client.redirectUris[0], codeVerifier: 'x'.repeat(43) },
      },
    };
    const before = await logLastSequence();
    for (const identity of NATS_IDENTITIES.filter((id) => id !== 'gateway')) {
      const nc = await as(identity);
      for (const [subject, data] of Object.entries(forged)) {
        const packet = JSON.stringify({ pattern: subject, data, id: randomUUID() });
        expect([identity, await publishRefusal(nc, subject, packet)]).toEqual([identity, permissionViolation('publish', subject)]);
      }
    }
    // The same message from the gateway does reach the token-issuer (which judges it on its own).
    const gateway = await as('gateway');
    const packet = JSON.stringify({ pattern: GrantTokens.subject, data: forged[GrantTokens.subject], id: randomUUID() });
    const reply = (await gateway.request(GrantTokens.subject, packet, { timeout: 20_000 })).json<{ response?: { ok: boolean } }>();
    expect(reply.response).toMatchObject({ ok: false });
    expect(await logLastSequence()).toBe(before);
  });
});

describe('NATS boundaries: the keyring is administered by the admin identity alone', () => {
  it('list, rotate and revoke signing keys from any other identity are refused by the server, and nothing is appended', async () => {
    // What a compromised gateway or backend would send, with a context that claims to be the admin.
    const ctx = { tenant: 'default', correlationId: 'forged', causationId: null, actor: { kind: 'admin', id: 'forger' } };
    const forged = {
      [ListSigningKeys.subject]: { ctx },
      [RotateSigningKeys.subject]: { ctx },
      [RevokeSigningKey.subject]: { ctx, kid: 'any', reason: 'compromised' },
    };
    const before = await logLastSequence();
    for (const identity of NATS_IDENTITIES.filter((id) => id !== 'admin')) {
      const nc = await as(identity);
      for (const [subject, data] of Object.entries(forged)) {
        const packet = JSON.stringify({ pattern: subject, data, id: randomUUID() });
        expect([identity, await publishRefusal(nc, subject, packet)]).toEqual([identity, permissionViolation('publish', subject)]);
      }
    }
    // The admin identity is served.
    const admin = await as('admin');
    const packet = JSON.stringify({ pattern: ListSigningKeys.subject, data: forged[ListSigningKeys.subject], id: randomUUID() });
    const reply = (await admin.request(ListSigningKeys.subject, packet, { timeout: 20_000 })).json<{ response?: { ok: boolean; value?: { keys: unknown[] } } }>();
    expect(reply.response).toMatchObject({ ok: true, value: { keys: expect.any(Array) } });
    expect(await logLastSequence()).toBe(before);
  });
});

describe('Redis boundaries of the same deployment (generated ACL file)', () => {
  const asRedisUser = async (user: 'authn' | 'token-issuer' | 'admin' | null) => {
    const client = createClient({
      url: topology.redisUrl,
      disableClientInfo: true,
      maintNotifications: 'disabled',
      ...(user ? { username: user, password: topology.secrets.redis[user] } : { RESP: 2 }),
    });
    client.on('error', () => {});
    return client;
  };

  it('a service writes only under its own namespace; a connection without credentials gets nothing', async () => {
    const authn = await asRedisUser('authn');
    await authn.connect();
    try {
      await expect(authn.hSet('{idp:proj:authn:}boundary-probe', 'f', 'v')).resolves.toBe(1);
      await authn.del('{idp:proj:authn:}boundary-probe');
      await expect(authn.hSet('{idp:proj:token-issuer:}boundary-probe', 'f', 'v')).rejects.toThrow(/NOPERM/);
      await expect(authn.hSet('boundary-probe', 'f', 'v')).rejects.toThrow(/NOPERM/);
      await expect(authn.sendCommand(['FLUSHALL'])).rejects.toThrow(/NOPERM/);
    } finally {
      await authn.quit();
    }
    const admin = await asRedisUser('admin');
    await admin.connect();
    try {
      await expect(admin.hSet('{idp:proj:authn:}boundary-probe', 'f', 'v')).rejects.toThrow(/NOPERM/);
    } finally {
      await admin.quit();
    }
    const anonymous = await asRedisUser(null);
    await anonymous.connect().catch(() => {});
    await expect(anonymous.sendCommand(['HSET', '{idp:proj:authn:}x', 'f', 'v'])).rejects.toThrow(/NOAUTH|WRONGPASS|NOPERM|closed/i);
    await anonymous.disconnect().catch(() => {});
  });
});
