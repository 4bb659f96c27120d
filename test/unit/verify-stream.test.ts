import { EventMetadata } from '../../contracts/events/metadata.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import type { NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { eventHashV2 } from '../../services/shared/app/event-hash.js';
import { FAILURE_REASONS, type IntegrityFailure } from '../../services/shared/integrity/check-event.js';
import { verifyLog, verifyStream } from '../../services/shared/integrity/verify-log.js';
import { appendV1Consents, consentStream, grantConsent, verbatim } from '../support/hash-chain.js';

/** The rules of the integrity check one by one (DESIGN §4), each with the failure it must name. */

const reasons = (failures: IntegrityFailure[]) => failures.map((f) => f.reason).sort();

/** A version 2 event for index `streamIndex` of `streamName`, with metadata bent by `edit`, hashed correctly. */
function hashedV2(
  like: RecordedEvent,
  streamName: string,
  streamIndex: number,
  edit: (metadata: EventMetadata) => object,
): NewEvent {
  const metadata = edit(EventMetadata.parse(like.metadata));
  const body = { type: like.type, schemaVersion: like.schemaVersion, data: like.data, metadata };
  return { ...body, hash: eventHashV2({ ...body, streamName, streamIndex }) };
}

describe('the integrity check, rule by rule', () => {
  let store: InMemoryEventStore;
  const alice = consentStream('acme', 'alice');
  beforeEach(() => {
    store = new InMemoryEventStore();
  });
  afterEach(() => store.close());

  it('has a reason code for every kind of damage', () => {
    expect([...FAILURE_REASONS].sort()).toEqual([
      'bad_stream_name',
      'broken_chain',
      'hash_mismatch',
      'hash_version_downgrade',
      'index_duplicate',
      'index_gap',
      'malformed_metadata',
      'not_stream_owner',
      'tenant_mismatch',
      'unknown_hash_version',
      'wrong_genesis',
    ]);
  });

  it('an event seen twice is a duplicate index (and no longer chains)', async () => {
    await grantConsent(store, alice, ['openid']);
    await grantConsent(store, alice, ['email']);
    const [first, second] = (await store.readStream(alice)).events;
    const report = verifyStream([first!, second!, second!]);
    expect(report.failures.map((f) => [f.streamIndex, f.reason]).sort()).toEqual([
      [1, 'broken_chain'],
      [1, 'index_duplicate'],
    ]);
    expect(report.failures[0]!.eventId).toBe(EventMetadata.parse(second!.metadata).eventId);
  });

  it('a correctly hashed event pointing at the wrong predecessor breaks the chain', async () => {
    const [first] = await grantConsent(store, alice, ['openid']);
    const { version } = await store.readStream(alice);
    await store.append(alice, [hashedV2(first!, alice, 1, (m) => ({ ...m, previousHash: 'a'.repeat(64) }))], version!);
    expect(verifyStream((await store.readStream(alice)).events).failures).toEqual([
      expect.objectContaining({ reason: 'broken_chain', streamIndex: 1 }),
    ]);
  });

  it('a missing event in the middle of a stream is a gap', async () => {
    await grantConsent(store, alice, ['openid']);
    await grantConsent(store, alice, ['email']);
    await grantConsent(store, alice, ['phone']);
    const [first, , third] = (await store.readStream(alice)).events;
    expect(reasons(verifyStream([first!, third!]).failures)).toEqual(['broken_chain', 'index_gap']);
  });

  it('a version 1 stream must start at null', async () => {
    const [first, second] = await appendV1Consents(store, alice, 'acme', [['openid'], ['email']]);
    expect(verifyStream([first!, second!]).ok).toBe(true);
    expect(verifyStream([{ ...second!, streamIndex: 0 }]).failures).toEqual([
      expect.objectContaining({ reason: 'wrong_genesis' }),
    ]);
  });

  it('an unknown hash version is reported and not guessed at; the stream goes on from its stored hash', async () => {
    const [first] = await grantConsent(store, alice, ['openid']);
    const { version } = await store.readStream(alice);
    const future = {
      ...verbatim(first!),
      metadata: { ...EventMetadata.parse(first!.metadata), previousHash: first!.hash, hashVersion: 3 },
      hash: 'b'.repeat(64),
    };
    const [stored] = (await store.append(alice, [future], version!)).events;
    const next = (await store.readStream(alice)).version!;
    await store.append(alice, [hashedV2(first!, alice, 2, (m) => ({ ...m, previousHash: stored!.hash }))], next);

    const report = await verifyLog(store);
    expect(report.failures).toEqual([expect.objectContaining({ reason: 'unknown_hash_version', streamIndex: 1 })]);
    expect(report.eventsByHashVersion).toEqual({ 1: 0, 2: 2 });
  });

  it('metadata that does not parse is malformed, with the event id when there is one', async () => {
    const [first] = await grantConsent(store, alice, ['openid']);
    const { tenant: _dropped, ...withoutTenant } = EventMetadata.parse(first!.metadata);
    const other = consentStream('acme', 'bob');
    const [stored] = (await store.append(other, [{ ...verbatim(first!), metadata: withoutTenant }], 'no_stream')).events;
    await store.append(consentStream('acme', 'carol'), [{ ...verbatim(first!), metadata: 'not an object' }], 'no_stream');

    const report = await verifyLog(store);
    expect(report.failures).toEqual([
      expect.objectContaining({
        reason: 'malformed_metadata',
        streamName: other,
        position: stored!.position,
        eventId: withoutTenant.eventId,
        detail: expect.stringContaining('tenant'),
      }),
      expect.objectContaining({ reason: 'malformed_metadata', streamName: consentStream('acme', 'carol'), eventId: null }),
    ]);
  });

  it('a stream name without a tenant is reported', async () => {
    const [first] = await grantConsent(store, consentStream('acme', 'model'), ['openid']);
    await store.append('NoTenantHere', [hashedV2(first!, 'NoTenantHere', 0, (m) => m)], 'no_stream');
    expect(reasons((await verifyLog(store)).failures)).toEqual(['bad_stream_name']);
  });

  it("an event whose metadata.service is not its stream's owner is reported, however well it is hashed", async () => {
    const [first] = await grantConsent(store, alice, ['openid']);
    const bob = consentStream('acme', 'bob');
    const forged = hashedV2(first!, bob, 0, (m) => ({ ...m, service: 'token-issuer' }));
    await store.append(bob, [forged], 'no_stream');
    const report = await verifyLog(store);
    expect(report.failures).toEqual([
      expect.objectContaining({
        reason: 'not_stream_owner',
        streamName: bob,
        streamIndex: 0,
        detail: "metadata.service is token-issuer, the consent stream's owner is authn",
      }),
    ]);
  });

  it('an event on a stream no aggregate writes is reported as no owner\'s', async () => {
    const [first] = await grantConsent(store, alice, ['openid']);
    const stray = 'ledger-acme-1';
    await store.append(stray, [hashedV2(first!, stray, 0, (m) => m)], 'no_stream');
    expect((await verifyLog(store)).failures).toEqual([
      expect.objectContaining({ reason: 'not_stream_owner', streamName: stray, detail: expect.stringContaining('no aggregate writes') }),
    ]);
  });

  it('keeps at most maxFailures failures but counts them all', async () => {
    const [first] = await grantConsent(store, alice, ['openid']);
    for (const who of ['m1', 'm2', 'm3']) await store.append(consentStream('acme', who), [verbatim(first!)], 'no_stream');
    const report = await verifyLog(store, { maxFailures: 2 });
    expect(report).toMatchObject({ ok: false, failureCount: 3 });
    expect(report.failures.map((f) => f.streamName)).toEqual([consentStream('acme', 'm1'), consentStream('acme', 'm2')]);
  });

  it('an empty log verifies', async () => {
    expect(await verifyLog(store)).toEqual({
      ok: true,
      eventsChecked: 0,
      streamsChecked: 0,
      eventsByHashVersion: { 1: 0, 2: 0 },
      lastPosition: 0,
      failureCount: 0,
      failures: [],
    });
  });
});
