import { ConsentEvent } from '../../contracts/events/consent.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { EventMetadata, type RequestContext } from '../../contracts/events/metadata.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { EventStoreUnavailableError } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import { authnProjections, keys } from '../../services/authn/projections/authn.projections.js';
import { consentDecider } from '../../services/authn/domain/consent/consent.js';
import { sessionDecider } from '../../services/authn/domain/session/session.js';
import { SessionEvent } from '../../contracts/events/session.js';
import { handleCommand, NotStreamOwnerError } from '../../services/shared/app/command-handler.js';
import { eventHashV2, genesisHash } from '../../services/shared/app/event-hash.js';

const ctx: RequestContext = {
  tenant: 'acme',
  correlationId: 'corr-1',
  causationId: null,
  actor: { kind: 'user', id: 'sub-1' },
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};
const stream = 'consent-acme-sub-1.client-1';
const grant = (scopes: string[]) => ({ type: 'grant_consent' as const, sub: 'sub-1', clientId: 'client-1', scopes });

describe('handleCommand: load, decide, append at the expected version', () => {
  let store: InMemoryEventStore;
  beforeEach(() => {
    store = new InMemoryEventStore();
  });
  afterEach(() => store.close());

  it('stamps DESIGN §4 metadata on every event', async () => {
    const fixed = new Date('2026-01-02T03:04:05.000Z');
    await handleCommand(
      { store, service: 'authn', clock: () => fixed },
      { streamName: stream, decider: consentDecider, schema: ConsentEvent, command: grant(['openid']), ctx },
    );
    const [event] = (await store.readStream(stream)).events;
    const metadata = EventMetadata.parse(event!.metadata);
    expect(metadata).toMatchObject({
      time: fixed.toISOString(),
      tenant: 'acme',
      correlationId: 'corr-1',
      causationId: null,
      actor: { kind: 'user', id: 'sub-1' },
      service: 'authn',
      traceparent: ctx.traceparent,
      previousHash: genesisHash('acme'),
      hashVersion: 2,
    });
    expect(metadata.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('chains each event to its stream predecessor (the first to the genesis), hashing it with its place', async () => {
    const deps = { store, service: 'authn' as const };
    const args = { streamName: stream, decider: consentDecider, schema: ConsentEvent, ctx };
    await handleCommand(deps, { ...args, command: grant(['openid']) });
    await handleCommand(deps, { ...args, command: grant(['openid', 'email']) });
    await handleCommand(deps, { ...args, command: grant(['profile']) });
    const { events } = await store.readStream(stream);
    expect(events).toHaveLength(3);
    let previous = genesisHash('acme');
    for (const event of events) {
      expect(EventMetadata.parse(event.metadata).previousHash).toBe(previous);
      expect(eventHashV2(event)).toBe(event.hash);
      previous = event.hash;
    }
    // Editing an event's data breaks its hash, and so does moving it.
    const edited = { ...events[1]!, data: { ...(events[1]!.data as object), scopes: ['openid'] } };
    expect(eventHashV2(edited)).not.toBe(events[1]!.hash);
    expect(eventHashV2({ ...events[1]!, streamName: 'consent-acme-sub-2.client-1' })).not.toBe(events[1]!.hash);
    expect(eventHashV2({ ...events[1]!, streamIndex: 2 })).not.toBe(events[1]!.hash);
  });

  it('expectNewStream: skips the read on a new stream, and on one that exists after all decides on its real state', async () => {
    const deps = { store, service: 'authn' as const };
    const args = { streamName: stream, decider: consentDecider, schema: ConsentEvent, ctx, expectNewStream: true };
    const reads: string[] = [];
    const readStream = store.readStream.bind(store);
    store.readStream = async (name: string) => {
      reads.push(name);
      return readStream(name);
    };
    await handleCommand(deps, { ...args, command: grant(['openid']) });
    expect(reads).toEqual([]);
    expect((await readStream(stream)).events).toHaveLength(1);
    // The stream exists: the first append (no_stream) fails, the retry reads and folds it.
    const again = await handleCommand(deps, { ...args, command: grant(['openid', 'email']) });
    expect(reads).toEqual([stream]);
    expect(again.state).not.toEqual(consentDecider.initialState());
    const { events } = await readStream(stream);
    expect(events).toHaveLength(2);
    expect(EventMetadata.parse(events[1]!.metadata).previousHash).toBe(events[0]!.hash);
    expect(events[1]!.streamIndex).toBe(1);
  });

  it('refuses a malformed tenant as invalid_request (it has no genesis), and appends nothing', async () => {
    const error = await handleCommand(
      { store, service: 'authn' },
      {
        streamName: stream,
        decider: consentDecider,
        schema: ConsentEvent,
        command: grant(['openid']),
        ctx: { ...ctx, tenant: 'Acme' },
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_request');
    expect(await store.readAll()).toEqual([]);
  });

  it('a decision with no events appends nothing', async () => {
    const deps = { store, service: 'authn' as const };
    const args = { streamName: stream, decider: consentDecider, schema: ConsentEvent, ctx };
    await handleCommand(deps, { ...args, command: grant(['openid', 'email']) });
    const again = await handleCommand(deps, { ...args, command: grant(['email']) });
    expect(again.appended).toEqual([]);
    expect((await store.readStream(stream)).events).toHaveLength(1);
  });

  it('the loser of a race retries on fresh state, so both decisions land', async () => {
    const deps = { store, service: 'authn' as const };
    const args = { streamName: stream, decider: consentDecider, schema: ConsentEvent, ctx };
    await Promise.all([
      handleCommand(deps, { ...args, command: grant(['openid']) }),
      handleCommand(deps, { ...args, command: grant(['email']) }),
      handleCommand(deps, { ...args, command: grant(['profile']) }),
    ]);
    const { events } = await store.readStream(stream);
    const last = ConsentEvent.parse({ ...events.at(-1)!, schemaVersion: events.at(-1)!.schemaVersion });
    expect(new Set(last.data.scopes)).toEqual(new Set(['openid', 'email', 'profile']));
  });

  it('an event the contract rejects never reaches the log', async () => {
    const command = {
      type: 'start_session' as const,
      sessionId: crypto.randomUUID(),
      sub: 'sub-1',
      secretHash: 'a'.repeat(64),
      authTime: 1,
      acr: '0',
      amr: [], // contracts/events/session.ts requires at least one method
      expiresAt: new Date().toISOString(),
    };
    await expect(
      handleCommand(
        { store, service: 'authn' },
        { streamName: `session-acme-${command.sessionId}`, decider: sessionDecider, schema: SessionEvent, command, ctx },
      ),
    ).rejects.toThrow();
    expect(await store.readAll()).toEqual([]);
  });

  it('writes its own projections through, so the next read sees them at once', async () => {
    const projections = new InMemoryProjectionStore();
    await handleCommand(
      { store, service: 'authn', projections: { store: projections, project: authnProjections, checkpoint: 'authn' } },
      { streamName: stream, decider: consentDecider, schema: ConsentEvent, command: grant(['openid']), ctx },
    );
    expect(await projections.get(keys.consent('acme', 'sub-1', 'client-1'))).toEqual(['openid']);
    // A write-through leaves the checkpoint to the projector, which will apply the event too.
    expect(await projections.checkpoint('authn')).toBe(0);
  });

  it('answers temporarily_unavailable (503) when the store cannot say whether the append was stored', async () => {
    const unavailable = Object.create(store) as InMemoryEventStore;
    unavailable.append = async () => {
      throw new EventStoreUnavailableError('no answer from the log');
    };
    const error = await handleCommand(
      { store: unavailable, service: 'authn' },
      { streamName: stream, decider: consentDecider, schema: ConsentEvent, command: grant(['openid']), ctx },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
  });

  it("refuses to append to another service's aggregate: nothing is read or appended", async () => {
    // The consent aggregate is authn's (contracts/streams.ts STREAM_OWNERS).
    const error = await handleCommand(
      { store, service: 'token-issuer' },
      { streamName: stream, decider: consentDecider, schema: ConsentEvent, command: grant(['openid']), ctx },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotStreamOwnerError);
    expect(error).toMatchObject({ service: 'token-issuer', owner: 'authn', streamName: stream });
    expect((await store.readStream(stream)).events).toHaveLength(0);
    expect(await store.readAll({ after: 0, limit: 10 })).toHaveLength(0);
  });

  it('refuses a stream no aggregate writes (no owner), appending nothing', async () => {
    for (const streamName of ['ledger-acme-1', 'not a stream name']) {
      const error = await handleCommand(
        { store, service: 'authn' },
        { streamName, decider: consentDecider, schema: ConsentEvent, command: grant(['openid']), ctx },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotStreamOwnerError);
      expect(error).toMatchObject({ owner: null });
    }
    expect(await store.readAll({ after: 0, limit: 10 })).toHaveLength(0);
  });
});
