import { EventMetadata } from '../../contracts/events/metadata.js';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionWrite } from '../../infra/projections/port.js';
import { AUTHN_CHECKPOINT, authnProjections } from '../../services/authn/projections/authn.projections.js';
import { CLIENT_REGISTRY_CHECKPOINT, clientRegistryProjections } from '../../services/client-registry/projections/client-by-id.js';
import { BACKCHANNEL_LOGOUT_CHECKPOINT } from '../../services/token-issuer/app/backchannel-logout/sender.js';
import { addParticipant } from '../../services/token-issuer/app/backchannel-logout/participants.js';
import { TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections } from '../../services/token-issuer/projections/token-issuer.projections.js';

/**
 * Every projection the distributed services keep in Redis, by checkpoint: what a rebuild from the
 * log replays. The back-channel logout sender's list of a session's clients is a projection of
 * the log too (participants.ts), kept by the token-issuer beside the others.
 */
export const PROJECTIONS: Array<{ checkpoint: string; project: (event: RecordedEvent) => ProjectionWrite[] }> = [
  { checkpoint: AUTHN_CHECKPOINT, project: authnProjections },
  { checkpoint: CLIENT_REGISTRY_CHECKPOINT, project: clientRegistryProjections },
  { checkpoint: TOKEN_ISSUER_CHECKPOINT, project: tokenIssuerProjections },
];

/** Builds every projection from `log` into a fresh in-memory store, as the projectors do. */
export async function rebuildProjections(log: RecordedEvent[]): Promise<InMemoryProjectionStore> {
  const store = new InMemoryProjectionStore();
  for (const event of log) {
    for (const { checkpoint, project } of PROJECTIONS) await store.apply(project(event), event.position, { name: checkpoint });
    if (event.type === 'authorization_code.issued' || event.type === 'implicit.granted') {
      const data = event.data as { sessionId: string; clientId: string };
      const meta = EventMetadata.parse(event.metadata);
      await addParticipant(store, BACKCHANNEL_LOGOUT_CHECKPOINT, {
        tenant: meta.tenant,
        sessionId: data.sessionId,
        clientId: data.clientId,
        position: event.position,
        time: Date.parse(meta.time),
      });
    }
  }
  return store;
}
