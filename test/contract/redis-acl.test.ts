import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import {
  CLIENT_WATERMARK_KEY_PREFIX,
  USER_WATERMARK_KEY_PREFIX,
  REDIS_BACKENDS,
  REDIS_KEY_PREFIXES,
  redisAclFileLines,
  redisKeyPrefix,
  type RedisAclUserName,
} from '../../infra/projections/redis-acl.js';
import { RedisProjectionStore } from '../../infra/projections/redis.js';
import { clientWatermarkKey } from '../../services/shared/projections/client-watermark.js';
import { userWatermarkKey } from '../../services/shared/projections/user-watermark.js';
import { startRedis, type TestServer } from '../support/servers.js';
import { describeProjectionStoreContract } from './projection-store.contract.js';

/**
 * The Redis ACL of the projection stores, against a real redis-server started with the ACL file
 * that redisAclFileLines writes: each backend's user works in its own namespace and nowhere
 * else, runs only the store's commands, and the default user is off.
 */
const PASSWORDS: Record<RedisAclUserName, string> = {
  authn: 'authn-password-0123456789',
  'client-registry': 'registry-password-0123456789',
  'token-issuer': 'issuer-password-0123456789',
  admin: 'admin-password-0123456789',
};
const USERS = (Object.keys(PASSWORDS) as RedisAclUserName[]).map((service) => ({ service, password: PASSWORDS[service] }));

let dir: string;
let aclFile: string;
let server: TestServer;
const opened: RedisProjectionStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'redis-acl-'));
  aclFile = join(dir, 'users.acl');
  writeFileSync(aclFile, redisAclFileLines(USERS).join('\n') + '\n', { mode: 0o600 });
  server = await startRedis({ aclFile });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const as = (user: RedisAclUserName, keyPrefix: string, gcGraceMs?: number) =>
  RedisProjectionStore.connect(server.url, { keyPrefix, username: user, password: PASSWORDS[user], ...(gcGraceMs === undefined ? {} : { gcGraceMs }) });

async function open(user: RedisAclUserName, keyPrefix: string, gcGraceMs?: number): Promise<RedisProjectionStore> {
  const store = await as(user, keyPrefix, gcGraceMs);
  opened.push(store);
  return store;
}

/**
 * A plain client as one user (no CLIENT SETINFO, like the store); without a user it speaks RESP2,
 * so that it connects with no handshake at all (RESP3's HELLO would need credentials).
 */
