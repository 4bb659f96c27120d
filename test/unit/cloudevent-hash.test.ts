import { toCloudEvent, type CloudEvent } from '../../infra/event-relay/cloudevent.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { eventHashFor, genesisHash, type HashVersion } from '../../services/shared/app/event-hash.js';
import { appendV1Consents, consentStream, grantConsent } from '../support/hash-chain.js';

/**
 * The live stream carries what a consumer needs to check an event's hash without the log
 * (DESIGN §4, §9): the hash version and the stream index, next to the subject (the stream name).
 */
function recomputeHash(ce: CloudEvent): string {
  const [, , tenant, service] = ce.source.split(':');
  const colon = ce.idpactor.indexOf(':');
  const metadata = {
    eventId: ce.id,
    time: ce.time,
    tenant,
    correlationId: ce.idpcorrelationid,
    causationId: ce.idpcausationid ?? null,
    actor: { kind: ce.idpactor.slice(0, colon), id: ce.idpactor.slice(colon + 1) },
    service,
    ...(ce.traceparent === undefined ? {} : { traceparent: ce.traceparent }),
    previousHash: ce.idpprevioushash ?? null,
    ...(ce.idphashversion === 1 ? {} : { hashVersion: ce.idphashversion }),
  };
  return eventHashFor(ce.idphashversion as HashVersion, {
    streamName: ce.subject,
    streamIndex: ce.idpstreamindex,
    type: ce.type,
    schemaVersion: ce.idpschemaversion,
    data: ce.data,
    metadata,
  });
}

describe('CloudEvents of the live stream and the hash version', () => {
  let store: InMemoryEventStore;
  beforeEach(() => {
    store = new InMemoryEventStore();
  });
  afterEach(() => store.close());

  it('a version 2 event says so, and its hash can be recomputed from the CloudEvent alone', async () => {
    const stream = consentStream('acme', 'alice');
    await grantConsent(store, stream, ['openid']);
    await grantConsent(store, stream, ['email']);
    const [first, second] = (await store.readStream(stream)).events.map((e) => toCloudEvent(e).data);

    expect(first).toMatchObject({ idphashversion: 2, idpstreamindex: 0, idpprevioushash: genesisHash('acme') });
    expect(second).toMatchObject({ idphashversion: 2, idpstreamindex: 1, idpprevioushash: first!.idphash });
    expect(recomputeHash(first!)).toBe(first!.idphash);
    expect(recomputeHash(second!)).toBe(second!.idphash);
    // The index matters: the same event claimed at another place does not verify.
    expect(recomputeHash({ ...second!, idpstreamindex: 0 })).not.toBe(second!.idphash);
  });

  it('a version 1 event says version 1, and has no previous hash when it is first', async () => {
    const stream = consentStream('acme', 'bob');
    const [first] = await appendV1Consents(store, stream, 'acme', [['openid']]);
    const ce = toCloudEvent(first!).data;
    expect(ce.idphashversion).toBe(1);
    expect(ce.idpstreamindex).toBe(0);
    expect(ce).not.toHaveProperty('idpprevioushash');
    expect(recomputeHash(ce)).toBe(first!.hash);
  });
});
