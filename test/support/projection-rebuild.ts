import { EventMetadata } from '../../contracts/events/metadata.js';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import { InMemoryProjectionStore } from '../../infra/projections/memory.js';
import type { ProjectionWrite } from '../../infra/projections/port.js';
import type { RedisBackend } from '../../infra/projections/redis-acl.js';
import { AUTHN_CHECKPOINT, authnProjections } from '../../services/authn/projections/authn.projections.js';
import { CLIENT_REGISTRY_CHECKPOINT, clientRegistryProjections } from '../../services/client-registry/projections/client-by-id.js';
import { BACKCHANNEL_LOGOUT_CHECKPOINT } from '../../services/token-issuer/app/backchannel-logout/sender.js';
import { addParticipant } from '../../services/token-issuer/app/backchannel-logout/participants.js';
import { TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections } from '../../services/token-issuer/projections/token-issuer.projections.js';

/**
 * Every projection the distributed services keep in Redis, by checkpoint and by the service whose
 * namespace holds it (`idp:proj:<service>:`): what a rebuild from the log replays. The back-channel
 * logout sender's list of a session's clients is a projection of the log too (participants.ts),
 * kept by the token-issuer beside the others.
 */
export const PROJECTIONS: Array<{ service: RedisBackend; checkpoint: string; project: (event: RecordedEvent) => ProjectionWrite[] }> = [
  { service: 'authn', checkpoint: AUTHN_CHECKPOINT, project: authnProjections },
  { service: 'client-registry', checkpoint: CLIENT_REGISTRY_CHECKPOINT, project: clientRegistryProjections },
  { service: 'token-issuer', checkpoint: TOKEN_ISSUER_CHECKPOINT, project: tokenIssuerProjections },
];

/**
 * Builds from `log` into a fresh in-memory store, as the projectors do, the projections of one
 * service's namespace (or, without `service`, all of them in one store, as the embedded mode has them).
 */
export async function rebuildProjections(log: RecordedEvent[], service?: RedisBackend): Promise<InMemoryProjectionStore> {
  const store = new InMemoryProjectionStore();
  const projections = PROJECTIONS.filter((p) => service === undefined || p.service === service);
  for (const event of log) {
    for (const { checkpoint, project } of projections) await store.apply(project(event), event.position, { name: checkpoint });
    if (service !== undefined && service !== 'token-issuer') continue;
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