async function raw(user?: RedisAclUserName, password = user && PASSWORDS[user]) {
  const client = createClient({
    url: server.url,
    disableClientInfo: true,
    maintNotifications: 'disabled',
    ...(user ? { username: user, password } : { RESP: 2 }),
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function closeAll(): Promise<void> {
  for (const store of opened.splice(0)) {
    await store.clear();
    await store.close();
  }
}

const CENTURY_MS = 100 * 365 * 24 * 3600 * 1000;

// The whole contract, as the token-issuer's ACL user in its own namespace.
describeProjectionStoreContract('redis as the token-issuer ACL user', async (options) => {
  const store = await open('token-issuer', REDIS_KEY_PREFIXES['token-issuer'], options?.gcGraceMs ?? CENTURY_MS);
  return { store, cleanup: closeAll };
});

describe('redisAclFileLines', () => {
  const lines = redisAclFileLines(USERS);
  const text = lines.join('\n');

  it('turns the default user off and holds each password only as its SHA-256', () => {
    expect(lines[0]).toBe('user default reset off');
    for (const [user, password] of Object.entries(PASSWORDS)) {
      expect(text).not.toContain(password);
      const sha = createHash('sha256').update(password).digest('hex');
      expect(lines.find((line) => line.startsWith(`user ${user} `))).toContain(` #${sha} `);
    }
  });

  it('gives each backend its own namespace, no channels and only the store\'s commands', () => {
    expect(lines.find((line) => line.startsWith('user authn '))).toBe(
      `user authn reset on #${createHash('sha256').update(PASSWORDS.authn).digest('hex')} ~{idp:proj:authn:}* resetchannels -@all ` +
        '+ping +hget +hmget +hset +del +pttl +pexpireat +evalsha +eval +scan +unlink',
    );
    expect(lines.find((line) => line.startsWith('user token-issuer '))).toContain(
      '~{idp:proj:token-issuer:}* %R~{idp:proj:client-registry:}k:client-watermark:* %R~{idp:proj:authn:}k:user-watermark:* resetchannels -@all',
    );
    expect(lines.find((line) => line.startsWith('user admin '))).toMatch(/ %R~\{idp:proj:\* resetchannels -@all \+ping \+hget \+hmget \+scan$/);
    for (const forbidden of ['flushall', 'flushdb', 'config', 'keys', 'debug', 'acl', 'script', 'info', 'client', 'select', '@']) {
      expect(text).not.toMatch(new RegExp(`\\+${forbidden}\\b`));
    }
  });

  it('names the watermark key family the services write', () => {
    expect(clientWatermarkKey('t', 'c').startsWith(CLIENT_WATERMARK_KEY_PREFIX)).toBe(true);
    expect(userWatermarkKey('t', 'u').startsWith(USER_WATERMARK_KEY_PREFIX)).toBe(true);
    expect(REDIS_BACKENDS.map(redisKeyPrefix)).toEqual(['idp:proj:authn:', 'idp:proj:client-registry:', 'idp:proj:token-issuer:']);
  });

  it('refuses an unknown user, a user twice, and a short or missing password', () => {
    expect(() => redisAclFileLines([{ service: 'gateway' as RedisAclUserName, password: PASSWORDS.authn }])).toThrow(/unknown Redis ACL user "gateway"/);
    expect(() => redisAclFileLines([USERS[0]!, USERS[0]!])).toThrow(/given twice/);
    expect(() => redisAclFileLines([{ service: 'authn', password: 'short' }])).toThrow(/at least 16/);
    expect(() => redisAclFileLines([{ service: 'authn', password: undefined as unknown as string }])).toThrow(/at least 16/);
  });

  it('is what the server was started with: the file holds no plaintext password', () => {
    expect(readFileSync(aclFile, 'utf8')).toBe(text + '\n');
  });
});

describe('the Redis ACL at a real server', () => {
  afterEach(closeAll);

  it('refuses a service\'s writes outside its namespace: another service\'s keys and bare keys (NOPERM)', async () => {
    // The authn user driving a store in the token-issuer's namespace: the script is refused.
    const trespasser = await as('authn', REDIS_KEY_PREFIXES['token-issuer']);
    try {
      await expect(trespasser.apply([{ kind: 'put', key: 'grant-revoked:default:g1', value: 'planted' }], 1, 'token-issuer')).rejects.toThrow(/NOPERM|can't access/);
      await expect(trespasser.get('grant-revoked:default:g1')).rejects.toThrow(/NOPERM/);
      await expect(trespasser.checkpoint('token-issuer')).rejects.toThrow(/NOPERM/);
    } finally {
      await trespasser.close();
    }
    const authn = await raw('authn');
    try {
      for (const key of ['{idp:proj:token-issuer:}k:x', '{idp:proj:client-registry:}checkpoints', 'bare', 'idp:proj:authn:k:x', '{idp:proj:authn-x:}k:x', '{idp:proj:}k:x']) {
        await expect(authn.hSet(key, 'p', '1')).rejects.toThrow(/NOPERM/);
      }
      // A script that names no key but writes one is refused by its call.
      await expect(authn.eval("return redis.call('HSET', 'bare', 'p', '1')", { keys: [] })).rejects.toThrow(/can't access/);
      await expect(authn.eval("return redis.call('HSET', KEYS[1], 'p', '1')", { keys: ['{idp:proj:client-registry:}k:x'] })).rejects.toThrow(/NOPERM/);
      // Its own namespace, braces and all, is writable.
      expect(await authn.hSet('{idp:proj:authn:}k:mine', 'p', '1')).toBe(1);
      await authn.del('{idp:proj:authn:}k:mine');
    } finally {
      await authn.close();
    }
    const admin = await raw('admin');
    try {
      expect(await admin.hGet('{idp:proj:token-issuer:}k:grant-revoked:default:g1', 'v')).toBeNull(); // nothing was planted
    } finally {
      await admin.close();
    }
  });

  it('refuses FLUSHALL, FLUSHDB, CONFIG, KEYS, DEBUG, ACL, SCRIPT, INFO and CLIENT to every user', async () => {
    for (const user of ['authn', 'client-registry', 'token-issuer', 'admin'] as const) {
      const client = await raw(user);
      try {
        for (const command of [['FLUSHALL'], ['FLUSHDB'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'appendonly', 'yes'], ['KEYS', '*'], ['DEBUG', 'SLEEP', '0'], ['ACL', 'LIST'], ['SCRIPT', 'FLUSH'], ['INFO'], ['CLIENT', 'LIST'], ['SELECT', '1'], ['SUBSCRIBE', 'x']]) {
          // redis-server refuses DEBUG to remote connections before the ACL is asked.
          await expect(client.sendCommand(command)).rejects.toThrow(command[0] === 'DEBUG' ? /NOPERM|DEBUG command not allowed/ : /NOPERM/);
        }
      } finally {
        await client.close();
      }
    }
  });

  it('lets the token-issuer read, not write, the client-registry\'s watermarks, and nothing else of it', async () => {
    const registry = await open('client-registry', REDIS_KEY_PREFIXES['client-registry']);
    const mark = { revokedThrough: 1_800_000_000, deleted: false };
    await registry.apply(
      [
        { kind: 'put', key: clientWatermarkKey('default', 'c1'), value: mark },
        { kind: 'put', key: 'client-secret:default:c1', value: { secretHash: 'x' } },
      ],
      7,
      'client-registry',
    );
    const view = await as('token-issuer', REDIS_KEY_PREFIXES['client-registry']);
    try {
      expect(await view.get(clientWatermarkKey('default', 'c1'))).toEqual(mark);
      await expect(view.get('client-secret:default:c1')).rejects.toThrow(/NOPERM/);
      await expect(view.checkpoint('client-registry')).rejects.toThrow(/NOPERM/);
      await expect(view.apply([{ kind: 'put', key: clientWatermarkKey('default', 'c1'), value: { revokedThrough: 0, deleted: false } }], 99)).rejects.toThrow(/NOPERM|can't access/);
    } finally {
      await view.close();
    }
    expect(await registry.get(clientWatermarkKey('default', 'c1'))).toEqual(mark);
  });

  it('lets the token-issuer read, not write, authn\'s user watermarks, and nothing else of it', async () => {
    const authn = await open('authn', REDIS_KEY_PREFIXES.authn);
    const mark = { revokedThrough: 1_800_000_000, refusesAll: 'disabled' };
    await authn.apply(
      [
        { kind: 'put', key: userWatermarkKey('default', 'u1'), value: mark },
        { kind: 'put', key: 'user:default:u1', value: { sub: 'u1' } },
      ],
      8,
      'authn',
    );
    const view = await as('token-issuer', REDIS_KEY_PREFIXES.authn);
    try {
      expect(await view.get(userWatermarkKey('default', 'u1'))).toEqual(mark);
      await expect(view.get('user:default:u1')).rejects.toThrow(/NOPERM/);
      await expect(view.get('session:default:s1')).rejects.toThrow(/NOPERM/);
      await expect(view.apply([{ kind: 'put', key: userWatermarkKey('default', 'u1'), value: { revokedThrough: 0, refusesAll: null } }], 99)).rejects.toThrow(/NOPERM|can't access/);
    } finally {
      await view.close();
    }
    expect(await authn.get(userWatermarkKey('default', 'u1'))).toEqual(mark);
  });

  it('lets the admin read every namespace and write none', async () => {
    const authn = await open('authn', REDIS_KEY_PREFIXES.authn);
    await authn.apply([{ kind: 'put', key: 'user:default:s1', value: { sub: 's1' } }], 3, 'authn');
    const admin = await as('admin', REDIS_KEY_PREFIXES.authn);
    try {
      expect(await admin.get('user:default:s1')).toEqual({ sub: 's1' });
      expect(await admin.checkpoint('authn')).toBe(3);
      expect(await admin.digest()).toBe(await authn.digest());
      await expect(admin.apply([{ kind: 'put', key: 'user:default:s1', value: 'planted' }], 4, 'authn')).rejects.toThrow(/NOPERM/);
      await expect(admin.clear()).rejects.toThrow(/NOPERM/);
    } finally {
      await admin.close();
    }
    expect(await authn.get('user:default:s1')).toEqual({ sub: 's1' });
  });

  it('refuses a wrong password, another user\'s password, and a connection without credentials (the default user is off)', async () => {
    await expect(as('authn', REDIS_KEY_PREFIXES.authn).then((s) => s.close())).resolves.toBeUndefined();
    await expect(
      RedisProjectionStore.connect(server.url, { keyPrefix: REDIS_KEY_PREFIXES.authn, username: 'authn', password: 'wrong-password-0123456789' }),
    ).rejects.toThrow(/WRONGPASS/);
    await expect(
      RedisProjectionStore.connect(server.url, { keyPrefix: REDIS_KEY_PREFIXES.authn, username: 'authn', password: PASSWORDS['token-issuer'] }),
    ).rejects.toThrow(/WRONGPASS/);
    const anonymous = await raw();
    try {
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      await expect(anonymous.hGet('{idp:proj:authn:}checkpoints', 'authn')).rejects.toThrow(/NOAUTH/);
      await expect(anonymous.sendCommand(['AUTH', 'default', ''])).rejects.toThrow(/WRONGPASS/);
      await expect(anonymous.sendCommand(['AUTH', 'nopass'])).rejects.toThrow(/WRONGPASS/);
    } finally {
      anonymous.destroy();
    }
  });
});
