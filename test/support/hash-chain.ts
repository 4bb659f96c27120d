import { v7 } from 'uuid';
import { ConsentEvent } from '../../contracts/events/consent.js';
import type { EventMetadata, RequestContext } from '../../contracts/events/metadata.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../infra/event-store/port.js';
import { consentDecider } from '../../services/authn/domain/consent/consent.js';
import { handleCommand } from '../../services/shared/app/command-handler.js';
import { eventHash } from '../../services/shared/app/event-hash.js';

/** Fixtures for the hash chain tests (DESIGN §4): consent streams, written both ways. */

export const ctxFor = (tenant: string): RequestContext => ({
  tenant,
  correlationId: `corr-${tenant}`,
  causationId: null,
  actor: { kind: 'user', id: 'sub-1' },
});

export const consentStream = (tenant: string, sub: string) => `consent-${tenant}-${sub}.client-1`;

/** One decision of the real command handler: a consent to `scopes`, in version 2 as written today. */
export async function grantConsent(
  store: EventStore,
  streamName: string,
  scopes: string[],
  ctx: RequestContext = ctxFor('acme'),
): Promise<RecordedEvent[]> {
  const { appended } = await handleCommand(
    { store, service: 'authn' },
    {
      streamName,
      decider: consentDecider,
      schema: ConsentEvent,
      command: { type: 'grant_consent', sub: 'sub-1', clientId: 'client-1', scopes },
      ctx,
    },
  );
  if (appended.length === 0) throw new Error(`consent to ${scopes.join(' ')} appended nothing`);
  return appended;
}

/**
 * Appends `consent.granted` events hashed the way the command handler did before hash version 2:
 * no `hashVersion`, the first event chained to null, `eventHash` over the event alone.
 */
export async function appendV1Consents(
  store: EventStore,
  streamName: string,
  tenant: string,
  grants: string[][],
): Promise<RecordedEvent[]> {
  const { events, version } = await store.readStream(streamName);
  let previousHash = events.at(-1)?.hash ?? null;
  const newEvents: NewEvent[] = grants.map((scopes) => {
    const metadata: EventMetadata = {
      eventId: v7(),
      time: new Date().toISOString(),
      tenant,
      correlationId: `corr-${tenant}`,
      causationId: null,
      actor: { kind: 'user', id: 'sub-1' },
      service: 'authn',
      previousHash,
    };
    const body = { type: 'consent.granted', schemaVersion: 1, data: { sub: 'sub-1', clientId: 'client-1', scopes }, metadata };
    const hash = eventHash(body);
    previousHash = hash;
    return { ...body, hash };
  });
  return (await store.append(streamName, newEvents, version ?? 'no_stream')).events;
}

/** Exactly what was stored, for appending it again elsewhere. */
export const verbatim = (event: RecordedEvent): NewEvent => ({
  type: event.type,
  schemaVersion: event.schemaVersion,
  data: event.data,
  metadata: event.metadata,
  hash: event.hash,
});

/**
 * Three streams of two tenants, two to three events each, all through the command handler:
 * `consent-acme-alice…` (3), `consent-acme-bob…` (2), `consent-other-alice…` (2).
 */
export async function writeLog(store: EventStore): Promise<{ alice: string; bob: string; otherAlice: string }> {
  const alice = consentStream('acme', 'alice');
  const bob = consentStream('acme', 'bob');
  const otherAlice = consentStream('other', 'alice');
  await grantConsent(store, alice, ['openid']);
  await grantConsent(store, bob, ['openid']);
  await grantConsent(store, otherAlice, ['openid'], ctxFor('other'));
  await grantConsent(store, alice, ['email']);
  await grantConsent(store, bob, ['profile']);
  await grantConsent(store, alice, ['phone']);
  await grantConsent(store, otherAlice, ['email'], ctxFor('other'));
  return { alice, bob, otherAlice };
}
