import { DataKeysUrl, EventStoreUrl } from '../../infra/config/adapter-urls.js';

describe('EVENT_STORE_URL for JetStream', () => {
  it.each([
    ['nats://127.0.0.1:4222', { kind: 'jetstream', url: 'nats://127.0.0.1:4222', replicas: 1 }],
    ['nats://nats:4222?replicas=3', { kind: 'jetstream', url: 'nats://nats:4222', replicas: 3 }],
    ['nats://nats:4222?replicas=5', { kind: 'jetstream', url: 'nats://nats:4222', replicas: 5 }],
    ['nats://user:pw@nats:4222?replicas=1', { kind: 'jetstream', url: 'nats://user:pw@nats:4222', replicas: 1 }],
  ])('parses %s', (given, expected) => {
    expect(EventStoreUrl.parse(given)).toStrictEqual(expected);
  });

  it.each([
    ['nats://nats:4222?replicas=0', /replicas must be 1 to 5.*got "0"/],
    ['nats://nats:4222?replicas=6', /replicas must be 1 to 5/],
    ['nats://nats:4222?replicas=three', /replicas must be 1 to 5/],
    ['nats://nats:4222?replicas=', /replicas must be 1 to 5/],
    ['nats://nats:4222?replica=3', /unknown option "replica".*takes \?replicas=1\.\.5/],
  ])('refuses %s, saying why', (given, message) => {
    const parsed = EventStoreUrl.safeParse(given);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message).join('\n')).toMatch(message);
  });

  it('keeps a password in the URL out of its messages', () => {
    const parsed = EventStoreUrl.safeParse('nats://idp:s3cret@nats:4222?replicas=9');
    expect(JSON.stringify(parsed.error?.issues)).not.toContain('s3cret');
  });
});

describe('IDP_DATA_KEYS_URL for NATS KV', () => {
  it.each([
    ['nats://nats:4222', { kind: 'nats-kv', url: 'nats://nats:4222', replicas: 1 }],
    ['nats://nats:4222?replicas=3', { kind: 'nats-kv', url: 'nats://nats:4222', replicas: 3 }],
  ])('parses %s', (given, expected) => {
    expect(DataKeysUrl.parse(given)).toStrictEqual(expected);
  });

  it('refuses an unknown option or a bad replica count, naming the variable', () => {
    for (const [given, message] of [
      ['nats://nats:4222?replicas=7', /replicas must be 1 to 5 in IDP_DATA_KEYS_URL/],
      ['nats://nats:4222?bucket=x', /unknown option "bucket" in IDP_DATA_KEYS_URL/],
    ] as const) {
      const parsed = DataKeysUrl.safeParse(given);
      expect(parsed.error?.issues.map((issue) => issue.message).join('\n')).toMatch(message);
    }
  });
});
