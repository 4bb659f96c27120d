import { createHash } from 'node:crypto';
import {
  CURRENT_HASH_VERSION,
  eventHash,
  eventHashFor,
  eventHashV2,
  genesisHash,
} from '../../services/shared/app/event-hash.js';

/** The event hash versions (DESIGN §4): v1 must never move, v2 is pinned to its written definition. */

const metadataV1 = {
  eventId: '01890a5d-ac96-774b-bcce-b302099a8057',
  time: '2026-01-02T03:04:05.000Z',
  tenant: 'acme',
  correlationId: 'corr-1',
  causationId: null,
  actor: { kind: 'user', id: 'sub-1' },
  service: 'authn',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  previousHash: null as string | null,
};
const eventV1 = {
  type: 'consent.granted',
  schemaVersion: 1,
  data: { sub: 'sub-1', clientId: 'client-1', scopes: ['openid', 'email'] },
  metadata: metadataV1,
};

const ACME_GENESIS = 'ed1c9cc8148492c49cf6adf70a4ccbf84acbf8a012a227b79f44a71155ed7532';
const eventV2 = {
  ...eventV1,
  metadata: { ...metadataV1, previousHash: ACME_GENESIS, hashVersion: 2 },
  streamName: 'consent-acme-sub-1.client-1',
  streamIndex: 0,
};

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('event hash version 1', () => {
  it('is unchanged: the hashes the code computed before version 2 existed', () => {
    // Pinned from the code as it was before version 2 (and by an independent RFC 8785 encoder).
    expect(eventHash(eventV1)).toBe('850ff0449fc1c129d90f42f32e1642638c0e39ca412c2e6d319b7362d09c709b');
    const second = {
      ...eventV1,
      metadata: { ...metadataV1, eventId: '01890a5d-ac96-774b-bcce-b302099a8058', previousHash: eventHash(eventV1) },
    };
    expect(eventHash(second)).toBe('dbd7d2650e658392171246bcf2b982f0bacd9cb2bcabe0ef22a9801067da221c');
  });

  it('ignores where the event stands, which is why version 2 exists', () => {
    expect(eventHashFor(1, { ...eventV1, streamName: 'a-acme-x', streamIndex: 0 })).toBe(
      eventHashFor(1, { ...eventV1, streamName: 'b-acme-y', streamIndex: 7 }),
    );
  });
});

describe('event hash version 2', () => {
  it('is SHA-256 over the canonical JSON of stream name, stream index, type, schema version, data and metadata', () => {
    // RFC 8785 written out by hand: keys sorted at every level, no whitespace.
    const canonical =
      '{"data":{"clientId":"client-1","scopes":["openid","email"],"sub":"sub-1"},' +
      '"metadata":{"actor":{"id":"sub-1","kind":"user"},"causationId":null,"correlationId":"corr-1",' +
      '"eventId":"01890a5d-ac96-774b-bcce-b302099a8057","hashVersion":2,' +
      `"previousHash":"${ACME_GENESIS}","service":"authn","tenant":"acme",` +
      '"time":"2026-01-02T03:04:05.000Z","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},' +
      '"schemaVersion":1,"streamIndex":0,"streamName":"consent-acme-sub-1.client-1","type":"consent.granted"}';
    expect(eventHashV2(eventV2)).toBe(sha256(canonical));
    expect(eventHashV2(eventV2)).toBe('126a03da774bbda66a7d7d10c6ce86b3900f2ace1f6025b729975a25c72dbb7a');
    expect(eventHashFor(2, eventV2)).toBe(eventHashV2(eventV2));
    expect(CURRENT_HASH_VERSION).toBe(2);
  });

  it('commits to the stream name, the stream index, the data and every metadata field', () => {
    const hash = eventHashV2(eventV2);
    expect(eventHashV2({ ...eventV2, streamName: 'consent-acme-sub-2.client-1' })).not.toBe(hash);
    expect(eventHashV2({ ...eventV2, streamIndex: 1 })).not.toBe(hash);
    expect(eventHashV2({ ...eventV2, data: { ...eventV2.data, scopes: ['openid'] } })).not.toBe(hash);
    expect(eventHashV2({ ...eventV2, metadata: { ...eventV2.metadata, previousHash: 'f'.repeat(64) } })).not.toBe(hash);
    expect(eventHashV2({ ...eventV2, metadata: { ...eventV2.metadata, tenant: 'other' } })).not.toBe(hash);
  });

  it('differs from version 1 of the same content', () => {
    const { streamName: _name, streamIndex: _index, ...content } = eventV2;
    expect(eventHash(content)).not.toBe(eventHashV2(eventV2));
  });

  it('refuses metadata that does not declare version 2, and an index that is no index', () => {
    expect(() => eventHashV2({ ...eventV2, metadata: metadataV1 })).toThrow(/hashVersion 2/);
    expect(() => eventHashV2({ ...eventV2, metadata: { ...eventV2.metadata, hashVersion: 3 } })).toThrow(/hashVersion 2/);
    expect(() => eventHashV2({ ...eventV2, streamIndex: -1 })).toThrow(RangeError);
    expect(() => eventHashV2({ ...eventV2, streamIndex: 1.5 })).toThrow(RangeError);
  });
});

describe('genesisHash', () => {
  it('is SHA-256 of the domain-separated string and the tenant id', () => {
    expect(genesisHash('acme')).toBe(sha256('idp/event-hash/v2/genesis:acme'));
    expect(genesisHash('acme')).toBe(ACME_GENESIS);
    expect(genesisHash('default')).toBe('98b6f376d165cbce44af2e6db7b0d587a0f0af5de4008490aabfccf857664fe9');
  });

  it('differs per tenant', () => {
    expect(genesisHash('acme')).not.toBe(genesisHash('acme_eu'));
  });

  it('refuses what is not a tenant id', () => {
    for (const tenant of ['', 'Acme', 'a:b', 'a-b']) expect(() => genesisHash(tenant)).toThrow(/tenant/);
  });
});
