import { randomBytes } from 'node:crypto';
import { NatsKvDataKeyStore } from '../../infra/crypto/data-keys/nats-kv.js';
import { startNats, type TestServer } from '../support/servers.js';
import { describeDataKeyStoreContract } from './data-key-store.contract.js';

let nats: TestServer;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

const kek = randomBytes(32);
describeDataKeyStoreContract('NATS KV', () =>
  NatsKvDataKeyStore.connect(nats.url, kek, { bucket: `dk_${randomBytes(6).toString('hex')}` }),
);

describe('NATS KV data keys across connections', () => {
  it('two replicas racing on one subject agree on one key, and a destroy is seen by both', async () => {
    const bucket = `dk_${randomBytes(6).toString('hex')}`;
    const a = await NatsKvDataKeyStore.connect(nats.url, kek, { bucket });
    const b = await NatsKvDataKeyStore.connect(nats.url, kek, { bucket });
    try {
      const subjects = Array.from({ length: 20 }, (_, i) => `sub-${i}`);
      const [fromA, fromB] = await Promise.all([
        Promise.all(subjects.map((s) => a.getOrCreate('default', s))),
        Promise.all(subjects.map((s) => b.getOrCreate('default', s))),
      ]);
      fromA.forEach((key, i) => expect(key.equals(fromB[i]!)).toBe(true));
      await a.destroy('default', 'sub-3');
      expect(await b.get('default', 'sub-3')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a wrong KEK cannot unwrap the stored keys', async () => {
    const bucket = `dk_${randomBytes(6).toString('hex')}`;
    const right = await NatsKvDataKeyStore.connect(nats.url, kek, { bucket });
    const wrong = await NatsKvDataKeyStore.connect(nats.url, randomBytes(32), { bucket });
    try {
      await right.getOrCreate('default', 'someone');
      await expect(wrong.get('default', 'someone')).rejects.toThrow(/unwrap/);
    } finally {
      await right.close();
      await wrong.close();
    }
  });
});

describe('NATS KV data keys: replicas of the bucket', () => {
  it('creates the bucket with the replicas asked for (1 here)', async () => {
    const bucket = `dk_${randomBytes(6).toString('hex')}`;
    const store = await NatsKvDataKeyStore.connect(nats.url, kek, { bucket, replicas: 1 });
    try {
      expect(await store.replicas()).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('refuses, saying why, more replicas than a non-clustered server keeps', async () => {
    const bucket = `dk_${randomBytes(6).toString('hex')}`;
    await expect(NatsKvDataKeyStore.connect(nats.url, kek, { bucket, replicas: 3 })).rejects.toThrow(/3 replica/);
  });
});
